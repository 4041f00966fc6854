"""A crawl killed half-way resumes without fetching again the pages it already stored."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import yaml

from tests.conftest import REPO
from tests.crawling import LOOPBACK
from tests.http_site import Route, RouteSite
from tests.test_crawl import ARTICLE, BODY, rss

PAGES = 12


def stored_urls(database) -> set[str]:
    if not database.exists():
        return set()
    with sqlite3.connect(database) as connection:
        try:
            rows = connection.execute("SELECT json_extract(document, '$.url') FROM items")
        except sqlite3.OperationalError:  # the schema is not there yet
            return set()
        return {row[0] for row in rows}


def test_a_killed_crawl_resumes_without_refetching_what_it_stored(tmp_path):
    paths = [f"/tin/{n}.html" for n in range(PAGES)]
    routes = {"/feed.rss": Route(rss(*paths), "application/rss+xml")}
    for n, path in enumerate(paths):
        page = ARTICLE.format(title=f"Bài {n}", body=f"{BODY} Số {n}.")
        routes[path] = Route(page.encode(), delay_s=0.4)
    data_dir = tmp_path / "data"
    database = data_dir / "mediawatch.db"
    with RouteSite(routes) as site:
        registry = tmp_path / "sources.yaml"
        registry.write_text(
            yaml.safe_dump(
                {
                    "sources": [
                        {
                            "id": "slow",
                            "name": "Chậm",
                            "kind": "feed",
                            "url": f"{site.base_url}/feed.rss",
                            "tier": "press",
                        }
                    ]
                }
            )
        )
        env = {
            **os.environ,
            "MEDIAWATCH_DATA_DIR": str(data_dir),
            "MEDIAWATCH_CRAWL__DOWNLOAD_DELAY_S": "0",
            "MEDIAWATCH_CRAWL__ALLOWED_INTERNAL_HOSTS": json.dumps(LOOPBACK),
        }
        command = [sys.executable, "-m", "mediawatch.cli", "crawl", "--sources", str(registry)]
        first = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while len(stored_urls(database)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)  # the whole group: the service and its crawl
        first.wait()
        before = stored_urls(database)
        assert 3 <= len(before) < PAGES, "the kill came half-way through"

        subprocess.run(command, cwd=REPO, env=env, check=True, timeout=120)

    after = stored_urls(database)
    assert after == {site.base_url + path for path in paths}
    fetches = Counter(site.requested)
    for url in before:
        assert fetches[url.removeprefix(site.base_url)] == 1, f"{url} was fetched again"
