"""Which shingles and threshold tell "the same text, lightly edited" from "another article".

Pairs are built from real press articles (../shared/data/vntc, dev split): an article against
an edited copy (words replaced, sentences dropped, added and swapped, sometimes without
diacritics) is a positive; two different articles of the same topic, and two that share a
25-word opening and nothing else, are negatives. Prints exact Jaccard ranges per scheme and
MinHash-estimated precision/recall per threshold.

    python -m bench.stories_params
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections import defaultdict
from pathlib import Path

from datasketch import MinHash

from mediawatch.stories import NUM_PERM, SCHEME, SEED
from mediawatch.text import collapse, fold

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "vntc" / "dev.jsonl.gz"
EDITS = {"light": (0.05, 1), "medium": (0.15, 2), "heavy": (0.30, 4)}


def load_articles(limit: int = 600) -> list[tuple[str, str]]:
    articles = []
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            words = row["text"].split()
            if len(words) >= 150:
                articles.append((row["label"], " ".join(words[:300])))
            if len(articles) == limit:
                break
    return articles


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def edit(text: str, other: str, level: str, rng: random.Random) -> str:
    """A copy "with small edits": words replaced, sentences dropped/added/swapped."""
    rate, moves = EDITS[level]
    vocabulary = other.split()
    words = [rng.choice(vocabulary) if rng.random() < rate else w for w in text.split()]
    parts = sentences(" ".join(words))
    extra = sentences(other)
    for _ in range(moves):
        if len(parts) > 3:
            parts.pop(rng.randrange(len(parts)))
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(extra))
        i, j = rng.randrange(len(parts)), rng.randrange(len(parts))
        parts[i], parts[j] = parts[j], parts[i]
    copy = " ".join(parts)
    return fold(copy) if rng.random() < 0.3 else copy


def word_grams(text: str, n: int = 3) -> set[str]:
    words = collapse(text).split()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def char_grams(text: str, n: int = 5) -> set[str]:
    joined = collapse(text)
    return {joined[i : i + n] for i in range(len(joined) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def minhash(grams: set[str]) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    m.update_batch([g.encode() for g in grams])
    return m


def main() -> None:
    rng = random.Random(13)
    articles = load_articles()
    by_topic: dict[str, list[str]] = defaultdict(list)
    for label, text in articles:
        by_topic[label].append(text)
    pairs: list[tuple[str, str, str]] = []  # (kind, a, b)
    for i, (_label, text) in enumerate(articles[:300]):
        other = articles[(i + 7) % len(articles)][1]
        for level in EDITS:
            pairs.append((level, text, edit(text, other, level, rng)))
    for texts in by_topic.values():
        for a, b in zip(texts[:-1:2], texts[1::2], strict=False):
            pairs.append(("same-topic", a, b))
            opening = " ".join(a.split()[:25])
            pairs.append(("shared-opening", a, f"{opening} {' '.join(b.split()[25:])}"))
    print(f"{len(articles)} articles, {len(pairs)} pairs")
    for name, grams in (("word 3-grams", word_grams), ("char 5-grams", char_grams)):
        scored = defaultdict(list)
        for kind, a, b in pairs:
            ga, gb = grams(a), grams(b)
            scored[kind].append((jaccard(ga, gb), minhash(ga).jaccard(minhash(gb))))
        print(f"\n{name}: exact Jaccard min / median / max per kind")
        for kind, values in scored.items():
            exact = sorted(v[0] for v in values)
            print(
                f"  {kind:15} n={len(exact):4} {exact[0]:.3f} / {exact[len(exact) // 2]:.3f}"
                f" / {exact[-1]:.3f}"
            )
        print("  threshold  recall(light) recall(medium) recall(heavy)  false links (of negatives)")
        negatives = scored["same-topic"] + scored["shared-opening"]
        for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            recall = {
                level: sum(est >= threshold for _j, est in scored[level]) / len(scored[level])
                for level in EDITS
            }
            false = sum(est >= threshold for _j, est in negatives)
            print(
                f"  {threshold:.1f}        {recall['light']:.3f}         {recall['medium']:.3f}"
                f"          {recall['heavy']:.3f}          {false}/{len(negatives)}"
            )


if __name__ == "__main__":
    main()
