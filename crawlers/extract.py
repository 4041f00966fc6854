"""Article extraction: main text, title, date and authors of one HTML page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

import trafilatura
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    to_unicode,
)

_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    text: str
    title: str | None = None
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    extractor: str = "trafilatura"


def _parse_date(value: str | None) -> datetime | None:
    """trafilatura gives a day (YYYY-MM-DD); read it as that day in Vietnam, not in UTC."""
    if not value:
        return None
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(), tzinfo=_VIETNAM)


def _split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [name.strip() for name in value.replace(";", ",").split(",") if name.strip()]


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Page bytes to text: BOM, then the HTTP charset, then <meta>, else UTF-8 — never
    Latin-1 by default, which turns every Vietnamese letter of a late-declared page into
    mojibake."""
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_later_declaration)
    if encoding.startswith(("utf-16", "utf-32")) and not (
        read_bom(body)[0] or http_content_type_encoding(content_type)
    ):
        # A <meta> that could be read is ASCII-compatible: the HTML standard reads it as UTF-8.
        return to_unicode(body, "utf-8")
    return text


_META_CHARSET = re.compile(rb"<meta[^>]{0,1024}charset", re.IGNORECASE)


def _later_declaration(body: bytes) -> str | None:
    """The first usable <meta> charset anywhere in the page, as the HTML standard has it: w3lib
    reads only the first 4 KB and gives up at a declaration it does not know."""
    for found in _META_CHARSET.finditer(body):
        if encoding := html_body_declared_encoding(body[found.start() : found.start() + 4096]):
            return encoding
    return None


def extract_article(html: str, url: str | None = None) -> ExtractedArticle:
    """Extract an article; an empty ``text`` means the page holds no article we could find."""
    result = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    if result is None:
        return ExtractedArticle(text="", extractor="none")
    return ExtractedArticle(
        text=(result.text or "").strip(),
        title=(result.title or "").strip() or None,
        published=_parse_date(result.date),
        authors=_split_authors(result.author),
    )
