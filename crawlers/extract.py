"""Article extraction: main text, title, date and authors of one HTML page.

trafilatura in precision mode first, without its built-in fallbacks (they cost time on every
page and, on the two benchmarks in ../shared/fixtures, the precision mode alone already beats
trafilatura's defaults). Only when its text is short do we try the two generic algorithms
trafilatura itself falls back on, in order: its readability port (``trafilatura.readability_lxml``
— the same algorithm as readability-lxml from PyPI, already installed and maintained with
trafilatura) and justext. A fallback wins only when it finds much more text that *agrees*
with trafilatura's (contains most of it), so a fallback that grabbed a comment thread or a
link list does not replace a short but right article.

Title, date and authors come from what the page says about itself (JSON-LD, then ``<meta>``,
see crawlers.metadata), then from trafilatura's reading of the page (htmldate for the date).
Challenge pages and pages without article text are reported in ``problem``, not passed off
as empty articles.
"""

from __future__ import annotations

import re
from collections import Counter
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import justext
import structlog
import trafilatura
from lxml.html import HtmlElement, fromstring
from trafilatura.metadata import extract_metadata
from trafilatura.readability_lxml import Document as Readability
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.settings import Extractor, set_date_params
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    to_unicode,
)

from crawlers.metadata import VIETNAM, PageMetadata, is_vietnamese, parse_date, read_metadata
from crawlers.pagecheck import MIN_TEXT_CHARS, bot_challenge
from mediawatch.model import PUBLISHED_TOLERANCE

log = structlog.get_logger("mediawatch.extract")

# trafilatura text shorter than this may have missed the article: try the fallbacks
FALLBACK_BELOW = 1000
# a fallback must find this many times more distinct text, and contain this share of
# trafilatura's 4-token shingles, to replace it
FALLBACK_GAIN = 2.0
FALLBACK_AGREEMENT = 0.5
AGREEMENT_FROM_SHINGLES = 40

_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dd")
_WORD = re.compile(r"\w+")
# whole lines that are page furniture, not article text (English and Vietnamese outlets)
_BOILERPLATE_LINE = re.compile(
    r"^\W*(advertisement|advertising|sponsored( content)?|article continues below( this ad)?|"
    r"story continues below( advertisement)?|continue reading.{0,40}|read more.{0,40}|"
    r"related( articles| stories)?:?|sign up for .{0,60}newsletter.{0,40}|"
    r"copyright .{0,120}all rights reserved.{0,200}|© .{0,120}|"
    r"quảng cáo|xem thêm:?.{0,80}|đọc thêm:?.{0,80}|tin liên quan:?|bài liên quan:?)\W*$",
    re.I,
)
_JUSTEXT_LANGUAGES = {"vi": "Vietnamese", "en": "English", "fr": "French", "de": "German"}


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    text: str
    title: str | None = None
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    extractor: str = "trafilatura"
    date_source: str | None = None
    language: str | None = None
    problem: str | None = None  # "bot_challenge" or "empty_page": a failure, not an article


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


def _split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [name.strip() for name in value.replace(";", ",").split(",") if name.strip()]


def _shingles(text: str) -> Counter[str]:
    words = _WORD.findall(text)
    return Counter(" ".join(words[i : i + 4]) for i in range(max(1, len(words) - 3)))


def _gains(short: str, long: str) -> bool:
    """True when ``long`` holds many times more distinct 4-token shingles: repeating the
    same paragraphs (which trafilatura drops) is not more article."""
    return len(_shingles(long)) > FALLBACK_GAIN * len(_shingles(short))


def _agrees(short: str, long: str) -> bool:
    """True when ``long`` contains most of ``short``'s 4-token shingles, or short is too short
    to judge (a teaser or a caption that the fallback may rightly leave out)."""
    wanted = _shingles(short)
    total = sum(wanted.values())
    return (
        total < AGREEMENT_FROM_SHINGLES
        or sum((wanted & _shingles(long)).values()) >= FALLBACK_AGREEMENT * total
    )


def _block_text(tree: HtmlElement) -> str:
    """One line per outermost block element, whitespace collapsed."""
    lines = [
        " ".join(element.text_content().split())
        for element in tree.iter(*_BLOCKS)
        if not any(parent.tag in _BLOCKS for parent in element.iterancestors())
    ]
    return "\n".join(line for line in lines if line)


def _readability(tree: HtmlElement) -> str:
    summary = Readability(copy(tree), min_text_length=25).summary()
    return _block_text(fromstring(summary)) if summary.strip() else ""


