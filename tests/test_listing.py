"""Listing pages: the saved section pages of eight Vietnamese outlets read with the rules we
ship for them, and the rules' edge cases on small pages."""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
import yaml
from parsel import Selector

from crawlers.extract import decode_html
from crawlers.listing import ListingError, parse_listing
from mediawatch.config import load_sources
from mediawatch.model import ListingRules, Source
from tests.conftest import REPO, shared_path

# Written as entries would stand in config/sources.yaml (three more are there, checked as
# shipped). The four outlets on the same CMS (baochinhphu, cafef, nld, tuoitre) page through a
# "timeline" endpoint that their script builds from the zone id in <input id="hdZoneId">; the
# XPath builds the same URL, and gives nothing on the endpoint's own fragment (no zone id
# there), so paging stops at page 2.
SOURCES_YAML = r"""
- id: baodautu-tai-chinh-chung-khoan
  name: "Báo Đầu tư – Tài chính, chứng khoán"
  kind: listing
  url: "https://baodautu.vn/tai-chinh-chung-khoan-d6/"
  tier: press
  scope: national
  listing:
    links_css: >-
      section.main_top_home article a.fbold,
      section.main_top_home article a.title_thumb_square
    next_css: "nav.pagation a.pagation_item.active + a.pagation_item"
- id: cafef-thi-truong-chung-khoan
  name: "CafeF – Thị trường chứng khoán"
  kind: listing
  url: "https://cafef.vn/thi-truong-chung-khoan.chn"
  tier: press
  scope: national
  listing:
    links_css: ".box-category-item h3 > a, .noibat_cate h2 > a, .noibat_cate h3 > a"
    next_xpath: >-
      re:replace(//input[@id="hdZoneId"][re:test(@value, "^[0-9]+$")]/@value,
      "^([0-9]+)$", "", "/timelinelist/\1/2.chn")
    max_pages: 2
- id: nld-kinh-te
  name: "Người Lao Động – Kinh tế"
  kind: listing
  url: "https://nld.com.vn/kinh-te.htm"
  tier: press
  scope: national
  listing:
    links_css: ".box-category-item a.box-category-link-title"
    next_xpath: >-
      re:replace(//input[@id="hdZoneId"][re:test(@value, "^[0-9]+$")]/@value,
      "^([0-9]+)$", "", "/timelinelist/\1/2.htm")
    max_pages: 2
- id: tuoitre-kinh-doanh
  name: "Tuổi Trẻ – Kinh doanh"
  kind: listing
  url: "https://tuoitre.vn/kinh-doanh.htm"
  tier: press
  scope: national
  listing:
    links_css: "a.box-category-link-title"
    next_xpath: >-
      re:replace(//input[@id="hdZoneId"][re:test(@value, "^[0-9]+$")]/@value,
      "^([0-9]+)$", "", "/timeline/\1/trang-1.htm")
    max_pages: 2
- id: vietnamnet-kinh-doanh
  name: "VietNamNet – Kinh doanh"
  kind: listing
  url: "https://vietnamnet.vn/kinh-doanh"
  tier: press
  scope: national
  listing:
    links_css: >-
      h3.horizontalPost__main-title a, h3.verticalPost__main-title a,
      h2.verticalPost__main-title a
    next_css: "link#next[rel=next]"
"""
# The registry's own listing sources are checked as shipped; the others are written here.
REGISTRY = [s for s in load_sources(REPO / "config" / "sources.yaml") if s.kind == "listing"]
SOURCES = {
    s.id.split("-")[0]: s
    for s in [*map(Source.model_validate, yaml.safe_load(SOURCES_YAML)), *REGISTRY]
}
LATE_CHARSET = {"baochinhphu", "tuoitre", "vnexpress"}  # per the fixtures README
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
MOJIBAKE = ("Ã", "á»", "Ä‘", "Æ°")


def _listing() -> dict[str, dict[str, str]]:
    folder = shared_path("fixtures/vn-listing-pages")
    return json.loads((folder / "listing.json").read_text(encoding="utf-8"))["pages"]


def _page_bytes(site: str) -> bytes:
    folder = shared_path("fixtures/vn-listing-pages")
    return gzip.decompress((folder / _listing()[site]["file"]).read_bytes())


def _hrefs(html: str, base: str) -> set[str]:
    """Every href on the page, absolute, read with a regex rather than a selector."""
    return {urljoin(base, href).split("#")[0] for href in re.findall(r'href="([^"]*)"', html)}


def test_every_saved_page_has_rules():
    assert sorted(SOURCES) == sorted(_listing())


