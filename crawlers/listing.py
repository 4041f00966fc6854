"""Article links of a listing (section) page chosen by the source's CSS/XPath rules."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from cssselect import SelectorError
from parsel import Selector, SelectorList

from crawlers.feeds import web_link
from mediawatch.model import ListingRules


class ListingError(ValueError):
    """A listing page or rule that yields nothing usable."""


@dataclass(frozen=True, slots=True)
class ListingPage:
    links: list[str]
    next_url: str | None


def _select(page: Selector, css: str | None, xpath: str | None) -> list[str]:
    try:
        nodes: SelectorList = page.css(css) if css else page.xpath(xpath or "")
    except (SelectorError, ValueError) as error:
        raise ListingError(f"bad listing rule {css or xpath!r}: {error}") from error
    values = []
    for node in nodes:
        value = node.root if isinstance(node.root, str) else node.attrib.get("href")
        if value and value.strip():
            values.append(value.strip())
    return values


def parse_listing(html: str, url: str, rules: ListingRules) -> ListingPage:
    """The page's article links (absolute, once each, in page order) and its next page."""
    page = Selector(text=html, base_url=url)
    links: list[str] = []
    for value in _select(page, rules.links_css, rules.links_xpath):
        link = web_link(urljoin(url, value))
        if link and link not in links:
            links.append(link)
    next_url = None
    if rules.next_css or rules.next_xpath:
        candidates = _select(page, rules.next_css, rules.next_xpath)
        next_url = web_link(urljoin(url, candidates[0])) if candidates else None
    return ListingPage(links=links, next_url=next_url)
