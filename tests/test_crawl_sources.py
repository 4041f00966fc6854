"""Each web source kind through the real crawl child: sitemaps, listing pages, full-content
feeds, conditional GET, and pages that are not articles."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from crawlers.dates import VIETNAM
from crawlers.events import Validators
from mediawatch.identity import web_item_id
from mediawatch.model import ListingRules, SourceKind
from tests.conftest import shared_path
from tests.crawling import ALLOW_ALL, BODY, article, rss, run_crawl, source
from tests.http_site import Route, RouteSite

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>{base}/tin/mot.html</loc><news:news>
    <news:publication><news:name>Báo Thử</news:name><news:language>vi</news:language>
    </news:publication>
    <news:publication_date>2026-11-23T08:00:00+07:00</news:publication_date>
    <news:title>Đà Lạt mở rộng đường vành đai</news:title></news:news></url>
  <url><loc>{base}/tin/hai.html</loc><news:news>
    <news:publication_date>2026-11-22T10:30:00+07:00</news:publication_date>
    <news:title>Bảo Lộc khởi công trường học</news:title></news:news></url>
</urlset>"""
PLAIN_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{base}/trang/ba.html</loc><lastmod>2026-11-20</lastmod></url>
</urlset>"""
SITEMAP_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{base}/sitemaps/news.xml.gz</loc></sitemap>
  <sitemap><loc>{base}/sitemaps/pages.xml</loc></sitemap>
</sitemapindex>"""


def test_sitemap_index_leads_through_a_gzip_child_to_the_articles(tmp_path):
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/sitemap_index.xml": Route(SITEMAP_INDEX.encode(), "application/xml"),
        # gzip as a file (no Content-Encoding), the way sites serve .xml.gz; {base} is filled in
        # below since the server cannot rewrite compressed bytes.
        "/sitemaps/pages.xml": Route(PLAIN_SITEMAP.encode(), "application/xml"),
        "/tin/mot.html": Route(article("Tiêu đề trên trang một")),
        "/tin/hai.html": Route(article("Tiêu đề trên trang hai")),
        "/trang/ba.html": Route(article("Trang ba", published="2026-11-20T09:00:00+07:00")),
    }
    with RouteSite(routes) as site:
        news = NEWS_SITEMAP.replace("{base}", site.base_url).encode()
        routes["/sitemaps/news.xml.gz"] = Route(gzip.compress(news), "application/x-gzip")
        sitemap = source("bao-thu", f"{site.base_url}/sitemap_index.xml", kind=SourceKind.SITEMAP)
        result = run_crawl([sitemap], tmp_path)
    items = result.by_path()
    assert set(items) == {"/tin/mot.html", "/tin/hai.html", "/trang/ba.html"}
    one = items["/tin/mot.html"]
    # A news sitemap's own title and date win over the page's, and say where they came from.
    assert one.title == "Đà Lạt mở rộng đường vành đai"
    assert one.published_at == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert one.date_source == "sitemap"  # the page has no date of its own
    assert BODY[:40] in one.text and one.extractor != "feed-summary"
    three = items["/trang/ba.html"]
    assert three.title == "Trang ba"  # a plain sitemap has no title: the page gives it
    # the page's own time beats the sitemap's lastmod day
    assert three.published_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert three.date_source in {"json-ld", "meta", "trafilatura"}
    done = result.done["bao-thu"]
    assert (done.entries, done.skipped_known) == (3, 0)
    assert result.failures == []
    assert sorted(p for p in site.requested if "sitemap" in p) == [
        "/sitemap_index.xml",
        "/sitemaps/news.xml.gz",
        "/sitemaps/pages.xml",
    ]


def test_real_gzip_sitemap_and_a_broken_child_are_both_reported(tmp_path):
    real = shared_path("fixtures/sitemaps-and-feeds/sitemap.xml.gz").read_bytes()
    index = SITEMAP_INDEX.replace("news.xml.gz", "real.xml.gz").replace("pages.xml", "gone.xml")
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/index.xml": Route(index.encode(), "application/xml"),
        "/sitemaps/real.xml.gz": Route(real, "application/x-gzip"),
    }
    with RouteSite(routes) as site:
        sitemap = source(
            "real-sitemap", f"{site.base_url}/index.xml", kind=SourceKind.SITEMAP, fetch_pages=False
        )
        result = run_crawl([sitemap], tmp_path)
    # The real sitemap (trafilatura's test copy of sitemaps.org's own) lists 84 pages.
    assert result.done["real-sitemap"].entries == 84
    assert result.items == []  # no page fetched, and a bare URL is nothing to store
    (gone,) = result.failures
    assert (gone.stage, gone.reason, gone.url) == (
        "feed",
        "http_404",
        f"{site.base_url}/sitemaps/gone.xml",
    )


