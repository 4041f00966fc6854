"""`mediawatch index rebuild`: SQLite → Elasticsearch → SQLite keeps items, reviews and log."""

from __future__ import annotations

from pathlib import Path

from index.elastic import ElasticStore
from index.query import QueueQuery, SearchQuery
from index.sqlite import SQLiteStore
from mediawatch.config import ReviewSettings
from mediawatch.model import OfficialResponse, ReviewOutcome, utc_now
from mediawatch.rebuild import rebuild
from tests.contract.conftest import elastic_settings
from tests.factories import decide, make_document, review


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
    # Every step of the workflow, so every review field and timestamp has to travel.
    item_id = documents[7].id
    review(original, item_id, "claim")
    decide(original, item_id, ReviewOutcome.FALSE, note="bác bỏ", evidence=["https://gov.vn/x"])
    review(original, item_id, "escalate", agency="Công an tỉnh Lâm Đồng")
    response = OfficialResponse(url="https://lamdong.gov.vn/bac-bo", agency="Sở TT&TT")
    decided = review(original, item_id, "respond", response=response)
    review(original, documents[8].id, "claim", "reviewer2")
    actions = ["claim", "decide", "escalate", "respond"]
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
            assert store.get(documents[8].id).review == original.get(documents[8].id).review
            log = store.review_log(item_id)
            assert log == original.review_log(item_id)
            assert [e["action"] for e in log] == actions
            queue = QueueQuery(threshold=0.99)
            now = utc_now()
            rules = ReviewSettings()
            assert (
                store.review_queue(queue, now, rules).total
                == original.review_queue(queue, now, rules).total
            )
        assert rebuild(original, elastic) == 1200  # again: items unchanged, no duplicates
        assert rebuild(elastic, back) == 1200
        for store in (elastic, back):
            assert store.search(SearchQuery(limit=1)).total == 1200
            assert len(store.review_log(item_id)) == 4
    finally:
        elastic.delete_everything()
