"""Feed parsing with feedparser: entries with absolute links and real dates, or a clear reason."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXException

import feedparser
import lxml.html
from lxml.etree import ParserError

import crawlers.dates  # noqa: F401 - registers the Vietnamese date handlers with feedparser
from mediawatch.text import normalize


class FeedError(ValueError):
    """A response that is not a usable feed."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    link: str
    title: str
    summary: str
    published: datetime | None
    authors: list[str] = field(default_factory=list)
    content: str = ""  # the full text when the feed carries it (content:encoded, atom:content)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    entries: list[FeedEntry]
    warning: str | None = None


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # Not .get(): feedparser answers a missing updated_parsed with a deprecation warning.
        parsed = entry[key] if key in entry else None  # noqa: SIM401
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def _entry_authors(entry: feedparser.FeedParserDict) -> list[str]:
    names = [author.get("name", "").strip() for author in entry.get("authors", [])]
    return [name for name in names if name]


def web_link(link: str) -> str | None:
    """The link if it is a well-formed http(s) URL; feeds also carry javascript:, file: …"""
    try:
        parts = urlsplit(link)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return link


def _plain_text(fragment: str) -> str:
    """Feed summaries are HTML fragments; people and models need their words only."""
    if "<" not in fragment:
        return fragment.strip()
    try:
        return " ".join(lxml.html.fromstring(fragment).text_content().split())
    except (ParserError, ValueError):
        return fragment.strip()


_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "br")


def _paragraphs(fragment: str) -> str:
    """An HTML body as text, one line per paragraph: what a full-content feed carries."""
    try:
        tree = lxml.html.fromstring(fragment)
    except (ParserError, ValueError):
        return fragment.strip()
    for element in tree.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in tree.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def _entry_content(entry: feedparser.FeedParserDict) -> str:
    """The longest full-text body the entry carries, as text; empty when it has none."""
    bodies = [part.get("value") or "" for part in entry.get("content", [])]
    return max((_paragraphs(body) for body in bodies if body.strip()), key=len, default="")


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS/Atom bytes fetched from ``url``; FeedError when nothing usable is there."""
    # Without a declared type (a file, not a response) read it as XML rather than have
    # feedparser flag every such feed as served with a non-XML type.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True)
    warning = None
    if parsed.bozo:
        warning = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
    entries = []
    rejected = 0
    for entry in parsed.entries:
        raw_link = (entry.get("link") or "").strip()
        link = web_link(urljoin(url, raw_link)) if raw_link else None
        if link is None:
            rejected += 1
            continue
        entries.append(
            FeedEntry(
                link=link,
                title=" ".join(normalize(entry.get("title") or "").split()),
                summary=_plain_text(entry.get("summary") or ""),
                published=_entry_date(entry),
                authors=_entry_authors(entry),
                content=_entry_content(entry),
            )
        )
    if rejected:
        note = f"{rejected} entries without a usable http(s) link skipped"
        warning = f"{warning}; {note}" if warning else note
    broken_xml = parsed.bozo and isinstance(parsed.bozo_exception, SAXException)
    if not entries and (broken_xml or not parsed.get("version")):
        raise FeedError(f"not a usable feed ({warning or 'no RSS or Atom root element'})")
    return ParsedFeed(title=parsed.feed.get("title", ""), entries=entries, warning=warning)
