"""What only the SQLite backend promises beyond the shared contract."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from index.query import TrendQuery
from index.sqlite import SQLiteStore
from mediawatch.model import ReviewOutcome, SourceTier
from tests.factories import decide, make_document


@pytest.fixture
def items():
    return [make_document("https://a.vn/1", "Tin", "Nội dung", risk=0.9)]


def test_review_log_is_append_only(store, items):
    store.upsert(items)
    decide(store, items[0].id, ReviewOutcome.FALSE, "reviewer1")
    with sqlite3.connect(store.path) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE review_log SET reviewer = 'someone else'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM review_log")


def test_an_existing_database_file_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE items (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
              source_id TEXT NOT NULL, event_time TEXT NOT NULL, fetched_at TEXT NOT NULL,
              content_hash TEXT, duplicate_of TEXT, sentiment TEXT, risk REAL NOT NULL DEFAULT 0,
              document TEXT NOT NULL, review_state TEXT NOT NULL DEFAULT 'new',
              review_outcome TEXT, reviewer TEXT, decided_at TEXT, review_note TEXT,
              review_version INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE review_log (seq INTEGER PRIMARY KEY AUTOINCREMENT,
              item_id TEXT NOT NULL, at TEXT NOT NULL, reviewer TEXT NOT NULL,
              action TEXT NOT NULL, outcome TEXT, note TEXT, version INTEGER NOT NULL);
            """
        )
        connection.execute(
            "INSERT INTO items (id, source_id, event_time, fetched_at, document, review_state, "
            "review_outcome, reviewer, decided_at, review_version) VALUES "
            "('web:1', 's', '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', '{}', "
            "'decided', 'false', 'an', '2026-11-02T00:00:00+00:00', 1)"
        )
        connection.execute(
            "INSERT INTO review_log (item_id, at, reviewer, action, outcome, version) VALUES "
            "('web:1', '2026-11-02T00:00:00+00:00', 'an', 'decide', 'false', 1)"
        )
    store = SQLiteStore(path)
    with sqlite3.connect(path) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(items)")}
    assert {"review", "assignee", "due_at", "reach"} <= columns
    assert store.review_log("web:1")[0]["evidence"] == []


def test_a_file_from_before_trends_gains_places_tiers_and_stories(store):
    """An existing store is migrated in place: the new columns and the places table are
    filled from the documents already stored, so trends by place and tier count them."""
    at = datetime(2026, 11, 20, 3, tzinfo=UTC)
    document = make_document(
        "https://a.vn/old", "Tin cũ", "Nội dung", published_at=at, tier=SourceTier.SOCIAL
    ).model_copy(update={"places": ["da-lat", "bao-loc"], "story_id": "s9"})
    store.upsert([document])
    with sqlite3.connect(store.path) as connection:  # the schema as it was before
        connection.executescript(
            "DROP INDEX items_story; ALTER TABLE items DROP COLUMN story_id; "
            "ALTER TABLE items DROP COLUMN source_tier; DROP TABLE item_places;"
        )
    reopened = SQLiteStore(store.path)
    query = TrendQuery(since=at - timedelta(days=1), until=at + timedelta(days=1))
    places = reopened.trend_counts(query.scoped(dimension="place"), "Asia/Ho_Chi_Minh")
    assert [(b.key, b.count) for b in places] == [("bao-loc", 1), ("da-lat", 1)]
    tiers = reopened.trend_counts(query.scoped(dimension="tier"), "Asia/Ho_Chi_Minh")
    assert [(b.key, b.count) for b in tiers] == [("social", 1)]
    assert [s.story_id for s in reopened.top_stories(query)] == ["s9"]
    SQLiteStore(store.path)  # opening a migrated file again changes nothing
    assert len(reopened.trend_counts(query.scoped(dimension="place"), "Asia/Ho_Chi_Minh")) == 2
