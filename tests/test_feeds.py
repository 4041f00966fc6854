"""Feed parsing on real Vietnamese feeds (../shared/fixtures/vn-rss-feeds)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from crawlers.feeds import FeedError, parse_feed
from tests.conftest import shared_path


def feed_cases() -> list[str]:
    return [
        "2golang-vnexpress-rss/example.xml",
        *(
            f"ninhphu321-vietnam-news-monitor/{name}.rss"
            for name in (
                "baochinhphu",
                "cafef",
                "dantri",
                "nhandan",
                "thanhnien",
                "tienphong",
                "tuoitre",
                "vietnambiz",
                "vietnamnet",
                "vietnamplus",
                "vietstock",
                "vneconomy",
                "vnexpress",
                "vnexpress_intl",
                "vov",
                "vtv",
                "znews",
            )
        ),
    ]


@pytest.mark.parametrize("name", feed_cases())
def test_vietnamese_feeds_parse_to_the_expected_reading(name):
    folder = shared_path("fixtures/vn-rss-feeds")
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))["feeds"][name]
    body = (folder / name).read_bytes()
    channel = re.search(rb"<link>\s*(?:<!\[CDATA\[)?\s*(https?://[^/<\]]+)", body)
    feed_url = channel.group(1).decode() + "/rss/feed.rss"
    feed = parse_feed(body, feed_url, "application/rss+xml; charset=utf-8")
    assert [e.title for e in feed.entries] == [i["title"] for i in expected["items"]]
    assert [e.link for e in feed.entries] == [i["link_absolute"] for i in expected["items"]]
    for entry, item in zip(feed.entries, expected["items"], strict=True):
        assert entry.published == datetime.fromisoformat(item["published"]), item["pubDate_raw"]
    if not expected["well_formed_xml"]:
        assert feed.warning  # recovered, and said so


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>not a feed</body></html>", b"\x00\xff\xfe garbage", b"<rss><channel>"],
)
def test_things_that_are_not_feeds_raise_a_clear_error(body):
    with pytest.raises(FeedError, match="not a usable feed"):
        parse_feed(body, "https://example.vn/rss")


def test_entries_without_a_usable_web_link_are_skipped_and_reported():
    items = "".join(
        f"<item><title>Tin {i}</title><link>{link}</link></item>"
        for i, link in enumerate(
            [
                "javascript:alert(1)",
                "file:///etc/passwd",
                "http://a.vn:99999/x",
                "http://[::1",
                "/tin/hop-le.html",
            ]
        )
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    feed = parse_feed(body, "https://bao.vn/rss/feed.rss")
    assert [e.link for e in feed.entries] == ["https://bao.vn/tin/hop-le.html"]
    assert "4 entries without a usable http(s) link skipped" in feed.warning
