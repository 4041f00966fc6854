"""The real Scrapy crawl against loopback servers: the demo corpus and hostile input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.query import QueueQuery, SearchQuery
from mediawatch.config import ReviewSettings, load_sources
from mediawatch.demo.site import load_corpus
from mediawatch.identity import web_item_id
from mediawatch.model import SourceTier, utc_now
from tests.conftest import REPO, free_port
from tests.crawling import ARTICLE, BODY, rss, source
from tests.http_site import Route, RouteSite


def test_demo_corpus_is_crawled_extracted_and_classified(demo_store, demo_site):
    corpus = load_corpus()
    stored = demo_store.search(SearchQuery(limit=100))
    assert stored.total == len(corpus.items)
    news = next(i for i in corpus.items if i.outlet == "tincaonguyen" and not i.robots_disallowed)
    document = demo_store.get(web_item_id(f"{demo_site.base_url}/{news.outlet}/{news.slug}.html"))
    assert document.extractor == "trafilatura"
    assert news.paragraphs[0][:60] in document.text
    assert "Giấy phép hoạt động" not in document.text  # the page footer is not the article
    assert document.authors == ([news.author] if news.author else [])
    assert document.classification is not None
    assert 0 <= document.classification.risk <= 1
    assert document.language == "vi"


def test_tracking_parameters_do_not_make_new_items(demo_store, demo_site):
    tagged = [p for p in demo_site.requested_paths if "utm_source" in p]
    assert tagged, "the demo feeds tag some links"
    for path in tagged:
        assert demo_store.get(web_item_id(demo_site.base_url + path.split("?")[0])) is not None


def test_robots_txt_is_obeyed_and_the_feed_entry_is_kept(demo_store, demo_site):
    corpus = load_corpus()
    blocked = next(i for i in corpus.items if i.robots_disallowed)
    path = f"/{blocked.outlet}/{blocked.slug}.html"
    assert not any(p.split("?")[0] == path for p in demo_site.requested_paths)
    document = demo_store.get(web_item_id(demo_site.base_url + path))
    assert document is not None and document.extractor == "feed-summary"
    assert document.text == blocked.summary


def test_copied_rumour_is_marked_as_duplicate(demo_store, demo_site):
    corpus = load_corpus()
    copy = next(i for i in corpus.items if i.copy_of)
    copy_doc = demo_store.get(web_item_id(f"{demo_site.base_url}/{copy.outlet}/{copy.slug}.html"))
    original = next(i for i in corpus.items if i.slug == copy.copy_of)
    original_id = web_item_id(f"{demo_site.base_url}/{original.outlet}/{original.slug}.html")
    original_doc = demo_store.get(original_id)
    marks = {copy_doc.duplicate_of, original_doc.duplicate_of}
    # Whichever of the two was crawled first is the original; the other points at it.
    assert marks in ({None, original_id}, {None, copy_doc.id})


def test_english_item_is_kept_and_marked(demo_store):
    english = demo_store.search(SearchQuery(text="visitors", limit=5)).hits
    assert english and english[0].document.language == "en"


def test_rumours_outrank_official_news_in_the_queue(demo_store):
    corpus = load_corpus()
    tiers = {o.slug: o.tier for o in corpus.outlets}
    queue = demo_store.review_queue(
        QueueQuery(threshold=0.5, limit=100), utc_now(), ReviewSettings()
    )
    assert queue.total >= 5
    risky_sources = {hit.document.source_id.removeprefix("demo-") for hit in queue.hits}
    assert all(tiers[s] in (SourceTier.SOCIAL, SourceTier.UNKNOWN) for s in risky_sources)
    top = queue.hits[0].document.classification
    assert {r.code for r in top.reasons} & {"sensational_wording", "unverified_source_phrasing"}
    assert all(r.evidence for r in top.reasons)


def test_second_crawl_stores_nothing_new_and_refetches_no_article(pipeline, demo_site):
    sources = demo_site.site.sources()[:2]
    first = pipeline.crawl(sources)
    before = len(demo_site.requested_paths)
    second = pipeline.crawl(sources)
    fetched_again = [p for p in demo_site.requested_paths[before:] if p.endswith(".html")]
    assert first.stored > 0
    assert (second.stored, second.updated) == (0, 0)
    assert fetched_again == []


def test_hostile_and_broken_sources_fail_one_by_one(pipeline, settings):
    settings.crawl.max_page_bytes = 50_000
    charset_trap = (
        "<html><head><title>Giá cà phê hôm nay</title>"
        + "<script>var x = 1;</script>" * 40
        + '<meta charset="utf-8"></head><body><article><h1>Giá cà phê hôm nay</h1>'
        + f"<p>{BODY} Giá cà phê Lâm Đồng tăng.</p>" * 3
        + "</article></body></html>"
    ).encode()
    routes = {
        "/robots.txt": Route(b"User-agent: *\nDisallow:\n", "text/plain"),
        "/good.xml": Route(
            rss("/a.html", "/huge.html", "/image.png", "/trap.html", "/gone.html"),
            "application/rss+xml",
        ),
        "/a.html": Route(ARTICLE.format(title="Giải phóng mặt bằng", body=BODY).encode()),
        "/huge.html": Route(ARTICLE.format(title="Rất lớn", body=BODY * 2000).encode()),
        "/image.png": Route(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png"),
        "/trap.html": Route(charset_trap, "text/html"),
        "/not-a-feed.xml": Route("<html><body>Trang chủ</body></html>".encode(), "text/html"),
        "/broken.xml": Route("<rss><channel><item><title>Hỏng".encode(), "application/rss+xml"),
    }
    closed_port = free_port()
    with RouteSite(routes) as site:
        sources = [
            source("good", f"{site.base_url}/good.xml"),
            source("html-not-feed", f"{site.base_url}/not-a-feed.xml"),
            source("missing", f"{site.base_url}/missing.xml"),
            source("refused", f"http://127.0.0.1:{closed_port}/feed.xml"),
            source("broken", f"{site.base_url}/broken.xml"),
        ]
        report = pipeline.crawl(sources)
    assert report.failures[("html-not-feed", "feed", "malformed_feed")] == 1
    assert report.failures[("missing", "feed", "http_404")] == 1
    assert report.failures[("refused", "feed", "connection_refused")] == 1
    assert report.failures[("broken", "feed", "malformed_feed")] == 1
    assert report.failed_sources == {"html-not-feed", "missing", "refused", "broken"}
    # Each entry of the good feed is stored: extracted where the page allowed it,
    # from the feed's own summary where the page was too large, not HTML, or gone.
    stored = {
        h.document.url.rsplit("/", 1)[1]: h.document
        for h in pipeline.store.search(SearchQuery(source_ids=["good"])).hits
    }
    assert set(stored) == {"a.html", "huge.html", "image.png", "trap.html", "gone.html"}
    assert stored["a.html"].extractor == "trafilatura"
    assert stored["huge.html"].extractor == "feed-summary"
    assert stored["image.png"].extractor == "feed-summary"
    assert stored["gone.html"].extractor == "feed-summary"
    assert "Giá cà phê Lâm Đồng tăng" in stored["trap.html"].text  # no mojibake
    assert report.failures[("good", "article", "too_large")] == 1
    assert report.failures[("good", "article", "not_html")] == 1
    assert report.failures[("good", "article", "http_404")] == 1
    assert report.failure_count("good", "article") == 3


def test_real_sources_fail_cleanly_offline_one_line_each(tmp_path):
    """`mediawatch crawl` on config/sources.yaml: nothing is reachable here."""
    sources = [s for s in load_sources(REPO / "config" / "sources.yaml") if s.enabled]
    env = os.environ | {
        "MEDIAWATCH_DATA_DIR": str(tmp_path),
        "MEDIAWATCH_CRAWL__RETRIES": "0",
        "MEDIAWATCH_CRAWL__TIMEOUT_S": "5",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mediawatch.cli", "crawl"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    failure_lines = [line for line in result.stderr.splitlines() if "source failed" in line]
    assert len(failure_lines) == len(sources)
    for source_entry in sources:
        assert sum(f"source={source_entry.id} " in line for line in failure_lines) == 1
    assert "Traceback" not in result.stderr
    assert Path(tmp_path, "logs", "crawl.log").exists()


@pytest.mark.parametrize("path", ["/robots.txt", "/nowhere", "/congthongtin/none.html"])
def test_demo_site_answers_unknown_paths_cleanly(demo_site, path):
    status, _type, body = demo_site.site.render(path)
    assert status in (200, 404) and body
