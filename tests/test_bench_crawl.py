"""The crawl benchmark, small: its site, its baseline and a whole run, so it cannot rot."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.crawl import measure
from bench.crawl.server import SiteServer
from bench.crawl.site import BenchSite
from crawlers.feeds import parse_feed
from index.sqlite import SQLiteStore
from mediawatch.pipeline import CrawlReport

PAGES = 120  # two feeds; a few exact and near copies


def test_site_is_the_same_for_a_seed_and_publishes_every_page_in_feeds_and_sitemaps() -> None:
    site = BenchSite(PAGES, 13, "http://127.0.0.1:1")
    again = BenchSite(PAGES, 13, "http://127.0.0.1:1")
    assert site.routes == again.routes
    assert BenchSite(PAGES, 14, "http://127.0.0.1:1").routes != site.routes

    page_urls = {site.url(a.path) for a in site.articles}
    feed_links = {
        entry.link
        for path in site.feed_paths
        for entry in parse_feed(site.routes[path].body, site.url(path), None).entries
    }
    assert feed_links == page_urls
    sitemap_text = b"".join(
        r.body for p, r in site.routes.items() if p.startswith("/sitemaps/")
    ).decode()
    assert all(f"<loc>{url}</loc>" in sitemap_text for url in page_urls)

    copies = site.exact_copies
    assert copies, "the seed must give exact copies for the store check to mean something"
    by_path = {a.path: a for a in site.articles}
    for copy in copies:
        original = by_path[copy.copy_of]
        assert (copy.title, copy.paragraphs) == (original.title, original.paragraphs)
    near = Counter(a.title for a in site.articles if a.copy_of is None)
    assert any(n > 1 for n in near.values()), "near copies share a title, not the text"
    sizes = [sum(len(p.encode()) for p in a.paragraphs) for a in site.articles]
    assert 1500 < sum(sizes) / len(sizes) < 6000


def test_plain_scrapy_fetches_every_page_via_sitemaps(tmp_path: Path) -> None:
    crawl = measure.bench_crawl_settings(4)
    with SiteServer(PAGES, 13) as server:
        site = BenchSite(PAGES, 13, server.base_url)
        timing = measure.run_plain(site, "sitemaps", crawl, tmp_path)
    assert timing.pages == PAGES


@pytest.mark.parametrize("via", ["feeds", "sitemaps"])
def test_a_whole_run_measures_both_and_checks_the_store(tmp_path: Path, via: str) -> None:
    result = measure.run(PAGES, 13, via, 4, tmp_path)

    copies = len(BenchSite(PAGES, 13, "http://127.0.0.1:1").exact_copies)
    assert (result.plain.pages, result.plain_unthrottled.pages, result.ours.pages) == (
        PAGES,
        PAGES,
        PAGES,
    )
    assert result.store == measure.StoreCheck(PAGES, PAGES - copies, copies)
    assert result.ratio == result.ours.pages_per_s / result.plain.pages_per_s > 0
    assert result.ours.cpu_child_s > 0 and result.ours.cpu_parent_s > 0


def test_a_crawl_that_failed_is_named_not_measured() -> None:
    report = CrawlReport(stored=3)
    report.failures[("bench-sitemap", "feed", "malformed_feed")] += 1
    with pytest.raises(measure.BenchFailure, match="via sitemaps: bench-sitemap feed: malformed"):
        measure.check_report(report, "sitemaps")


def test_a_store_missing_pages_fails_the_check(store: SQLiteStore) -> None:
    site = BenchSite(PAGES, 13, "http://127.0.0.1:1")
    with pytest.raises(measure.BenchFailure, match=f"holds 0 items .* the site has {PAGES}"):
        measure.check_store(site, store)
