"""The written Lâm Đồng test side through the product: register, pipeline, store, queue.

The test side's claims are registered as judged false, then its items are ingested with their
source tiers through ``Pipeline.ingest`` into a fresh SQLite store, as the crawler or
``POST /api/ingest`` would. An item reaches the queue when its stored risk reaches
``review_threshold`` or it matches a claim (linked or suggested), the queue's own rule. Printed
beside it, from the same stored items: the queue by risk alone, and by the reliability model's
probability alone at the same threshold (the plain baseline).

    python -m bench.heldout_pipeline [--written tests/data/heldout]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from classifier.claims_evaluation import read_register
from classifier.risk_evaluation import read_risk_items
from classifier.service import Classifier
from index.claims import ClaimDraft, Verdict
from index.sqlite import SQLiteStore
from mediawatch.config import Settings
from mediawatch.model import ClaimLinkStatus, Document, utc_now
from mediawatch.normalise import normalise_document
from mediawatch.pipeline import Pipeline


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--written", type=Path, default=Path("tests/data/heldout"))
    args = parser.parse_args()
    claims_path = args.written / "lamdong_claims.test.jsonl"
    data_path = args.written / "lamdong.test.jsonl"
    claims, labelled = read_register(claims_path, data_path)
    items = read_risk_items(data_path)
    with tempfile.TemporaryDirectory(prefix="mediawatch-heldout-") as folder:
        settings = Settings(data_dir=Path(folder))
        store = SQLiteStore(settings.database_path)
        pipeline = Pipeline(store, Classifier.load(), settings)
        registered = {
            claim_id: pipeline.claims.register.create(
                ClaimDraft(statement=statement, verdict=Verdict.FALSE), by="bench"
            )[0].id
            for claim_id, statement in claims.items()
        }
        now = utc_now()
        documents = [
            normalise_document(
                Document(
                    id="web:pending",
                    url=f"https://heldout.example/{item.id or item.line}",
                    source_id="heldout",
                    source_tier=item.tier,
                    title=item.title,
                    text=item.text,
                    fetched_at=now,
                )
            )
            for item in items
        ]
        pipeline.ingest(documents)
        stored = [store.get(document.id) for document in documents]
    threshold = settings.review_threshold
    counts = dict.fromkeys(("queue", "risk", "model"), 0)
    wrong = dict.fromkeys(("queue", "risk", "model"), 0)
    linked = surfaced = false_links = 0
    for item, claim_item, document in zip(items, labelled, stored, strict=True):
        classification = document.classification
        entered = {
            "queue": classification.risk >= threshold or bool(document.claim_matches),
            "risk": classification.risk >= threshold,
            "model": classification.unreliable_probability >= threshold,
        }
        for name, queued in entered.items():
            if item.flag:
                counts[name] += queued
            else:
                wrong[name] += queued
        own = registered.get(claim_item.claim_id or "")
        for match in document.claim_matches:
            if match.status is ClaimLinkStatus.LINKED and match.claim_id != own:
                false_links += 1
            if match.claim_id == own:
                surfaced += 1
                linked += match.status is ClaimLinkStatus.LINKED
    flagged = sum(item.flag for item in items)
    repeats = sum(bool(item.claim_id) for item in labelled)
    print(
        f"{data_path}: {len(items)} items, {flagged} to flag, {repeats} repeats, threshold "
        f"{threshold}"
    )
    print(f"{'queue':<44} {'recall':>16} {'false-flag rate':>18}")
    for name, label in (
        ("queue", "the queue (risk or a claim match)"),
        ("risk", "risk alone"),
        ("model", "baseline: reliability model alone"),
    ):
        print(
            f"{label:<44} {_rate(counts[name], flagged):>16} "
            f"{_rate(wrong[name], len(items) - flagged):>18}"
        )
    print(
        f"repeats linked {_rate(linked, repeats)}, linked or suggested "
        f"{_rate(surfaced, repeats)}, links to a claim the text does not repeat: {false_links}"
    )


if __name__ == "__main__":
    main()
