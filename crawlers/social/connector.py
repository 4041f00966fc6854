"""What every social connector is: a source in, raw documents out, newest first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol

from mediawatch.identity import item_id
from mediawatch.model import Document, Source, utc_now

# Posts have no headline: their first line stands in for one, cut at a word.
TITLE_CHARS = 120


class Connector(Protocol):
    """Reads one social source.

    ``fetch`` yields the source's posts newest first, stops at posts older than ``since``,
    and raises ``SocialError`` when the source cannot be read; posts without text are not
    yielded but counted in ``skipped``.
    """

    skipped: int

    def fetch(self, source: Source, since: datetime | None) -> Iterator[Document]: ...


def recent(documents: Iterable[Document], since: datetime | None, limit: int) -> Iterator[Document]:
    """Posts newest first, up to ``limit``, until the first older than ``since``; being lazy,
    stopping here stops the connector's paging too."""
    if limit < 1:
        return
    for taken, document in enumerate(documents, start=1):
        if since is not None and document.published_at and document.published_at < since:
            return
        yield document
        if taken >= limit:  # before asking for one more, which may fetch another page
            return


def title_from_text(text: str) -> str:
    """The first non-empty line, shortened at a word boundary."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    first = " ".join(first.split())
    if len(first) <= TITLE_CHARS:
        return first
    cut = first[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def post_document(
    source: Source,
    url: str,
    title: str,
    text: str,
    published_at: datetime | None,
    authors: list[str],
    extractor: str,
    date_source: str,
    post_id: str | None = None,
) -> Document:
    """A raw document for the pipeline. Its id is ``platform:post_id``, given or read from the
    URL, so the same post read by a connector and sent to /api/ingest is one item."""
    return Document(
        id=post_id or item_id(url),
        url=url,
        source_id=source.id,
        source_tier=source.tier,
        title=title or title_from_text(text),
        text=text,
        authors=[a for a in authors if a],
        published_at=published_at,
        fetched_at=utc_now(),
        extractor=extractor,
        date_source=date_source if published_at else None,
    )
