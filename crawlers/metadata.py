"""What a page says about itself: JSON-LD ``Article`` objects and ``<meta>`` tags.

Publishers write these for search engines, so they are usually more exact than anything
inferred from the visible layout: the headline without the site name, the publication time
with its zone. Each value is returned with the source it came from, so the crawl can record
which source won.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from email.utils import parsedate_to_datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from lxml.html import HtmlElement

log = structlog.get_logger("mediawatch.extract")

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

# schema.org types whose objects describe the article itself (NewsArticle, BlogPosting, ...)
_ARTICLE_TYPE = re.compile(r"(Article|BlogPosting|Posting|Report)$")
_DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)
_AUTHOR_META = ("author", "article:author", "dc.creator", "sailthru.author", "parsely-author")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None = None
    title_source: str | None = None
    published: datetime | None = None
    date_source: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    body: str = ""  # JSON-LD articleBody, when the publisher included it


def parse_date(value: str | None, vietnamese: bool) -> datetime | None:
    """An ISO 8601 date or timestamp, tz-aware. A time without a zone is local time: Vietnam's
    on a Vietnamese page, else UTC; a bare day is that day at midnight in the same zone.
    Anything unreadable gives None, never a guess."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    zone = VIETNAM if vietnamese else UTC
    if not _ISO.match(text):
        try:  # RFC 822, as some JSON-LD and meta tags write it
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    try:
        if _DAY.match(text):
            return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every object in a JSON-LD document, including those inside ``@graph`` and lists."""
    if isinstance(node, list):
        return [found for item in node for found in _walk(item)]
    if not isinstance(node, dict):
        return []
    found = [node]
    for key in ("@graph", "mainEntity"):
        found.extend(_walk(node.get(key)))
    return found


def _is_article(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(kind, str) and _ARTICLE_TYPE.search(kind) for kind in kinds)


def json_ld_articles(tree: HtmlElement, url: str | None = None) -> list[dict[str, Any]]:
    """The page's JSON-LD objects of an article type; broken blocks are logged and skipped."""
    articles = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            document = json.loads(script.text_content() or "null", strict=False)
        except ValueError as error:
            log.info("json_ld_unreadable", url=url, error=str(error)[:120])
            continue
        articles.extend(node for node in _walk(document) if _is_article(node))
    return articles


def _names(value: Any) -> list[str]:
    """schema.org authors: a string, a Person/Organization object, or a list of them."""
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str) and value.strip():
        return [" ".join(value.split())]
    return []


def _first_text(node: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = node.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(unescape(value).split())
    return None


def _meta(tree: HtmlElement) -> dict[str, str]:
    """``<meta>`` tags by lower-cased name/property/itemprop; the first occurrence wins."""
    found: dict[str, str] = {}
    for tag in tree.iter("meta"):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        content = tag.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    return found


def page_language(tree: HtmlElement) -> str | None:
    root = tree.getroottree().getroot()
    value = root.get("lang") or _meta(tree).get("og:locale") or ""
    return value.replace("_", "-").split("-")[0].lower() or None


def is_vietnamese(language: str | None, url: str | None) -> bool:
    """A page in Vietnamese or on a .vn site: its zone-less times are Vietnamese time."""
    return language == "vi" or bool(url and re.search(r"\.vn(/|:|$)", url))


def read_metadata(tree: HtmlElement, url: str | None = None) -> PageMetadata:
    """Title, date, authors and body from JSON-LD first, then ``<meta>`` tags."""
    meta = _meta(tree)
    language = page_language(tree)
    vietnamese = is_vietnamese(language, url)
    title = title_source = published = date_source = None
    authors: list[str] = []
    body = ""
    for article in json_ld_articles(tree, url):
        if title is None and (title := _first_text(article, "headline", "name")):
            title_source = "json-ld"
        if published is None:
            published = parse_date(article.get("datePublished"), vietnamese)
            date_source = "json-ld" if published else None
        authors = authors or _names(article.get("author"))
        body = body or unescape(str(article.get("articleBody") or "")).strip()
    if title is None and (title := meta.get("og:title")):
        title_source = "meta"
    if published is None:
        for key in _DATE_META:
            if published := parse_date(meta.get(key), vietnamese):
                date_source = "meta"
                break
    if not authors:
        authors = [
            name
            for key in _AUTHOR_META
            if (value := meta.get(key)) and not value.startswith("http")
            for name in _names(value)
        ][:1]
    return PageMetadata(title, title_source, published, date_source, authors, language, body)