@pytest.mark.parametrize("site", sorted(SOURCES))
def test_rules_find_the_article_links_of_each_section_page(site):
    saved = _listing()[site]
    source = SOURCES[site]
    assert str(source.url) == saved["url"]
    html = decode_html(_page_bytes(site), "text/html")
    host = urlsplit(saved["url"]).hostname
    suffix = re.escape(saved["article_link_suffix"])
    # All eight outlets end an article's slug with a numeric id (baodautu writes "d" first);
    # section pages such as /kinh-doanh/tai-chinh.htm share the suffix but carry no id.
    article = re.compile(rf"^https://{re.escape(host)}/[^?#]+-d?\d{{6,}}{suffix}$")
    on_page = {link for link in _hrefs(html, saved["url"]) if article.match(link)}

    found = parse_listing(html, saved["url"], source.listing)

    assert len(found.links) >= 10, found.links
    assert len(found.links) == len(set(found.links))
    not_articles = [link for link in found.links if not article.match(link)]
    assert not_articles == []
    assert set(found.links) <= on_page  # nothing invented, nothing off the page


@pytest.mark.parametrize("site", sorted(SOURCES))
def test_next_page_rule_finds_the_next_page(site):
    saved = _listing()[site]
    html = decode_html(_page_bytes(site), "text/html")
    expected = saved["next_page_url_in_source_tests"]
    # The source project's expectation, checked against the page: either a link on it, or the
    # timeline URL its script builds from the zone id and the page index it carries.
    zone = re.search(r'id="hdZoneId" value="(\d+)"', html)
    index = re.search(r'id="hdPageIndex" value="(\d+)"', html)
    on_page = expected in _hrefs(html, saved["url"])
    from_script = zone is not None and f"/{zone.group(1)}/" in expected
    assert on_page or from_script
    if from_script and index is not None:
        assert re.search(r"(\d+)\.\w+$", expected).group(1) == str(int(index.group(1)) + 1)
    assert parse_listing(html, saved["url"], SOURCES[site].listing).next_url == expected


@pytest.mark.parametrize("site", sorted(LATE_CHARSET))
def test_late_charset_pages_keep_their_vietnamese_titles(site):
    raw = _page_bytes(site)
    # The trap is real: bytes handed to a parser without a charset come out as mojibake.
    naive_title = lxml.html.fromstring(raw).findtext(".//title")
    assert any(sign in naive_title for sign in MOJIBAKE)

    html = decode_html(raw, "text/html")
    page = Selector(text=html)
    rules = SOURCES[site].listing
    titles = [" ".join(a.xpath("string()").get().split()) for a in page.css(rules.links_css)]
    titles = [title for title in titles if title] + [page.css("title::text").get()]
    assert len(titles) >= 10
    assert all(VIETNAMESE.search(title) for title in titles), titles
    assert not [title for title in titles if any(sign in title for sign in MOJIBAKE)]


PAGE = """<html><head><base href="https://tin.example.vn/muc/"></head><body>
<a class="t" href="bai-1.html?utm_source=fb#top">1</a>
<a class="t" href="https://tin.example.vn/muc/bai-1.html">1 again</a>
<a class="t" href="//www.tin.example.vn/bai-2.html">2</a>
<a class="t" href="https://video.tin.example.vn/bai-3.html">3</a>
<a class="t" href="https://other.example.com/bai-4.html">elsewhere</a>
<a class="t" href="javascript:void(0)">js</a>
<a class="t">no href</a>
<a class="next" href="/muc/trang-1.html">this page again</a>
<a class="more" href="/muc/trang-2.html">2</a>
</body></html>"""
PAGE_URL = "https://tin.example.vn/muc/trang-1.html"


def test_links_are_absolute_unique_and_on_the_site():
    found = parse_listing(PAGE, PAGE_URL, ListingRules(links_css="a.t", next_css="a.more"))
    assert found.links == [
        "https://tin.example.vn/muc/bai-1.html?utm_source=fb",
        "https://www.tin.example.vn/bai-2.html",
        "https://video.tin.example.vn/bai-3.html",
    ]
    assert found.next_url == "https://tin.example.vn/muc/trang-2.html"
    by_xpath = parse_listing(PAGE, PAGE_URL, ListingRules(links_xpath="//a[@class='t']/@href"))
    assert by_xpath.links == found.links and by_xpath.next_url is None


def test_next_link_back_to_the_same_page_is_no_next_page():
    rules = ListingRules(links_css="a.t", next_css="a.next")
    assert parse_listing(PAGE, PAGE_URL, rules).next_url is None
    assert parse_listing(PAGE, PAGE_URL + "?utm_medium=x#a", rules).next_url is None


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        (ListingRules(links_css="a.t["), "invalid CSS selector 'a.t['"),
        (ListingRules(links_css="a:khong-co"), "invalid CSS selector 'a:khong-co'"),
        (ListingRules(links_xpath="//a[@class="), "invalid XPath selector '//a[@class='"),
        (ListingRules(links_css="a.t", next_xpath="//a[1"), "invalid XPath selector '//a[1'"),
        (ListingRules(links_xpath="count(//a)"), "XPath selector 'count(//a)' gives a float"),
    ],
)
def test_invalid_selector_is_named(rules, named):
    with pytest.raises(ListingError, match=re.escape(named)):
        parse_listing(PAGE, PAGE_URL, rules)
