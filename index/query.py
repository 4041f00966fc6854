"""The query model shared by every backend and by the API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mediawatch.model import Document, ReviewState, Sentiment, SortOrder, UtcDatetime

MAX_PAGE = 100
MAX_OFFSET = 10_000


class SearchQuery(BaseModel):
    """What to find; every filter is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=500)
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    topics: list[str] = Field(default_factory=list)
    sentiments: list[Sentiment] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)
    min_risk: float | None = Field(default=None, ge=0, le=1)
    review_state: ReviewState | None = None
    include_duplicates: bool = True
    sort: SortOrder = "newest"
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)

    @model_validator(mode="after")
    def _check_range(self) -> SearchQuery:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("'since' must be earlier than 'until'")
        return self


class SearchHit(BaseModel):
    document: Document
    snippet: str = Field(description="HTML-escaped excerpt; matched words wrapped in <mark>")


class SearchPage(BaseModel):
    total: int = Field(description="Items matching the query; the same filters as the hits")
    limit: int
    offset: int
    hits: list[SearchHit]


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