def listing_page(number: int, last: int) -> bytes:
    links = "".join(
        f'<li><a class="title" href="/tin/{number}-{i}.html">Tin {number}.{i}</a></li>'
        for i in (1, 2)
    )
    more = f'<a class="next" href="/muc/{number + 1}">Trang sau</a>' if number < last else ""
    return (
        '<html><head><meta charset="utf-8"><title>Thời sự</title></head><body>'
        f'<a href="/">Trang chủ</a><ul class="news">{links}</ul>{more}</body></html>'
    ).encode()


def listing_site(pages: int) -> dict[str, Route]:
    routes = {"/robots.txt": Route(ALLOW_ALL, "text/plain")}
    for number in range(1, pages + 1):
        routes[f"/muc/{number}"] = Route(listing_page(number, pages))
        for i in (1, 2):
            routes[f"/tin/{number}-{i}.html"] = Route(
                article(f"Bài {number}.{i}", published=f"2026-11-2{number}T07:00:00+07:00")
            )
    return routes


RULES = ListingRules(links_css="ul.news a.title", next_css="a.next", max_pages=3)


def test_listing_pages_are_followed_up_to_max_pages(tmp_path):
    with RouteSite(listing_site(pages=5)) as site:
        listing = source(
            "muc-thoi-su", f"{site.base_url}/muc/1", kind=SourceKind.LISTING, listing=RULES
        )
        result = run_crawl([listing], tmp_path)
    assert [p for p in site.requested if p.startswith("/muc/")] == ["/muc/1", "/muc/2", "/muc/3"]
    items = result.by_path()
    assert set(items) == {f"/tin/{n}-{i}.html" for n in (1, 2, 3) for i in (1, 2)}
    assert items["/tin/2-1.html"].title == "Bài 2.1"
    published = items["/tin/2-1.html"].published_at
    assert published.astimezone(VIETNAM).date().isoformat() == "2026-11-22"
    assert result.done["muc-thoi-su"].entries == 6


def test_listing_paging_stops_at_a_page_of_known_items(tmp_path):
    with RouteSite(listing_site(pages=5)) as site:
        known = [web_item_id(f"{site.base_url}/tin/1-{i}.html") for i in (1, 2)]
        listing = source(
            "muc-thoi-su", f"{site.base_url}/muc/1", kind=SourceKind.LISTING, listing=RULES
        )
        result = run_crawl([listing], tmp_path, known_ids=known)
    assert site.requested == ["/robots.txt", "/muc/1"]
    done = result.done["muc-thoi-su"]
    assert (done.entries, done.skipped_known) == (2, 2)
    assert result.items == []


def test_listing_rules_that_match_nothing_fail_the_source(tmp_path):
    rules = ListingRules(links_css="div.gone a", max_pages=2)
    with RouteSite(listing_site(pages=1)) as site:
        listing = source(
            "doi-giao-dien", f"{site.base_url}/muc/1", kind=SourceKind.LISTING, listing=rules
        )
        result = run_crawl([listing], tmp_path)
    assert "doi-giao-dien" not in result.done
    assert [(f.stage, f.reason) for f in result.failures] == [("feed", "malformed_listing")]


