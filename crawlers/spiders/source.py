"""One spider for the web source kinds: discover each source's entries, then read their pages.

Discovery (crawlers.spiders.discovery) may take several responses per source (sitemap index →
children, listing page → next page); the source is done when the last of them is in, and then
— or with a failure — it always says so: no source ends silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
import structlog
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlers.destinations import ForbiddenDestination
from crawlers.events import EventWriter, FailureEvent, SourceDoneEvent, Validators
from crawlers.extract import ExtractedArticle, extract_article
from crawlers.failures import describe_failure
from crawlers.feeds import FeedEntry
from crawlers.spiders.discovery import READERS, DiscoveryError, Found, Step
from mediawatch.identity import item_id
from mediawatch.model import Document, Source, SourceKind, utc_now

# An extraction shorter than this, or than the feed's own summary, missed the article.
MIN_ARTICLE_CHARS = 80

log = structlog.get_logger("mediawatch.crawl")


@dataclass
class SourceRun:
    """One source's discovery in this crawl: what is still in flight and what was found."""

    source: Source
    pending: int = 0
    entries: int = 0
    skipped_known: int = 0
    seen: set[str] = field(default_factory=set)
    followed: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    answer: Validators = field(default_factory=Validators)
    not_modified: bool = False
    failed: bool = False
    finished: bool = False


