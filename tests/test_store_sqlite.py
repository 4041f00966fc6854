"""What only the SQLite backend promises beyond the shared contract."""

import sqlite3

import pytest

from mediawatch.model import ReviewOutcome
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
