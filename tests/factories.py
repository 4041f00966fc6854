"""Build documents for tests the way the pipeline would, without a crawl."""

from __future__ import annotations

from datetime import datetime

from mediawatch.model import (
    Classification,
    Document,
    RiskReason,
    Sentiment,
    SourceTier,
    TopicMatch,
    utc_now,
)
from mediawatch.normalise import normalise_document


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
