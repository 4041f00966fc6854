"""Score items with whichever tree is first on PYTHONPATH: this one, or an older release's.

Run by ``bench/heldout.py`` as a subprocess with ``PYTHONPATH`` set to the tree to measure, so
it uses only what every release since 7f68b56 has: ``Classifier.load()`` (the shipped models),
``ItemToClassify(title, text, tier)``, ``classify_batch``, and
``ClaimMatcher({id: [statement]}, ClaimSettings()).match(text)``. It computes no metric: the
current tree's evaluation functions do, on what it prints.

    python bench/score_items.py risk ITEMS.jsonl            # lines {title, text, source_tier}
    python bench/score_items.py claims CLAIMS.json ITEMS.jsonl  # {id: statement}; lines {text}

The first line of output names the tree imported (``{"tree": …}``); then one JSON line per
item: ``{risk, unreliable_probability}``, or ``{links: [{claim_id, status, similarity}]}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BATCH = 256


def _lines(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _print(row: dict) -> None:
    sys.stdout.write(json.dumps(row) + "\n")


def score_risk(items_path: str) -> None:
    from classifier.service import Classifier, ItemToClassify
    from mediawatch.model import SourceTier

    classifier = Classifier.load()
    items = [
        ItemToClassify(row.get("title") or "", row["text"], SourceTier(row["source_tier"]))
        for row in _lines(items_path)
    ]
    for start in range(0, len(items), BATCH):
        for result in classifier.classify_batch(items[start : start + BATCH]):
            _print({"risk": result.risk, "unreliable_probability": result.unreliable_probability})


def score_claims(claims_path: str, items_path: str) -> None:
    from classifier.claim_matching import ClaimMatcher
    from mediawatch.config import ClaimSettings

    with open(claims_path, encoding="utf-8") as handle:
        claims = json.load(handle)
    matcher = ClaimMatcher({claim_id: [text] for claim_id, text in claims.items()}, ClaimSettings())
    for row in _lines(items_path):
        links = matcher.match(row["text"])
        _print(
            {
                "links": [
                    {
                        "claim_id": link.claim_id,
                        "status": str(link.status.value),
                        "similarity": link.similarity,
                    }
                    for link in links
                ]
            }
        )


def main(argv: list[str]) -> None:
    import classifier

    _print({"tree": str(Path(classifier.__file__).resolve().parents[1])})
    if argv[:1] == ["risk"] and len(argv) == 2:
        score_risk(argv[1])
    elif argv[:1] == ["claims"] and len(argv) == 3:
        score_claims(argv[1], argv[2])
    else:
        sys.exit(f"usage: {__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])
