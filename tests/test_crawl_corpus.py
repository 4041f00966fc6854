"""Real feeds through the real crawl: feedparser's whole corpus in one crawl (served with the
HTTP headers each case assumes) and the Vietnamese outlets' feeds to their expected reading."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

from tests.conftest import shared_path
from tests.crawling import ALLOW_ALL, quick_settings, run_crawl, source
from tests.http_site import Route, RouteSite

_HEADER = re.compile(rb"^\s*Header:\s*([\w-]+):[ \t]*(.*?)\s*$", re.I | re.M)
# Discovery failures a corpus file may end in: each one a named cause, never a crash.
CLEAR_REASONS = {"malformed_feed", "http_406"}


def corpus_route(path: Path) -> Route:
    """The file, with the response headers its leading comment says the case assumes."""
    body = path.read_bytes()
    declared = _HEADER.findall(body[:4000])
    headers = {name.decode(): value.decode("latin-1") for name, value in declared}
    content_type = next(
        (headers.pop(name) for name in list(headers) if name.lower() == "content-type"),
        "application/xml",
    )
    return Route(body, content_type, headers=headers)


def test_feedparser_corpus_crawls_to_an_outcome_for_every_file(tmp_path):
    folder = shared_path("fixtures/feedparser-tests")
    files = sorted(
        p for p in folder.rglob("*") if p.suffix in (".xml", ".json") and p.name != "manifest.json"
    )
    assert len(files) > 2000
    routes = {"/robots.txt": Route(ALLOW_ALL, "text/plain")}
    paths = {}
    for number, path in enumerate(files):
        route_path = "/" + path.relative_to(folder).as_posix()
        routes[route_path] = corpus_route(path)
        paths[f"fp-{number:04d}"] = route_path
    with RouteSite(routes) as site:
        sources = [
            source(source_id, site.base_url + route_path, fetch_pages=False)
            for source_id, route_path in paths.items()
        ]
        busy = quick_settings(concurrent_requests=32, per_domain_concurrency=4)
        started = time.monotonic()
        result = run_crawl(sources, tmp_path, busy)
        took = time.monotonic() - started
    failed = {f.source_id: f for f in result.failures if f.stage == "feed"}
    assert set(result.done) | set(failed) == set(paths), "a source ended without a word"
    assert not set(result.done) & set(failed)
    reasons = Counter(f.reason for f in failed.values())
    assert set(reasons) <= CLEAR_REASONS, reasons
    assert all(f.detail for f in failed.values())
    assert len(result.done) > 1500, reasons
    assert result.items, "well-formed entries with a link are stored from the feed alone"
    print(f"\nfeedparser corpus: {len(files)} feeds in {took:.1f} s, {reasons}")


def test_vietnamese_feeds_crawl_to_their_expected_reading(tmp_path):
    folder = shared_path("fixtures/vn-rss-feeds")
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))["feeds"]
    routes = {"/robots.txt": Route(ALLOW_ALL, "text/plain")}
    ids = {}
    for name in expected:
        routes["/" + name] = Route((folder / name).read_bytes(), "application/rss+xml")
        ids[name] = "vn-" + Path(name).stem.replace("_", "-")
    with RouteSite(routes) as site:
        sources = [source(ids[name], f"{site.base_url}/{name}", fetch_pages=False) for name in ids]
        result = run_crawl(sources, tmp_path)
    assert result.failures == []
    for name, feed in expected.items():
        feed_url = f"{site.base_url}/{name}"
        got = {item.url: item for item in result.items if item.source_id == ids[name]}
        # A relative link resolves against where the feed was served, as on the outlet's site.
        links = [urljoin(feed_url, item["link"]) for item in feed["items"]]
        assert sorted(got) == sorted(links), name
        for link, item in zip(links, feed["items"], strict=True):
            assert got[link].title == item["title"], name
            assert got[link].published_at == datetime.fromisoformat(item["published"]), name
            assert got[link].date_source == "feed"
        assert result.done[ids[name]].entries == len(feed["items"])
        if not feed["well_formed_xml"]:
            assert result.done[ids[name]].warning  # recovered, and said so
