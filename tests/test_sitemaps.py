"""Sitemaps: trafilatura's real test sitemaps read to the URLs they hold, news titles and dates
kept, and everything that is not a usable sitemap (bombs, broken XML, feeds, entities) refused
with its reason."""

from __future__ import annotations

import gzip
import re
import tracemalloc
from datetime import datetime, timedelta
from io import BytesIO

import pytest
from structlog.testing import capture_logs

from crawlers.sitemaps import SitemapError, parse_sitemap, sitemap_urls_from_robots
from tests.conftest import shared_path

FIXTURES = "fixtures/sitemaps-and-feeds"


def _locs(text: str, element: str) -> list[str]:
    """The first <loc> of each <url> or <sitemap> block, read with a regex, CDATA unwrapped."""
    blocks = re.findall(rf"<{element}>(.*?)</{element}>", text, re.S)
    locs = [re.search(r"<loc>\s*(.*?)\s*</loc>", block, re.S).group(1) for block in blocks]
    return [re.sub(r"^<!\[CDATA\[(.*)\]\]>$", r"\1", loc) for loc in locs]


@pytest.mark.parametrize("name", ["sitemap.xml", "sitemap.xml.gz", "sitemap-hreflang.xml"])
def test_real_sitemaps_give_every_url_they_hold(name):
    body = (shared_path(FIXTURES) / name).read_bytes()
    text = (gzip.decompress(body) if name.endswith(".gz") else body).decode("utf-8")
    expected_pages, expected_children = _locs(text, "url"), _locs(text, "sitemap")
    assert expected_pages  # the regex reading found something to compare with

    sitemap = parse_sitemap(body, f"https://example.org/{name}")

    assert [entry.link for entry in sitemap.entries] == expected_pages
    assert sitemap.sitemaps == expected_children
    # hreflang alternates (xhtml:link) are other language versions, not extra entries
    assert all(entry.title == "" and entry.summary == "" for entry in sitemap.entries)


def test_gzip_is_recognised_by_its_bytes_not_by_the_file_name():
    folder = shared_path(FIXTURES)
    compressed = (folder / "sitemap.xml.gz").read_bytes()
    plain = (folder / "sitemap.xml").read_bytes()
    misnamed_gzip = parse_sitemap(compressed, "https://example.org/sitemap.xml")
    misnamed_plain = parse_sitemap(plain, "https://example.org/sitemap.xml.gz")
    assert misnamed_gzip.entries == misnamed_plain.entries
    assert len(misnamed_gzip.entries) == plain.count(b"<loc>")


def test_lastmod_is_a_day_in_vietnam_when_no_zone_is_written():
    body = (shared_path(FIXTURES) / "sitemap.xml").read_bytes()
    first_lastmod = re.search(rb"<lastmod>(\d{4})-(\d{2})-(\d{2})</lastmod>", body)
    year, month, day = (int(part) for part in first_lastmod.groups())
    published = parse_sitemap(body, "https://example.org/sitemap.xml").entries[0].published
    assert (published.year, published.month, published.day) == (year, month, day)
    assert published.utcoffset() == timedelta(hours=7)
    assert published.tzinfo.key == "Asia/Ho_Chi_Minh"


def test_sitemap_index_yields_its_children_with_cdata_unwrapped():
    body = (shared_path(FIXTURES) / "sitemap2.xml").read_bytes()
    text = body.decode("utf-8")
    sitemap = parse_sitemap(body, "http://www.example.com/sitemap.xml")
    assert sitemap.entries == []
    assert sitemap.sitemaps == _locs(text, "sitemap")
    assert len(sitemap.sitemaps) == text.count("<sitemap>") == 2


# Google's documented news sitemap shape, with extensions a news site adds beside it.
NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">
  <url>
    <loc>https://baolamdong.vn/da-lat-mua-hoa-2026-123.html</loc>
    <news:news>
      <news:publication><news:name>Báo Lâm Đồng</news:name><news:language>vi</news:language>
      </news:publication>
      <news:publication_date>2026-03-07T08:30:00+07:00</news:publication_date>
      <news:title>  Đà Lạt   mùa hoa
        mai anh đào  </news:title>
    </news:news>
    <image:image><image:loc>https://baolamdong.vn/anh/hoa.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>https://baolamdong.vn/bao-luc-khong-mui-gio-124.html</loc>
    <lastmod>2026-03-06T23:15:00</lastmod>
    <news:news><news:title>Bảo Lộc không múi giờ</news:title>
      <news:publication_date>2026-03-06T21:00</news:publication_date></news:news>
    <video:video><video:content_loc>https://baolamdong.vn/v.mp4</video:content_loc></video:video>
  </url>
  <url>
    <loc>https://baolamdong.vn/chi-co-lastmod-125.html</loc>
    <lastmod>2026-03-05T10:00:00Z</lastmod>
  </url>
  <url><loc>https://baolamdong.vn/nam-thang-126.html</loc><lastmod>2026-03</lastmod></url>
  <url><loc>https://baolamdong.vn/ngay-sai-127.html</loc><lastmod>2026-02-30</lastmod></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>
