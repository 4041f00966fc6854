"""One definition of an item that arrives without a crawler: POST /api/ingest and
``mediawatch import FILE`` both accept exactly this, and turn it into a raw Document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from mediawatch.identity import item_id
from mediawatch.model import Document, SourceTier, utc_now, web_url

MAX_BATCH = 500
MAX_TEXT_CHARS = 200_000
# Where a time written without a zone is read, passed as validation context; none: refused.
TIMEZONE_CONTEXT = "timezone"


class IngestItem(BaseModel):
    """A press article or post sent by a vendor feed, a staff member or a file.

    ``source_id`` need not be in the registry: vendors and staff are channels of their own,
    named by whoever sends; ``source_tier`` (default unknown) is how far it is trusted.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Annotated[str, Field(max_length=2048), AfterValidator(web_url)]
    title: str = Field(min_length=1, max_length=1000)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    source_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    source_tier: SourceTier = SourceTier.UNKNOWN
    published_at: datetime | None = Field(
        default=None, description="ISO 8601 with a time zone, e.g. 2025-06-03T08:00:00+07:00"
    )
    authors: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="A list, or one string split at ';'"
    )
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")

    @field_validator("authors", mode="before")
    @classmethod
    def _split_authors(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(";") if name.strip()]
        return value

    @field_validator("published_at")
    @classmethod
    def _zoned(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        zone = (info.context or {}).get(TIMEZONE_CONTEXT)
        if zone is None:
            raise ValueError("needs a time zone, e.g. 2025-06-03T08:00:00+07:00")
        return value.replace(tzinfo=ZoneInfo(zone))

    def to_document(self) -> Document:
        """The raw document for the pipeline; its id is the canonical URL's, so a post sent
        here and read by a connector or the crawler is one item."""
        return Document(
            id=item_id(self.url),
            url=self.url,
            source_id=self.source_id,
            source_tier=self.source_tier,
            title=self.title,
            text=self.text,
            authors=self.authors,
            published_at=self.published_at,
            fetched_at=utc_now(),
            extractor="ingest",
            date_source="ingest" if self.published_at else None,
            language=self.language,
        )


class IngestBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[IngestItem] = Field(min_length=1, max_length=MAX_BATCH)
