"""Article extraction: main text, title, date and authors of one HTML page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

import lxml.html
import trafilatura
from lxml.etree import ParserError
from w3lib.encoding import html_to_unicode

_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# Markers of the commonest bot-challenge interstitial (Cloudflare's), served with status 200.
_CHALLENGE = re.compile(
    r"cf-browser-verification|/cdn-cgi/challenge-platform/|window\._cf_chl_opt|"
    r"<title>\s*Just a moment\.\.\.\s*</title>",
    re.I,
)


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    text: str
    title: str | None = None
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    extractor: str = "trafilatura"
    problem: str | None = None  # "bot_challenge" or "empty_page": a failure, not an article
    date_source: str | None = None  # where ``published`` came from


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
    _encoding, text = html_to_unicode(content_type, body)
    return text


def page_problem(html: str) -> str | None:
    """Why a page can hold no article at all: a bot challenge, or nothing to read."""
    if _CHALLENGE.search(html[:100_000]):
        return "bot_challenge"
    try:
        tree = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return "empty_page"
    for node in tree.xpath("//script|//style|//noscript|//template"):
        node.drop_tree()
    return None if tree.text_content().strip() else "empty_page"


def extract_article(html: str, url: str | None = None) -> ExtractedArticle:
    """Extract an article; an empty ``text`` means the page holds no article we could find."""
    problem = page_problem(html)
    if problem:
        return ExtractedArticle(text="", extractor="none", problem=problem)
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