@cache
def _stoplist(language: str | None) -> frozenset[str]:
    if language in _JUSTEXT_LANGUAGES:
        return frozenset(justext.get_stoplist(_JUSTEXT_LANGUAGES[language]))
    return frozenset(
        word for name in justext.get_stoplists() for word in justext.get_stoplist(name)
    )


def _justext(html: str, language: str | None) -> str:
    paragraphs = justext.justext(html, _stoplist(language))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def _fallback(
    tree: HtmlElement, html: str, text: str, body: str, language: str | None, url: str | None
) -> tuple[str, str] | None:
    """The first of the publisher's JSON-LD ``articleBody`` and the generic algorithms whose
    text is much longer than ``text`` and agrees with it."""
    for name, run in (
        ("json-ld", lambda: body),
        ("readability", lambda: _readability(tree)),
        ("justext", lambda: _justext(html, language)),
    ):
        try:
            candidate = run()
        except Exception as error:  # a broken fallback must not lose the page
            log.warning("fallback_failed", extractor=name, url=url, error=repr(error)[:200])
            continue
        if _gains(text, candidate) and _agrees(text, candidate):
            return name, candidate
    return None


def _strip_boilerplate(text: str) -> str:
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not _BOILERPLATE_LINE.match(line))


_META_CHARSET = re.compile(rb"<meta[^>]{0,1024}charset", re.IGNORECASE)


def _later_declaration(body: bytes) -> str | None:
    """The first usable <meta> charset anywhere in the page, as the HTML standard has it: w3lib
    reads only the first 4 KB and gives up at a declaration it does not know."""
    for found in _META_CHARSET.finditer(body):
        if encoding := html_body_declared_encoding(body[found.start() : found.start() + 4096]):
            return encoding
    return None


# trafilatura in precision mode, without its fallbacks, comments or deduplication. Built once:
# building it reads trafilatura's config file values anew, ~3 % of an extraction.
_OPTIONS = Extractor(
    output_format="python", fast=True, precision=True, comments=False, tables=True, dedup=False
)


def _trafilatura_options(url: str | None) -> Extractor:
    options = copy(_OPTIONS)
    options.url = options.source = url
    return options


def _trafilatura_metadata(
    tree: HtmlElement, url: str | None, meta: PageMetadata
) -> TrafilaturaDocument | None:
    """trafilatura's reading of title, author and date (htmldate), only when the page's own
    JSON-LD and ``<meta>`` left one of them out: it costs about a third of the extraction.
    Read only for pages trafilatura found text in, as ``bare_extraction`` would."""
    if meta.title and meta.published and meta.authors:
        return None
    return extract_metadata(tree, url, date_config=_date_config())


def _date_config() -> dict[str, object]:
    """htmldate's settings with its latest believable date set by the province's calendar
    plus the tolerance the model allows: its default, the machine's date (UTC on servers),
    threw away every page dated today in Vietnam between local midnight and 07:00."""
    latest = datetime.now(VIETNAM) + PUBLISHED_TOLERANCE
    return set_date_params(True) | {"max_date": latest.strftime("%Y-%m-%d")}


def extract_article(html: str, url: str | None = None) -> ExtractedArticle:
    """Extract an article; ``problem`` says why a page gave none ("bot_challenge",
    "empty_page")."""
    tree = trafilatura.load_html(html) if html.strip() else None
    if tree is None:
        return ExtractedArticle(text="", extractor="none", problem="empty_page")
    meta = read_metadata(tree, url)
    result = trafilatura.bare_extraction(tree, options=_trafilatura_options(url))
    text = (result.text or "").strip() if result else ""
    extractor = "trafilatura"
    language = meta.language or (result.language if result else None)
    if len(text) < FALLBACK_BELOW and (
        found := _fallback(tree, html, text, meta.body, language, url)
    ):
        extractor, text = found
    text = _strip_boilerplate(text)
    guessed = _trafilatura_metadata(tree, url, meta) if result is not None else None
    published, date_source = meta.published, meta.date_source
    if published is None and guessed is not None and guessed.date:
        published = parse_date(guessed.date[:10], is_vietnamese(language, url))
        date_source = "trafilatura" if published else None
    problem = None
    if challenge := bot_challenge(html, len(text)):
        problem = "bot_challenge"
        log.info("bot_challenge", url=url, signature=challenge)
    elif len(text) < MIN_TEXT_CHARS:
        problem = "empty_page"
    return ExtractedArticle(
        text=text,
        title=meta.title or ((guessed.title or "").strip() or None if guessed else None),
        published=published,
        authors=meta.authors or _split_authors(guessed.author if guessed else None),
        extractor=extractor,
        date_source=date_source,
        language=language,
        problem=problem,
    )