def test_full_content_feed_is_stored_without_fetching_pages_and_social_is_skipped(tmp_path):
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/full.xml": Route(rss("/bai/1.html", "/bai/2.html"), "application/rss+xml"),
    }
    with RouteSite(routes) as site:
        feed = source("toan-van", f"{site.base_url}/full.xml", fetch_pages=False)
        social = source("tele", "https://t.me/s/kenh", kind=SourceKind.TELEGRAM, account="kenh")
        result = run_crawl([feed, social], tmp_path)
    assert site.requested == ["/robots.txt", "/full.xml"]
    assert set(result.done) == {"toan-van"} and result.failures == []  # social: not this crawl's
    items = result.by_path()
    assert set(items) == {"/bai/1.html", "/bai/2.html"}
    first = items["/bai/1.html"]
    assert first.text == "Tóm tắt tin số 0 về chính sách đất đai của tỉnh."
    assert (first.extractor, first.date_source) == ("feed", "feed")
    assert first.published_at == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_unchanged_feed_answers_304_and_nothing_is_fetched(tmp_path):
    stamp = "Mon, 23 Nov 2026 01:00:00 GMT"
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/feed.xml": Route(
            rss("/a.html", "/b.html"),
            "application/rss+xml",
            etag='"v1"',
            headers={"Last-Modified": stamp},
        ),
        "/a.html": Route(article("A")),
        "/b.html": Route(article("B")),
    }
    with RouteSite(routes) as site:
        feed = source("co-etag", f"{site.base_url}/feed.xml")
        first = run_crawl([feed], tmp_path)
        before = len(site.hits)
        validators = {"co-etag": Validators(etag=first.done["co-etag"].etag, last_modified=stamp)}
        second = run_crawl([feed], tmp_path, validators=validators)
        later = site.hits[before:]
    done = first.done["co-etag"]
    assert (done.etag, done.last_modified, done.not_modified, done.entries) == (
        '"v1"',
        stamp,
        False,
        2,
    )
    assert len(first.items) == 2
    (asked,) = [hit for hit in later if hit.path == "/feed.xml"]
    assert asked.headers["If-None-Match"] == '"v1"'
    assert asked.headers["If-Modified-Since"] == stamp
    assert asked.status == 304
    assert [hit.path for hit in later if hit.path.endswith(".html")] == []
    unchanged = second.done["co-etag"]
    assert unchanged.not_modified and unchanged.entries == 0
    assert second.items == [] and second.failures == []


CHALLENGE = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">
<noscript>Enable JavaScript and cookies to continue</noscript></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "bao.vn",cType: 'managed'};
var a = document.createElement('script');
a.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1';
document.getElementsByTagName('head')[0].appendChild(a);}());</script></body></html>"""


def test_challenge_and_empty_pages_are_failures_not_articles(tmp_path):
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/feed.xml": Route(
            rss("/challenge.html", "/blocked.html", "/empty.html", "/ok.html"),
            "application/rss+xml",
        ),
        "/challenge.html": Route(CHALLENGE),
        # Cloudflare's managed challenge as it is served: 403 and a header naming it.
        "/blocked.html": Route(CHALLENGE, status=403, headers={"cf-mitigated": "challenge"}),
        "/empty.html": Route(b"<html><head><script>var x=1;</script></head><body> </body></html>"),
        "/ok.html": Route(article("Bình thường")),
    }
    with RouteSite(routes) as site:
        result = run_crawl([source("bao-chan", f"{site.base_url}/feed.xml")], tmp_path)
    assert result.reasons("article") == {
        "/challenge.html": "bot_challenge",
        "/blocked.html": "bot_challenge",
        "/empty.html": "empty_page",
    }
    items = result.by_path()
    for path in ("/challenge.html", "/blocked.html", "/empty.html"):
        # Kept with what the feed said, never as the challenge page's words.
        assert items[path].extractor == "feed-summary"
        assert items[path].text.startswith("Tóm tắt tin số")
    assert items["/ok.html"].extractor not in ("feed-summary", "none")


FULL_TEXT_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Toàn văn</title><link>{base}/</link>
<item><title>Đà Lạt cấm xe tải nặng vào trung tâm</title><link>{base}/bai/9.html</link>
<description>Tóm tắt ngắn.</description>
<content:encoded><![CDATA[<p>Từ ngày 1/12, xe tải trên 10 tấn không được vào trung tâm Đà Lạt.</p>
<p>UBND tỉnh Lâm Đồng cho biết quy định nhằm giảm ùn tắc và bảo vệ mặt đường.</p>]]>
</content:encoded></item></channel></rss>"""


def test_a_feed_carrying_the_full_text_gives_it_paragraph_by_paragraph(tmp_path):
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/full.xml": Route(FULL_TEXT_FEED.encode(), "application/rss+xml"),
    }
    with RouteSite(routes) as site:
        result = run_crawl(
            [source("toan-van", f"{site.base_url}/full.xml", fetch_pages=False)], tmp_path
        )
    item = result.by_path()["/bai/9.html"]
    assert item.text == (
        "Từ ngày 1/12, xe tải trên 10 tấn không được vào trung tâm Đà Lạt.\n"
        "UBND tỉnh Lâm Đồng cho biết quy định nhằm giảm ùn tắc và bảo vệ mặt đường."
    )
