"""Discovery, one reader per web source kind: a response in, entries and URLs to read next out.

A feed lists entries; a sitemap lists entries or child sitemaps (bounded depth and count); a
listing page lists article links and the next page (bounded by the source's max_pages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse

from crawlers.feeds import FeedEntry, FeedError, parse_feed
from crawlers.listing import ListingError, parse_listing
from crawlers.sitemaps import SitemapError, parse_sitemap, sitemap_urls_from_robots
from mediawatch.model import Source, SourceKind

MAX_SITEMAP_DEPTH = 2  # robots.txt or index → index → sitemap
MAX_CHILD_SITEMAPS = 50


class DiscoveryError(Exception):
    """A discovery response that cannot be read; ``reason`` is the failure cause slug."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Step:
    source: Source
    depth: int  # 0: the source's own URL; then sitemap nesting or listing page number
    max_bytes: int


@dataclass(frozen=True, slots=True)
class Found:
    entries: list[FeedEntry]
    follow: list[str] = field(default_factory=list)
    warning: str | None = None
    follow_is_next_page: bool = False  # not worth following when the page held only known items


def content_type(response: Response) -> str | None:
    return response.headers.get("Content-Type", b"").decode("latin-1") or None


def read_feed(response: Response, step: Step) -> Found:
    try:
        feed = parse_feed(response.body, response.url, content_type(response))
    except FeedError as error:
        raise DiscoveryError("malformed_feed", str(error)) from error
    return Found(entries=feed.entries, warning=feed.warning)


def _newest_first(entries: list[FeedEntry]) -> list[FeedEntry]:
    """Sitemaps have no order; the entry cap must keep the newest, undated ones last."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda e: e.published or oldest, reverse=True)


def _bounded(children: list[str], step: Step) -> tuple[list[str], str | None]:
    if not children:
        return [], None
    if step.depth >= MAX_SITEMAP_DEPTH:
        return [], f"{len(children)} child sitemaps beyond depth {MAX_SITEMAP_DEPTH} not read"
    if len(children) > MAX_CHILD_SITEMAPS:
        dropped = len(children) - MAX_CHILD_SITEMAPS
        return children[:MAX_CHILD_SITEMAPS], f"{dropped} child sitemaps over the cap not read"
    return children, None


def read_sitemap(response: Response, step: Step) -> Found:
    if step.depth == 0 and urlsplit(response.url).path.endswith("/robots.txt"):
        text = response.body.decode("utf-8", errors="replace")
        children, warning = _bounded(sitemap_urls_from_robots(text, response.url), step)
        if not children:
            raise DiscoveryError("malformed_sitemap", "robots.txt names no sitemap")
        return Found(entries=[], follow=children, warning=warning)
    try:
        sitemap = parse_sitemap(response.body, response.url, step.max_bytes)
    except SitemapError as error:
        raise DiscoveryError("malformed_sitemap", str(error)) from error
    children, warning = _bounded(sitemap.sitemaps, step)
    return Found(entries=_newest_first(sitemap.entries), follow=children, warning=warning)


def read_listing(response: Response, step: Step) -> Found:
    rules = step.source.listing
    assert rules is not None  # Source guarantees rules for kind listing
    if not isinstance(response, TextResponse):
        raise DiscoveryError("malformed_listing", "listing page is not text")
    try:
        page = parse_listing(response.text, response.url, rules)
    except ListingError as error:
        raise DiscoveryError("malformed_listing", str(error)) from error
    if step.depth == 0 and not page.links:
        raise DiscoveryError("malformed_listing", "the listing rules matched no article link")
    entries = [FeedEntry(link=link, title="", summary="", published=None) for link in page.links]
    more_pages = page.next_url is not None and step.depth + 1 < rules.max_pages
    return Found(
        entries=entries,
        follow=[page.next_url] if more_pages and page.next_url else [],
        follow_is_next_page=True,
    )


READERS: dict[SourceKind, Callable[[Response, Step], Found]] = {
    SourceKind.FEED: read_feed,
    SourceKind.SITEMAP: read_sitemap,
    SourceKind.LISTING: read_listing,
}
