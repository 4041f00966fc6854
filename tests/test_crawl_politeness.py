"""A site that asks us to slow down is obeyed, a failing site is retried with backoff, and a
response that inflates past the size cap is a failure, not a full memory."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from crawlers.retry_after import retry_after_s
from tests.crawling import ALLOW_ALL, article, quick_settings, rss, run_crawl, source
from tests.http_site import Route, RouteSite


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Thu, 26 Nov 2026 10:01:30 GMT", 90.0),
        ("Thu, 26 Nov 2026 09:00:00 GMT", 0.0),  # already past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(header, seconds):
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert retry_after_s(header, now=now) == seconds


def test_429_with_retry_after_is_waited_out_then_the_page_is_read_once(tmp_path):
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/feed.xml": Route(rss("/a.html", "/b.html"), "application/rss+xml"),
        "/a.html": [
            Route(b"Too many requests", "text/plain", status=429, headers={"Retry-After": "2"}),
            Route(article("Đọc lại sau khi chờ")),
        ],
        "/b.html": Route(article("Bài khác cùng trang")),
    }
    with RouteSite(routes) as site:
        result = run_crawl(
            [source("bao-dong", f"{site.base_url}/feed.xml")],
            tmp_path,
            quick_settings(retries=2, backoff_s=0.1),
        )
    assert result.failures == []
    items = result.by_path()  # fails on an item emitted twice
    assert items["/a.html"].title == "Tin 0" and items["/a.html"].extractor != "feed-summary"
    assert "/b.html" in items
    (refused,) = [hit for hit in site.hits if hit.status == 429]
    after = [hit for hit in site.hits if hit.at > refused.at]
    assert [hit.path for hit in after if hit.path == "/a.html"] == ["/a.html"]
    # The server asked for 2 s: no request to the site came sooner, the retry included.
    assert min(hit.at for hit in after) - refused.at >= 2.0


def test_server_errors_are_retried_with_a_growing_delay(tmp_path):
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/feed.xml": Route(rss("/a.html"), "application/rss+xml"),
        "/a.html": [
            Route(b"oops", "text/plain", status=500),
            Route(b"busy", "text/plain", status=503),
            Route(article("Lần thứ ba")),
        ],
    }
    with RouteSite(routes) as site:
        result = run_crawl(
            [source("bao-loi", f"{site.base_url}/feed.xml")],
            tmp_path,
            quick_settings(retries=2, backoff_s=0.4),
        )
    tries = [hit for hit in site.hits if hit.path == "/a.html"]
    assert [hit.status for hit in tries] == [500, 503, 200]
    assert tries[1].at - tries[0].at >= 0.4
    assert tries[2].at - tries[1].at >= 0.8  # doubled after the second refusal in a row
    assert result.failures == [] and len(result.items) == 1


def test_retries_are_bounded_and_the_last_answer_is_the_failure(tmp_path):
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/feed.xml": Route(b"slow down", "text/plain", status=429, headers={"Retry-After": "0"}),
    }
    with RouteSite(routes) as site:
        result = run_crawl(
            [source("luon-tu-choi", f"{site.base_url}/feed.xml")],
            tmp_path,
            quick_settings(retries=1, backoff_s=0.1),
        )
    assert site.requested.count("/feed.xml") == 2
    assert [(f.stage, f.reason) for f in result.failures] == [("feed", "http_429")]
    assert "luon-tu-choi" not in result.done


def test_gzip_bomb_is_a_too_large_failure_and_the_crawl_goes_on(tmp_path):
    bomb = gzip.compress(b"<html><body>" + b" " * (30 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 60_000  # small on the wire, 30 MB inflated
    compressed = {"Content-Encoding": "gzip"}
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/feed.xml": Route(rss("/bomb.html", "/ok.html"), "application/rss+xml"),
        "/bomb.html": Route(bomb, headers=compressed),
        "/ok.html": Route(article("Trang bình thường")),
        "/bomb.xml": Route(bomb, "application/rss+xml", headers=compressed),
    }
    with RouteSite(routes) as site:
        result = run_crawl(
            [
                source("co-bom", f"{site.base_url}/feed.xml"),
                source("feed-bom", f"{site.base_url}/bomb.xml"),
            ],
            tmp_path,
            quick_settings(max_page_bytes=1024 * 1024),
        )
    assert result.reasons("article") == {"/bomb.html": "too_large"}
    assert result.reasons("feed") == {"/bomb.xml": "too_large"}
    items = result.by_path()
    assert items["/bomb.html"].extractor == "feed-summary"
    assert items["/ok.html"].extractor != "feed-summary"
    assert result.done["co-bom"].entries == 2
