"""`mediawatch index rebuild`: SQLite → Elasticsearch → SQLite keeps items, reviews and log."""

from __future__ import annotations

from pathlib import Path

from index.elastic import ElasticStore
from index.query import SearchQuery
from index.sqlite import SQLiteStore
from mediawatch.model import ReviewDecision, ReviewOutcome
from mediawatch.rebuild import rebuild
from tests.contract.conftest import elastic_settings
from tests.factories import make_document


def test_round_trip_through_elasticsearch_keeps_everything(tmp_path: Path):
    original = SQLiteStore(tmp_path / "a.db")
    documents = [
        make_document(
            f"https://bao.vn/tin/{i}",
            f"Tin số {i}",
            f"Đất đai số {i}.",
            risk=i / 1200,
            topics=("land",),
        )
        for i in range(1200)
    ]
    original.upsert(documents)
    decided = original.record_review(
        documents[7].id, ReviewDecision(outcome=ReviewOutcome.FALSE, note="bác bỏ"), "reviewer1"
    )
    elastic = ElasticStore(elastic_settings())
    try:
        progress: list[int] = []
        assert rebuild(original, elastic, progress.append) == 1200
        assert sum(progress) == 1200
        back = SQLiteStore(tmp_path / "b.db")
        assert rebuild(elastic, back) == 1200
        for store in (elastic, back):
            assert store.search(SearchQuery(text="dat dai", limit=1)).total == 1200
            copy = store.get(documents[7].id)
            assert copy.review == decided.review
            assert copy.fetched_at == decided.fetched_at
            assert [e["outcome"] for e in store.review_log(documents[7].id)] == ["false"]
            assert store.review_queue(0.99).total == original.review_queue(0.99).total
        assert rebuild(original, elastic) == 1200  # again: items unchanged, no duplicates
        assert rebuild(elastic, back) == 1200
        for store in (elastic, back):
            assert store.search(SearchQuery(limit=1)).total == 1200
            assert len(store.review_log(documents[7].id)) == 1
    finally:
        elastic.delete_everything()
