"""The shared vocabulary: what a source, a document, a classification and a review are."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("datetime must carry a time zone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SourceTier(StrEnum):
    """How much a source is trusted before anything is read: it weighs on the risk score."""

    OFFICIAL = "official"
    PRESS = "press"
    SOCIAL = "social"
    UNKNOWN = "unknown"


class SourceKind(StrEnum):
    FEED = "feed"


class Source(BaseModel):
    """One entry of the source registry (config/sources.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    name: str = Field(min_length=1)
    kind: SourceKind
    url: HttpUrl
    tier: SourceTier
    schedule: str = "every 30m"
    enabled: bool = True
    language: str = "vi"


class TopicMatch(BaseModel):
    id: str
    label_vi: str
    evidence: list[str] = Field(default_factory=list, description="Phrases found in the text")


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class RiskReason(BaseModel):
    """One reason behind a risk score, written for the reviewer, with what it rests on."""

    code: str
    label_vi: str
    weight: float = Field(ge=0, le=1, description="This reason's share of the risk score")
    evidence: list[str] = Field(default_factory=list)


class Classification(BaseModel):
    topics: list[TopicMatch] = Field(default_factory=list)
    sentiment: Sentiment
    sentiment_scores: dict[str, float]
    unreliable_probability: float = Field(ge=0, le=1)
    risk: float = Field(ge=0, le=1)
    reasons: list[RiskReason] = Field(default_factory=list)
    model_versions: dict[str, str] = Field(default_factory=dict)


class ReviewState(StrEnum):
    NEW = "new"
    DECIDED = "decided"


class ReviewOutcome(StrEnum):
    FALSE = "false"
    MISLEADING = "misleading"
    UNVERIFIED = "unverified"
    ACCURATE = "accurate"
    NOT_RELEVANT = "not_relevant"


class Review(BaseModel):
    """Where an item stands with the people who decide; ``version`` guards concurrent edits."""

    state: ReviewState = ReviewState.NEW
    outcome: ReviewOutcome | None = None
    reviewer: str | None = None
    decided_at: UtcDatetime | None = None
    note: str | None = None
    version: int = 0


class ReviewDecision(BaseModel):
    """What a reviewer submits."""

    model_config = ConfigDict(extra="forbid")

    outcome: ReviewOutcome
    note: str | None = Field(default=None, max_length=4000)
    expected_version: int | None = Field(
        default=None, ge=0, description="Refuse the decision if someone changed the item since"
    )


class Document(BaseModel):
    """One item on its way through the pipeline; later stages fill the later fields."""

    id: str
    url: str
    source_id: str
    source_tier: SourceTier
    title: str
    text: str
    authors: list[str] = Field(default_factory=list)
    published_at: UtcDatetime | None = None
    fetched_at: UtcDatetime
    extractor: str = "unknown"
    language: str | None = None
    text_folded: str | None = None
    title_folded: str | None = None
    content_hash: str | None = None
    duplicate_of: str | None = None
    classification: Classification | None = None
    review: Review = Field(default_factory=Review)

    @property
    def event_time(self) -> datetime:
        """When the item happened for trends and ordering: its date, else when we saw it."""
        return self.published_at or self.fetched_at


SortOrder = Literal["relevance", "newest", "risk"]
