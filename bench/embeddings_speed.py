"""What a semantic similarity costs beside the lexical one: sentence vectors per second for
1,000 typical posts of 60 words, against the folded bigram set claim matching builds today.

Posts are real social posts (../shared/data/reintel, train split) cut to 60 words. The
sentence vector is timed from the matching form (which claim matching already has) and from
the raw text; the first pass starts with an empty cache of out-of-vocabulary words.

    python -m bench.embeddings_speed
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from classifier.claim_matching import bigrams, matching_form
from classifier.embeddings import WordVectors
from classifier.labelled_data import iter_jsonl
from classifier.registry import SHIPPED_MODELS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reintel"
POSTS = 1000
WORDS = 60


def posts(count: int = POSTS, words: int = WORDS) -> list[str]:
    texts = []
    for _number, row in iter_jsonl(DATA / "train.jsonl.gz"):
        split = str(row["text"]).split()
        if len(split) >= words:
            texts.append(" ".join(split[:words]))
        if len(texts) == count:
            break
    return texts


def per_second(function: Callable[[str], object], inputs: list[str]) -> float:
    started = time.perf_counter()
    for value in inputs:
        function(value)
    return len(inputs) / (time.perf_counter() - started)


@dataclass(frozen=True)
class Speeds:
    """Texts per second of each way, and the vectors' load time."""

    load_ms: float
    form_first_pass: float
    form_again: float
    from_text: float
    baseline: float


def measure(texts: list[str]) -> Speeds:
    started = time.perf_counter()
    vectors = WordVectors.load(SHIPPED_MODELS)
    load_ms = (time.perf_counter() - started) * 1000
    forms = [matching_form(text) for text in texts]
    return Speeds(
        load_ms=load_ms,
        form_first_pass=per_second(vectors.sentence, forms),
        form_again=per_second(vectors.sentence, forms),
        from_text=per_second(lambda text: vectors.sentence(matching_form(text)), texts),
        baseline=per_second(lambda text: bigrams(matching_form(text)), texts),
    )


def main() -> None:
    texts = posts()
    speeds = measure(texts)
    print(f"{len(texts)} posts of {WORDS} words; vectors loaded in {speeds.load_ms:.0f} ms")
    print(f"sentence vector from the form, first pass: {speeds.form_first_pass:,.0f}/s")
    print(f"sentence vector from the form, again:      {speeds.form_again:,.0f}/s")
    print(f"sentence vector from the text:             {speeds.from_text:,.0f}/s")
    print(f"baseline, folded bigram set from the text: {speeds.baseline:,.0f}/s")
    ratio = speeds.baseline / speeds.from_text
    print(f"sentence vector from the text costs {ratio:.2f}x the baseline")


if __name__ == "__main__":
    main()
