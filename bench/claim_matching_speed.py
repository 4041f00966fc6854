"""Claim matching speed: items per second against a register of 3,000 claims, on one core.

Claims are real sentences (the first sentence of VNTC dev articles, cut to 40 words, like a
fact-checker's statement); items are real social posts (ReINTEL train). The matcher is timed
with ``ClaimMatcher.match`` as the pipeline calls it; the baseline beside it, in the same
run, is the plain lexical rule of the evaluation (``claims_evaluation.LexicalBaseline``: folded
word bigrams, every claim compared). Both are single-threaded (BLAS limited to one thread
before numpy loads).

    python -m bench.claim_matching_speed [--data-dir ../shared/data] [--claims 3000] [--items 2000]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402 - the thread limits must precede numpy's import
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from classifier.claim_matching import ClaimMatcher  # noqa: E402
from classifier.claims_evaluation import LexicalBaseline  # noqa: E402
from classifier.labelled_data import read_jsonl  # noqa: E402
from mediawatch.config import ClaimSettings  # noqa: E402

_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def _claims(data_dir: Path, count: int) -> dict[str, str]:
    claims: dict[str, str] = {}
    for split in ("dev", "train"):
        for row in read_jsonl(data_dir / "vntc" / f"{split}.jsonl.gz"):
            body = row["text"].split("\n", 1)[-1]
            first = _SENTENCE_END.split(body, maxsplit=1)[0]
            words = first.split()[:40]
            if len(words) >= 8:
                claims[f"c{len(claims)}"] = " ".join(words)
            if len(claims) == count:
                return claims
    return claims


def _items(data_dir: Path, count: int) -> list[str]:
    rows = read_jsonl(data_dir / "reintel" / "train.jsonl.gz")
    return [row["text"] for row in rows[:count]]


def _rate(match: object, items: list[str]) -> float:
    start = time.perf_counter()
    for text in items:
        match(text)  # type: ignore[operator]
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--claims", type=int, default=3000)
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    claims = _claims(args.data_dir, args.claims)
    items = _items(args.data_dir, args.items)
    started = time.perf_counter()
    matcher = ClaimMatcher({k: [v] for k, v in claims.items()}, ClaimSettings())
    built = time.perf_counter() - started
    baseline = LexicalBaseline(claims)
    ours = _rate(matcher.match, items)
    plain = _rate(baseline.match, items)
    words = sum(len(text.split()) for text in items) / len(items)
    print(f"{len(claims)} claims, {len(items)} posts (mean {words:.0f} words), one thread")
    print(f"register built in {built:.1f} s")
    print(f"{'matcher (this tree)':<34} {ours:>8.0f} items/s")
    print(f"{'baseline (plain bigram rule)':<34} {plain:>8.0f} items/s")
    print(f"{'ratio matcher / baseline':<34} {ours / plain:>8.2f}")


if __name__ == "__main__":
    main()
