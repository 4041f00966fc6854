"""uvicorn's shutdown runs the app's lifespan: the scheduler stops, the export pool stops taking
work, and the SQLite connections the app opened are closed."""

from __future__ import annotations

import sqlite3

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
