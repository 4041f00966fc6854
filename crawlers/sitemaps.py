"""Sitemaps (sitemaps.org XML or plain text, Google News, indexes): article links, or a reason.

Scrapy's ``Sitemap`` keeps only the direct children of ``<url>``, so the title and date a news
sitemap nests in ``<news:news>`` would be lost; this module walks lxml's ``iterparse`` with the
same guards Scrapy uses (no entity expansion, no network, no huge text nodes, elements freed as
they are read) and keeps them. Gzip bodies go through Scrapy's ``gunzip`` with a cap on the
decompressed size, so a gzip bomb is refused instead of filling memory.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import lxml.etree
import structlog
from protego import Protego
from scrapy.utils.gz import gunzip

from crawlers.feeds import FeedEntry, web_link
from mediawatch.text import normalize

_LOG = structlog.get_logger("mediawatch.sitemaps")
_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_GZIP_MAGIC = b"\x1f\x8b"
_ROOTS = {"urlset", "sitemapindex"}
# A W3C datetime precise to the day at least: "2026" or "2026-03" name no day to publish on.
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|T)")


class SitemapError(ValueError):
    """A response that is not a usable sitemap; the message says why."""


@dataclass(frozen=True, slots=True)
class Sitemap:
    entries: list[FeedEntry]
    sitemaps: list[str]


def _local_name(element: lxml.etree._Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _w3c_date(text: str | None) -> datetime | None:
    """A lastmod or publication date as written, or None: never a guessed day or hour."""
    value = (text or "").strip()
    if not _FULL_DATE.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_VIETNAM)


def _decompressed(body: bytes, max_bytes: int) -> bytes:
    if body[:2] != _GZIP_MAGIC:
        if len(body) > max_bytes:
            raise SitemapError(f"sitemap of {len(body)} bytes exceeds the {max_bytes}-byte cap")
        return body
    try:
        return gunzip(body, max_size=max_bytes)
    except (OSError, EOFError, zlib.error, struct.error) as error:
        raise SitemapError(f"broken gzip data: {error}") from error
    except ValueError as error:  # scrapy's "decompressed more than max_size"
        raise SitemapError(
            f"gzip body inflates past the {max_bytes}-byte decompression cap"
        ) from error


def _plain_text(data: bytes) -> tuple[list[FeedEntry], list[str], int]:
    """One full URL a line (the protocol's text form); a line with spaces is not a URL."""
    lines = [line.strip() for line in data.decode("utf-8-sig", errors="replace").splitlines()]
    lines = [line for line in lines if line]
    links = [
        link for line in lines if not any(c.isspace() for c in line) and (link := web_link(line))
    ]
    if not links:
        raise SitemapError("neither XML nor a plain-text sitemap: no http(s) URL on any line")
    entries = [FeedEntry(link=link, title="", summary="", published=None) for link in links]
    return entries, [], len(lines) - len(links)


def _news_fields(news: lxml.etree._Element) -> tuple[str, datetime | None]:
    title, published = "", None
    for field in news:
        name = _local_name(field)
        if name == "title":
            title = " ".join(normalize(field.text or "").split())
        elif name == "publication_date":
            published = _w3c_date(field.text)
    return title, published


def _read_url(element: lxml.etree._Element) -> tuple[str | None, str, datetime | None]:
    """``<url>`` or ``<sitemap>``: its loc, its news title, its news date or else lastmod."""
    loc, title, published, lastmod = None, "", None, None
    for child in element:
        name = _local_name(child)
        if name == "loc":
            loc = (child.text or "").strip()
        elif name == "lastmod":
            lastmod = _w3c_date(child.text)
        elif name == "news":
            title, published = _news_fields(child)
        # image:image, video:video, xhtml:link (hreflang alternates): not articles of their own
    return loc, title, published or lastmod


def _elements(data: bytes) -> Iterator[lxml.etree._Element]:
    """The ``<url>`` and ``<sitemap>`` elements, each freed once the caller has read it."""
    events = lxml.etree.iterparse(
        BytesIO(data),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    _, root = next(events)
    if _local_name(root) not in _ROOTS:
        raise SitemapError(f"root element <{_local_name(root)}> is not <urlset> or <sitemapindex>")
    for event, element in events:
        if event == "end" and _local_name(element) in ("url", "sitemap"):
            yield element
            element.clear()
            while element.getprevious() is not None:
                del root[0]


def _xml(data: bytes, url: str) -> tuple[list[FeedEntry], list[str], int]:
    entries: list[FeedEntry] = []
    children: list[str] = []
    rejected = 0
    try:
        for element in _elements(data):
            loc, title, published = _read_url(element)
            link = web_link(urljoin(url, loc)) if loc else None
            if link is None:
                rejected += 1
            elif _local_name(element) == "sitemap":
                children.append(link)
            else:
                entries.append(FeedEntry(link=link, title=title, summary="", published=published))
    except lxml.etree.XMLSyntaxError as error:
        # Strict on purpose: lxml's recovery turns "a=1&b=2" into "a=1=2" and keeps a URL cut
        # off mid-way, so a recovered sitemap would send the crawler to pages that do not exist.
        raise SitemapError(f"malformed XML: {error}") from error
    return entries, children, rejected


def parse_sitemap(body: bytes, url: str, max_bytes: int = 50 * 1024 * 1024) -> Sitemap:
    """Read a sitemap fetched from ``url`` (gzip or not); SitemapError when it is not one."""
    data = _decompressed(body, max_bytes)
    is_xml = data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    entries, children, rejected = _xml(data, url) if is_xml else _plain_text(data)
    if rejected:
        _LOG.warning("sitemap_links_skipped", url=url, skipped=rejected, reason="not http(s)")
    return Sitemap(entries=entries, sitemaps=list(dict.fromkeys(children)))


def sitemap_urls_from_robots(robots_txt: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, absolute and http(s) only, as Protego reads them."""
    found = (web_link(urljoin(base_url, value)) for value in Protego.parse(robots_txt).sitemaps)
    return list(dict.fromkeys(link for link in found if link))