"""


def test_news_sitemap_gives_titles_and_only_real_dates():
    with capture_logs() as logs:
        sitemap = parse_sitemap(NEWS_SITEMAP.encode(), "https://baolamdong.vn/sitemap-news.xml")
    by_slug = {entry.link.rsplit("/", 1)[1]: entry for entry in sitemap.entries}
    assert list(by_slug) == [
        "da-lat-mua-hoa-2026-123.html",
        "bao-luc-khong-mui-gio-124.html",
        "chi-co-lastmod-125.html",
        "nam-thang-126.html",
        "ngay-sai-127.html",
    ]
    first = by_slug["da-lat-mua-hoa-2026-123.html"]
    assert first.title == "Đà Lạt mùa hoa mai anh đào"
    assert first.published == datetime.fromisoformat("2026-03-07T08:30:00+07:00")
    second = by_slug["bao-luc-khong-mui-gio-124.html"]
    assert second.title == "Bảo Lộc không múi giờ"
    # the news date wins over lastmod; without a zone it is Vietnamese time
    assert second.published.isoformat() == "2026-03-06T21:00:00+07:00"
    assert by_slug["chi-co-lastmod-125.html"].published.isoformat() == "2026-03-05T10:00:00+00:00"
    assert by_slug["nam-thang-126.html"].published is None  # a month is not a day: no guess
    assert by_slug["ngay-sai-127.html"].published is None  # 30 February does not exist
    skipped = [log for log in logs if log["event"] == "sitemap_links_skipped"]
    assert skipped == [
        {
            "event": "sitemap_links_skipped",
            "log_level": "warning",
            "url": "https://baolamdong.vn/sitemap-news.xml",
            "skipped": 1,
            "reason": "not http(s)",
        }
    ]


def test_plain_text_sitemap_one_url_a_line():
    body = (
        "\ufeffhttps://baolamdong.vn/a-1.html\r\n\r\n  https://baolamdong.vn/b-2.html  \n"
        "ftp://baolamdong.vn/c.txt\nkhông phải URL\nhttps://baolamdong.vn/d-3.html"
    ).encode()
    sitemap = parse_sitemap(body, "https://baolamdong.vn/sitemap.txt")
    assert [entry.link for entry in sitemap.entries] == [
        "https://baolamdong.vn/a-1.html",
        "https://baolamdong.vn/b-2.html",
        "https://baolamdong.vn/d-3.html",
    ]
    assert all(entry.published is None for entry in sitemap.entries)


def test_gzip_bomb_is_refused_without_inflating_it_in_memory():
    cap = 1024 * 1024
    buffer = BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as bomb:
        chunk = b"\0" * cap
        for _ in range(64):  # 64 MiB of zeros, ~64 KiB on the wire
            bomb.write(chunk)
    body = buffer.getvalue()
    assert len(body) < cap
    tracemalloc.start()
    try:
        with pytest.raises(SitemapError, match="decompression cap"):
            parse_sitemap(body, "https://example.org/bomb.xml.gz", max_bytes=cap)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * cap, f"peak {peak} bytes while refusing a 64 MiB bomb"


def test_plain_body_over_the_cap_and_broken_gzip_are_refused():
    with pytest.raises(SitemapError, match="exceeds the 100-byte cap"):
        parse_sitemap(b"<urlset>" + b" " * 200 + b"</urlset>", "https://e.org/s.xml", max_bytes=100)
    with pytest.raises(SitemapError, match="broken gzip"):
        parse_sitemap(b"\x1f\x8b\x08\x00garbage", "https://e.org/s.xml.gz")


def test_malformed_or_foreign_documents_are_refused_with_the_reason():
    folder = shared_path(FIXTURES)
    real = (folder / "sitemap.xml").read_bytes()
    cut_at = real.index(b"</loc>", len(real) // 2) - 5  # a download cut mid-URL
    with pytest.raises(SitemapError, match=r"malformed XML: .*line \d+"):
        parse_sitemap(real[:cut_at], "https://example.org/sitemap.xml")
    raw_ampersand = b"<urlset><url><loc>https://e.org/?a=1&b=2</loc></url></urlset>"
    with pytest.raises(SitemapError, match="malformed XML: EntityRef"):
        parse_sitemap(raw_ampersand, "https://e.org/sitemap.xml")
    with pytest.raises(SitemapError, match=r"root element <rss> is not <urlset>"):
        parse_sitemap((folder / "feed2.rss").read_bytes(), "https://example.org/feed2.rss")
    with pytest.raises(SitemapError, match=r"no http\(s\) URL on any line"):
        parse_sitemap((folder / "feed.json").read_bytes(), "https://example.org/feed.json")
    with pytest.raises(SitemapError, match=r"no http\(s\) URL on any line"):
        parse_sitemap(b"", "https://example.org/empty.xml")


def test_entities_are_never_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("mat-khau")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [
  <!ENTITY xxe SYSTEM "file://{secret}">
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<urlset><url><loc>https://e.org/&xxe;</loc></url><url><loc>https://e.org/&c;</loc></url></urlset>
""".encode()
    links = [entry.link for entry in parse_sitemap(body, "https://e.org/s.xml").entries]
    assert links == ["https://e.org/", "https://e.org/"]


def test_sitemap_lines_of_robots_txt():
    robots = (
        "User-agent: *\nDisallow: /admin\n"
        "Sitemap: https://baolamdong.vn/sitemap.xml\n"
        "sitemap: /sitemap-news.xml  # tin mới\n"
        "SITEMAP:https://baolamdong.vn/sitemap.xml\n"
        "Sitemap: ftp://baolamdong.vn/old.xml\n"
    )
    assert sitemap_urls_from_robots(robots, "https://baolamdong.vn/robots.txt") == [
        "https://baolamdong.vn/sitemap.xml",
        "https://baolamdong.vn/sitemap-news.xml",
    ]
