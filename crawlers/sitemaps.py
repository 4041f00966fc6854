"""Sitemaps (plain, gzip, news, index) into entries or child sitemaps to read next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree
from protego import Protego
from scrapy.utils.gz import gunzip

from crawlers.feeds import FeedEntry, web_link
from mediawatch.text import normalize


class SitemapError(ValueError):
    """A response that is not a usable sitemap."""


@dataclass(frozen=True, slots=True)
class Sitemap:
    entries: list[FeedEntry]
    sitemaps: list[str]


def _text(node: etree._Element, name: str) -> str:
    found = node.xpath(f".//*[local-name()='{name}']/text()")
    return " ".join(str(found[0]).split()) if found else ""


def _date(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def parse_sitemap(body: bytes, url: str, max_bytes: int) -> Sitemap:
    """Read a sitemap or sitemap index; SitemapError when it is neither."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_bytes)
        except (OSError, ValueError) as error:
            raise SitemapError(f"not a usable sitemap (gzip: {error})") from error
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as error:
        raise SitemapError(f"not a usable sitemap ({error})") from error
    if root is None or etree.QName(root).localname not in ("urlset", "sitemapindex"):
        raise SitemapError("not a usable sitemap (no urlset or sitemapindex root element)")
    locations = [
        (node, web_link(urljoin(url, _text(node, "loc"))))
        for node in root
        if isinstance(node.tag, str) and etree.QName(node).localname in ("url", "sitemap")
    ]
    if etree.QName(root).localname == "sitemapindex":
        return Sitemap(entries=[], sitemaps=[link for _node, link in locations if link])
    entries = [
        FeedEntry(
            link=link,
            title=normalize(_text(node, "title")),
            summary="",
            published=_date(_text(node, "publication_date")),
        )
        for node, link in locations
        if link
    ]
    return Sitemap(entries=entries, sitemaps=[])


def sitemap_urls_from_robots(robots_txt: str, base_url: str) -> list[str]:
    """The Sitemap: lines of a robots.txt, made absolute."""
    found = (web_link(urljoin(base_url, s)) for s in Protego.parse(robots_txt).sitemaps)
    return [link for link in found if link]
