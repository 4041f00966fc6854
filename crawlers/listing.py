"""Section (listing) pages of sites without feeds: the article links a source's CSS/XPath rules
pick out, and the page that comes next.

A rule may select ``<a>`` elements (their ``href`` is taken) or strings: ``::attr(href)``,
``@href``, or an XPath string function such as ``re:replace(...)`` that builds a "load more" URL
from an id the page carries. Links come back absolute, without fragments, in page order, one per
canonical URL, http(s) only and on the page's own site (its host or a subdomain of it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.etree
from cssselect import SelectorError
from parsel import Selector
from w3lib.html import get_base_url

from crawlers.feeds import web_link
from mediawatch.identity import canonical_url
from mediawatch.model import ListingRules


class ListingError(ValueError):
    """Listing rules that cannot be applied; the message names the selector."""


@dataclass(frozen=True, slots=True)
class ListingPage:
    links: list[str]
    next_url: str | None


def _chosen(page: Selector, css: str | None, xpath: str | None) -> list[str]:
    """What one rule picks: each element's href, or each string it selects or builds."""
    kind, rule = ("CSS", css) if css is not None else ("XPath", xpath or "")
    try:
        selection = page.css(rule) if kind == "CSS" else page.xpath(rule)
    except (SelectorError, ValueError) as error:
        raise ListingError(f"invalid {kind} selector {rule!r}: {error}") from error
    values = []
    for node in selection:
        if isinstance(node.root, str):  # attribute value, text, or an XPath string result
            values.append(node.root)
        elif isinstance(node.root, lxml.etree._Element):
            values += [href] if (href := node.root.get("href")) is not None else []
        else:  # count(), boolean(): a number or a truth value is no link
            found = type(node.root).__name__
            raise ListingError(f"{kind} selector {rule!r} gives a {found}, not links")
    return values


def _site_link(value: str, base: str, site: str) -> str | None:
    link = web_link(urljoin(base, value.strip())) if value.strip() else None
    if link is None:
        return None
    host = (urlsplit(link).hostname or "").removeprefix("www.")
    if host != site and not host.endswith("." + site):  # by host: a port is no other site
        return None
    return urldefrag(link).url


def _first_per_page(links: Iterator[str | None]) -> list[str]:
    """Page order, one link per canonical URL: tracking parameters make no second article."""
    seen: set[str] = set()
    kept = []
    for link in links:
        if link and (key := canonical_url(link)) not in seen:
            seen.add(key)
            kept.append(link)
    return kept


def parse_listing(html: str, url: str, rules: ListingRules) -> ListingPage:
    """Apply ``rules`` to the section page ``html`` fetched from ``url``."""
    page = Selector(text=html)
    base = get_base_url(html, url)
    site = (urlsplit(url).hostname or "").removeprefix("www.")
    chosen = _chosen(page, rules.links_css, rules.links_xpath)
    links = _first_per_page(_site_link(value, base, site) for value in chosen)
    next_url = None
    if rules.next_css is not None or rules.next_xpath is not None:
        candidates = _chosen(page, rules.next_css, rules.next_xpath)
        next_url = next(filter(None, (_site_link(value, base, site) for value in candidates)), None)
        if next_url is not None and canonical_url(next_url) == canonical_url(url):
            next_url = None  # "next" pointing back at this very page would loop forever
    return ListingPage(links=links, next_url=next_url)
