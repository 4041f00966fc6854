"""Build documents for tests the way the pipeline would, without a crawl."""

from __future__ import annotations

import gzip
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from index.store import Store
from mediawatch.config import ReviewSettings
from mediawatch.model import (
    Classification,
    Document,
    ReviewCommand,
    ReviewOutcome,
    RiskReason,
    Sentiment,
    SourceTier,
    TopicMatch,
    utc_now,
)
from mediawatch.normalise import normalise_document
from tests.conftest import shared_path


def make_document(
    url: str,
    title: str,
    text: str,
    *,
    risk: float = 0.1,
    topics: tuple[str, ...] = (),
    sentiment: Sentiment = Sentiment.NEUTRAL,
    published_at: datetime | None = None,
    source_id: str = "test-source",
    tier: SourceTier = SourceTier.PRESS,
) -> Document:
    document = normalise_document(
        Document(
            id="web:pending",
            url=url,
            source_id=source_id,
            source_tier=tier,
            title=title,
            text=text,
            published_at=published_at,
            fetched_at=utc_now(),
        )
    )
    return document.model_copy(
        update={
            "classification": Classification(
                topics=[TopicMatch(id=t, label_vi=t, evidence=[]) for t in topics],
                sentiment=sentiment,
                sentiment_scores={sentiment.value: 1.0},
                unreliable_probability=risk,
                risk=risk,
                reasons=[RiskReason(code="model_unreliable", label_vi="x", weight=risk)],
            )
        }
    )


def small_labelled_data(directory: Path, datasets: tuple[str, ...], per_set: int) -> Path:
    """The first ``per_set`` training rows of each shared data set, in the same layout: a
    task's data small enough to train on in seconds."""
    for name in datasets:
        (directory / name).mkdir(parents=True)
        with gzip.open(shared_path(f"data/{name}/train.jsonl.gz"), "rt", encoding="utf-8") as rows:
            kept = "".join(islice(rows, per_set))
        (directory / name / "train.jsonl").write_text(kept, encoding="utf-8")
    return directory


def review(
    store: Store,
    item_id: str,
    action: str,
    reviewer: str = "reviewer1",
    *,
    now: datetime | None = None,
    override: bool = False,
    **fields: Any,
) -> Document:
    """One workflow step with the default review settings, as a reviewer would send it."""
    command = ReviewCommand(action=action, **fields)
    return store.apply_review(item_id, command, reviewer, ReviewSettings(), override, now)


def decide(
    store: Store, item_id: str, outcome: ReviewOutcome, reviewer: str = "reviewer1", **fields: Any
) -> Document:
    return review(store, item_id, "decide", reviewer, outcome=outcome, **fields)