class SourceSpider(scrapy.Spider):
    name = "sources"

    def __init__(
        self,
        sources: list[Source],
        events: EventWriter,
        known_ids: frozenset[str] = frozenset(),
        max_entries: int = 100,
        max_bytes: int = 5 * 1024 * 1024,
        validators: dict[str, Validators] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.events = events
        self.known_ids = known_ids
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.validators = validators or {}
        self.runs: dict[str, SourceRun] = {}
        for source in sources:
            if source.kind.is_social:
                log.warning("social source left to its connector", source=source.id)
            else:
                self.runs[source.id] = SourceRun(source)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.report_unfinished, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for run in list(self.runs.values()):
            yield self._discovery_request(run, str(run.source.url), depth=0)

    def _discovery_request(self, run: SourceRun, url: str, depth: int) -> scrapy.Request:
        run.pending += 1
        run.followed.add(url)
        headers = {}
        meta: dict[str, Any] = {}
        if depth == 0:
            known = self.validators.get(run.source.id)
            if known and known.etag:
                headers["If-None-Match"] = known.etag
            if known and known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
            meta["handle_httpstatus_list"] = [304]
        return scrapy.Request(
            url,
            callback=self.discovered,
            errback=self.discovery_failed,
            cb_kwargs={"run": run, "depth": depth},
            headers=headers,
            meta=meta,
            dont_filter=True,
            priority=10,  # discovery first: it decides what else is worth fetching
        )

    def discovered(self, response: Response, run: SourceRun, depth: int) -> Iterator[Any]:
        try:
            if depth == 0:
                run.answer = Validators(
                    etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified")
                )
                if response.status == 304:
                    run.not_modified = True
                    return
            try:
                found = READERS[run.source.kind](response, Step(run.source, depth, self.max_bytes))
            except DiscoveryError as error:
                run.failed = run.failed or depth == 0
                self._fail(run.source, response.url, "feed", error.reason, str(error))
                return
            except Exception as error:  # a reader's bug on odd input: this source fails, loudly
                log.exception("discovery reader crashed", source=run.source.id, url=response.url)
                run.failed = run.failed or depth == 0
                self._fail(run.source, response.url, "feed", "reader_error", repr(error))
                return
            yield from self._take(run, found, depth)
        finally:
            self._settle(run)

    def _take(self, run: SourceRun, found: Found, depth: int) -> Iterator[Any]:
        if found.warning:
            run.warnings.append(found.warning)
        all_known = True
        for entry in found.entries:
            entry_id = item_id(entry.link)
            if entry_id in run.seen:
                continue
            if run.entries >= self.max_entries:
                break
            run.seen.add(entry_id)
            run.entries += 1
            if entry_id in self.known_ids:
                run.skipped_known += 1
                continue
            all_known = False
            yield self._read_entry(run.source, entry)
        if run.entries >= self.max_entries or (found.follow_is_next_page and all_known):
            return
        for url in found.follow:
            if url not in run.followed:
                yield self._discovery_request(run, url, depth + 1)

    def _read_entry(self, source: Source, entry: FeedEntry) -> scrapy.Request | Document:
        if not source.fetch_pages:
            return self._document(source, entry, None, extractor="feed")
        return scrapy.Request(
            entry.link,
            callback=self.parse_article,
            errback=self.article_failed,
            cb_kwargs={"source": source, "entry": entry},
        )

    def discovery_failed(self, failure: Failure) -> None:
        run: SourceRun = failure.request.cb_kwargs["run"]
        depth: int = failure.request.cb_kwargs["depth"]
        cause, detail = describe_failure(failure)
        run.failed = run.failed or depth == 0
        self._fail(run.source, failure.request.url, "feed", cause, detail)
        self._settle(run)

    def _settle(self, run: SourceRun) -> None:
        """One discovery response fewer in flight; the last one reports the source done."""
        run.pending -= 1
        if run.pending > 0 or run.finished:
            return
        run.finished = True
        if run.failed:
            return  # its failure event is the report
        self.events.write(
            SourceDoneEvent(
                source_id=run.source.id,
                entries=run.entries,
                skipped_known=run.skipped_known,
                not_modified=run.not_modified,
                etag=run.answer.etag,
                last_modified=run.answer.last_modified,
                warning="; ".join(run.warnings) or None,
            )
        )

    def report_unfinished(self, spider: scrapy.Spider, reason: str) -> None:
        """A crawl stopped early (time limit, shutdown) names every source it left unread."""
        for run in self.runs.values():
            if not run.finished:
                run.finished = True
                self._fail(
                    run.source,
                    str(run.source.url),
                    "feed",
                    "unfinished",
                    f"the crawl stopped ({reason}) before this source was read",
                )

    def parse_article(
        self, response: Response, source: Source, entry: FeedEntry
    ) -> Iterator[Document]:
        if not isinstance(response, TextResponse):
            self._fail(source, response.url, "article", "not_html", "response is not text")
            yield from self._fallback(source, entry)
            return
        try:
            article = extract_article(response.text, response.url)
        except Exception as error:  # the extractor's bug on one page must not lose the item
            log.exception("extractor crashed", source=source.id, url=response.url)
            self._fail(source, response.url, "article", "extractor_error", repr(error))
            yield from self._fallback(source, entry)
            return
        if article.problem:
            self._fail(source, response.url, "article", article.problem, article.extractor)
            yield from self._fallback(source, entry)
            return
        if len(article.text) < max(MIN_ARTICLE_CHARS, len(entry.summary)):
            detail = f"extracted {len(article.text)} characters"
            self._fail(source, response.url, "article", "no_article_text", detail)
            yield from self._fallback(source, entry)
            return
        yield self._document(source, entry, article, extractor=article.extractor)

    def article_failed(self, failure: Failure) -> Iterator[Document]:
        """Keep what discovery told us: an unreachable page must not lose the item."""
        source: Source = failure.request.cb_kwargs["source"]
        entry: FeedEntry = failure.request.cb_kwargs["entry"]
        cause, detail = describe_failure(failure)
        self._fail(source, failure.request.url, "article", cause, detail)
        if cause == ForbiddenDestination.cause:
            return  # an entry pointing inside our network is hostile: nothing of it is kept
        yield from self._fallback(source, entry)

    def _fallback(self, source: Source, entry: FeedEntry) -> Iterator[Document]:
        """The entry's own title and summary, when discovery gave any (listings give none)."""
        if entry.title or entry.summary:
            yield self._document(source, entry, None, extractor="feed-summary")

    def _fail(self, source: Source, url: str, stage: str, reason: str, detail: str) -> None:
        self.events.write(
            FailureEvent(source_id=source.id, url=url, stage=stage, reason=reason, detail=detail)
        )

    @staticmethod
    def _document(
        source: Source, entry: FeedEntry, article: ExtractedArticle | None, extractor: str
    ) -> Document:
        # A feed's date is the publication; a sitemap's may be only a day or a modification
        # (lastmod), so there the page's own date comes first.
        from_entry = (entry.published, str(source.kind)) if entry.published else None
        from_page = (
            (article.published, article.date_source) if article and article.published else None
        )
        if source.kind == SourceKind.SITEMAP:
            published, date_source = from_page or from_entry or (None, None)
        else:
            published, date_source = from_entry or from_page or (None, None)
        return Document(
            id=item_id(entry.link),
            url=entry.link,
            source_id=source.id,
            source_tier=source.tier,
            title=entry.title or (article.title if article else None) or "",
            text=article.text if article else (entry.content or entry.summary),
            authors=(article.authors if article else []) or entry.authors,
            published_at=published,
            fetched_at=utc_now(),
            extractor=extractor,
            date_source=date_source,
        )


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
