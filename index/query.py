"""The query model shared by every backend and by the API."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mediawatch.model import (
    Document,
    ReviewOutcome,
    ReviewState,
    Sentiment,
    SortOrder,
    SourceTier,
    UtcDatetime,
)

MAX_PAGE = 100
MAX_FILTER_VALUES = 100  # values per list filter: what one query line may carry
MAX_OFFSET = 10_000


CURSOR_START = "*"


class Cursor(BaseModel):
    """Where a walk stands: the last hit's sort values, and the backend's snapshot if any."""

    after: list[str | int | float]
    snapshot: str | None = None


def encode_cursor(cursor: Cursor) -> str:
    return base64.urlsafe_b64encode(cursor.model_dump_json().encode()).decode()


def decode_cursor(token: str) -> Cursor:
    try:
        return Cursor.model_validate_json(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error) as error:
        raise ValueError("cursor is not one this server issued") from error


class SearchQuery(BaseModel):
    """What to find; every filter is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=500)
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    topics: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    sentiments: list[Sentiment] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    min_risk: float | None = Field(default=None, ge=0, le=1)
    review_state: ReviewState | None = None
    review_outcomes: list[ReviewOutcome] = Field(
        default_factory=list, description="Decided items with any of these outcomes"
    )
    include_duplicates: bool = True
    sort: SortOrder = "newest"
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    cursor: str | None = Field(
        default=None,
        # An Elasticsearch snapshot id grows with the number of indices (a few hundred
        # characters each); the bound keeps the request line under the server's 16 KiB.
        max_length=12_000,
        pattern=r"^(\*|[A-Za-z0-9_=-]+)$",
        description='Deep paging: "*" starts a walk (sort newest or risk), then pass each '
        "page's next_cursor; no offset limit, no item skipped or repeated",
    )

    @model_validator(mode="after")
    def _check_range(self) -> SearchQuery:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("'since' must be earlier than 'until'")
        if self.cursor is not None:
            if self.sort == "relevance":
                raise ValueError("cursor paging needs sort 'newest' or 'risk'")
            if self.offset:
                raise ValueError("use either offset or cursor, not both")
        return self


class SearchHit(BaseModel):
    document: Document
    snippet: str = Field(description="HTML-escaped excerpt; matched words wrapped in <mark>")


class SearchPage(BaseModel):
    total: int = Field(description="Items matching the query; the same filters as the hits")
    limit: int
    offset: int
    hits: list[SearchHit]
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor for the next page; absent on the last one"
    )


class DayCount(BaseModel):
    day: date = Field(description="Calendar day in the display time zone")
    key: str
    count: int


class Trends(BaseModel):
    since: UtcDatetime
    until: UtcDatetime
    total_per_day: list[DayCount]
    by_topic: list[DayCount]
    by_sentiment: list[DayCount]


class QueueQuery(BaseModel):
    """Which part of the review queue to show; filters combine with AND."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=0.5, ge=0, le=1, description="Risk that enters the queue")
    states: list[ReviewState] = Field(
        default_factory=lambda: [ReviewState.NEW, ReviewState.IN_REVIEW],
        description="Open states by default",
    )
    topics: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    places: list[str] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Gazetteer ids"
    )
    source_ids: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    assignee: str | None = Field(default=None, max_length=200)
    overdue: bool = Field(default=False, description="Only items past their target time")
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class QueueStats(BaseModel):
    by_state: dict[ReviewState, int] = Field(description="Queue items per review state")
    overdue: dict[ReviewState, int] = Field(description="Past their target time, per state")
    oldest_waiting: UtcDatetime | None = Field(
        default=None, description="First seen time of the longest-waiting open item"
    )


TrendDimension = Literal["topic", "sentiment", "place", "tier", "source"]
TrendInterval = Literal["day", "hour"]
MAX_TREND_BUCKETS = 24 * 92  # hourly over a quarter, daily over six years


class TrendQuery(BaseModel):
    """Items over time, split by one dimension; filters combine with AND like SearchQuery's."""

    model_config = ConfigDict(extra="forbid")

    since: UtcDatetime = Field(description="Items whose event time is at or after this")
    until: UtcDatetime = Field(description="…and before this")
    interval: TrendInterval = Field(
        default="day", description="Buckets start on local days or hours (display time zone)"
    )
    dimension: TrendDimension = Field(default="topic", description="What each count splits by")
    topics: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    places: list[str] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="Gazetteer ids, e.g. tp-da-lat",
    )
    source_ids: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    tiers: list[SourceTier] = Field(default_factory=list)
    sentiments: list[Sentiment] = Field(default_factory=list)
    text: str | None = Field(
        default=None, max_length=500, description='Folded words or "phrases" that must occur'
    )

    @model_validator(mode="after")
    def _check_range(self) -> TrendQuery:
        if self.since >= self.until:
            raise ValueError("'since' must be earlier than 'until'")
        step = timedelta(hours=1) if self.interval == "hour" else timedelta(days=1)
        if (self.until - self.since) / step > MAX_TREND_BUCKETS:
            raise ValueError(f"at most {MAX_TREND_BUCKETS} {self.interval} buckets per query")
        return self

    def scoped(self, **changes: object) -> TrendQuery:
        """The same filters over another window, interval or dimension."""
        return self.model_validate(self.model_dump() | changes)


class TrendBucket(BaseModel):
    start: datetime = Field(description="Start of the day or hour, in the display time zone")
    key: str
    count: int


class StorySummary(BaseModel):
    """A story (near-duplicates of one text) as seen within a trend query's window."""

    story_id: str
    items: int
    sources: int
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    title: str = Field(description="Title of the story's first item in the window")


class Share(BaseModel):
    key: str
    count: int
    fraction: float = Field(ge=0, le=1)


def shares(buckets: list[TrendBucket]) -> list[Share]:
    """Each key's part of the whole (e.g. sentiment share), largest first."""
    totals: dict[str, int] = {}
    for bucket in buckets:
        totals[bucket.key] = totals.get(bucket.key, 0) + bucket.count
    whole = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [Share(key=key, count=n, fraction=n / whole if whole else 0.0) for key, n in ranked]
