"""What a crawl reports to the process that started it, one JSON line per event."""

from __future__ import annotations

import threading
from typing import IO, Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from mediawatch.model import Document


class ItemEvent(BaseModel):
    event: Literal["item"] = "item"
    document: Document


class Validators(BaseModel):
    """What a source's server said identifies its last answer: sent back as a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


class FailureEvent(BaseModel):
    """Something from outside that could not be used, named with its source and URL.

    Stage ``feed`` is discovery for every web kind (feed, sitemap or listing page): the source
    was not read whole. Stage ``article`` is one entry's page.
    """

    event: Literal["failure"] = "failure"
    source_id: str
    url: str
    stage: Literal["feed", "article"]
    reason: str
    detail: str = ""


class SourceDoneEvent(BaseModel):
    """A source read to the end of its discovery: its counts and its server's new validators."""

    event: Literal["source_done"] = "source_done"
    source_id: str
    entries: int
    skipped_known: int
    skipped_empty: int = Field(default=0, description="Posts without text (media only)")
    not_modified: bool = Field(default=False, description="The server answered 304")
    etag: str | None = None
    last_modified: str | None = None
    warning: str | None = None


CrawlEvent = Annotated[ItemEvent | FailureEvent | SourceDoneEvent, Field(discriminator="event")]
crawl_event_adapter: TypeAdapter[CrawlEvent] = TypeAdapter(CrawlEvent)


class EventWriter:
    """Writes events as JSON lines and flushes each, so the reader sees them as they happen."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, event: ItemEvent | FailureEvent | SourceDoneEvent) -> None:
        line = event.model_dump_json()
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
