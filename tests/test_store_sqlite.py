"""What only the SQLite backend promises beyond the shared contract."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from index.query import TrendQuery
from index.sqlite import SQLiteStore
from mediawatch.model import ReviewDecision, ReviewOutcome, SourceTier
from tests.factories import make_document


@pytest.fixture
def items():
    return [make_document("https://a.vn/1", "Tin", "Nội dung", risk=0.9)]


def test_review_log_is_append_only(store, items):
    store.upsert(items)
    store.record_review(items[0].id, ReviewDecision(outcome=ReviewOutcome.FALSE), "reviewer1")
    with sqlite3.connect(store.path) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE review_log SET reviewer = 'someone else'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM review_log")


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
