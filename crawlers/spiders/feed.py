"""Feed spider: read each feed, fetch each new entry's page, extract the article."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlers.events import EventWriter, FailureEvent, SourceDoneEvent
from crawlers.extract import extract_article
from crawlers.failures import describe_failure
from crawlers.feeds import FeedEntry, FeedError, parse_feed
from mediawatch.identity import item_id
from mediawatch.model import Document, Source, utc_now

# An extraction shorter than this, or than the feed's own summary, missed the article.
MIN_ARTICLE_CHARS = 80


class FeedSpider(scrapy.Spider):
    name = "feed"

    def __init__(
        self,
        sources: list[Source],
        events: EventWriter,
        known_ids: frozenset[str] = frozenset(),
        max_entries: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.events = events
        self.known_ids = known_ids
        self.max_entries = max_entries

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources:
            yield scrapy.Request(
                str(source.url),
                callback=self.parse_feed,
                errback=self.feed_failed,
                cb_kwargs={"source": source},
                dont_filter=True,
            )

    def parse_feed(self, response: Response, source: Source) -> Iterator[Any]:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            feed = parse_feed(response.body, response.url, content_type)
        except FeedError as error:
            self._fail(source, response.url, "feed", "malformed_feed", str(error))
            return
        entries = feed.entries[: self.max_entries]
        new_entries = [e for e in entries if item_id(e.link) not in self.known_ids]
        self.events.write(
            SourceDoneEvent(
                source_id=source.id,
                entries=len(entries),
                skipped_known=len(entries) - len(new_entries),
                warning=feed.warning,
            )
        )
        for entry in new_entries:
            yield scrapy.Request(
                entry.link,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"source": source, "entry": entry},
            )

    def parse_article(
        self, response: Response, source: Source, entry: FeedEntry
    ) -> Iterator[Document]:
        if not isinstance(response, TextResponse):
            self._fail(source, response.url, "article", "not_html", "response is not text")
            yield self._document(source, entry, None, extractor="feed-summary")
            return
        article = extract_article(response.text, response.url)
        if len(article.text) < max(MIN_ARTICLE_CHARS, len(entry.summary)):
            self._fail(
                source,
                response.url,
                "article",
                "no_article_text",
                f"extracted {len(article.text)} characters",
            )
            yield self._document(source, entry, None, extractor="feed-summary")
            return
        yield self._document(source, entry, article, extractor=article.extractor)

    def feed_failed(self, failure: Failure) -> None:
        source: Source = failure.request.cb_kwargs["source"]
        cause, detail = describe_failure(failure)
        self._fail(source, failure.request.url, "feed", cause, detail)

    def article_failed(self, failure: Failure) -> Iterator[Document]:
        """Keep what the feed told us: an unreachable page must not lose the item."""
        source: Source = failure.request.cb_kwargs["source"]
        entry: FeedEntry = failure.request.cb_kwargs["entry"]
        cause, detail = describe_failure(failure)
        self._fail(source, failure.request.url, "article", cause, detail)
        yield self._document(source, entry, None, extractor="feed-summary")

    def _fail(self, source: Source, url: str, stage: str, reason: str, detail: str) -> None:
        self.events.write(
            FailureEvent(source_id=source.id, url=url, stage=stage, reason=reason, detail=detail)
        )

    @staticmethod
    def _document(source: Source, entry: FeedEntry, article: Any, extractor: str) -> Document:
        text = article.text if article else entry.summary
        title = entry.title or (article.title if article else "") or ""
        published = entry.published or (article.published if article else None)
        authors = (article.authors if article else []) or entry.authors
        return Document(
            id=item_id(entry.link),
            url=entry.link,
            source_id=source.id,
            source_tier=source.tier,
            title=title,
            text=text,
            authors=authors,
            published_at=published,
            fetched_at=utc_now(),
            extractor=extractor,
        )
