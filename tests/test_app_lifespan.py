"""uvicorn's shutdown runs the app's lifespan: the scheduler stops, the export pool stops taking
work, and the SQLite connections the app opened are closed."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.app import create_app
from mediawatch.scheduler import build_scheduler
from mediawatch.stories import StoryIndex
from tests.conftest import LiveServer


def test_shutdown_stops_the_scheduler_the_pool_and_closes_connections(settings, store):
    app = create_app(settings, store)
    app.state.scheduler = build_scheduler(settings, crawl_due=lambda: None, digest=lambda: None)
    with LiveServer(app) as server:
        assert httpx.get(f"{server.url}/login", timeout=10).status_code == 200
        assert app.state.scheduler.running
        assert app.state.claims.version() >= 0
    assert not app.state.scheduler.running
    with pytest.raises(RuntimeError, match="after shutdown"):
        app.state.export_jobs._pool.submit(print)
    for use in (
        app.state.claims.version,
        app.state.topic_corrections.latest,
        lambda: app.state.stories.stats("story"),
    ):
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            use()


def test_a_story_index_handed_in_stays_open(settings, store):
    """The service shares the crawl's story index with the app: its owner closes it."""
    stories = StoryIndex(settings.stories_path)
    with LiveServer(create_app(settings, store, stories=stories)):
        pass
    assert stories.stats("story") is None


def test_shutdown_lets_a_running_digest_finish_but_does_not_wait_for_a_crawl(settings, store):
    """Ctrl-C on ``mediawatch run`` during a long crawl: the server stops promptly, while
    a digest being sent is still sent to the end (cut off, it would be sent again)."""
    crawling, sending, crawl_may_end = threading.Event(), threading.Event(), threading.Event()
    sent: list[str] = []

    def crawl() -> None:
        crawling.set()
        crawl_may_end.wait(120)  # a crawl of many minutes

    def digest() -> None:
        sending.set()
        time.sleep(1.5)
        sent.append("digest")

    app = create_app(settings, store)
    app.state.scheduler = build_scheduler(settings, crawl, digest, crawl_now=True)
    try:
        with LiveServer(app) as server:
            assert crawling.wait(10)
            now = datetime.now(ZoneInfo(settings.timezone))
            app.state.scheduler.modify_job("digest", next_run_time=now)
            assert sending.wait(10)
            started = time.monotonic()
        stopped_in = time.monotonic() - started
        assert not server._thread.is_alive()  # LiveServer gives up waiting after 10 s
        assert stopped_in < 8
        assert sent == ["digest"]
    finally:
        crawl_may_end.set()
