"""What only the Elasticsearch backend has to prove: its setup, its failures, its months."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

import index.elastic as elastic_module
from index.elastic import ElasticStore
from index.query import SearchQuery, TrendQuery
from index.store import ReviewRefused, StoreError, StoreUnavailable
from mediawatch.config import ElasticsearchSettings
from mediawatch.model import Review, ReviewOutcome, ReviewState, SourceTier, utc_now
from tests.conftest import free_port
from tests.contract.conftest import elastic_settings
from tests.factories import decide, make_document, review


@pytest.fixture
def elastic():
    store = ElasticStore(elastic_settings())
    yield store
    store.delete_everything()


def test_unreachable_server_gives_a_clear_error_and_the_store_still_starts():
    settings = ElasticsearchSettings(urls=[f"http://127.0.0.1:{free_port()}"], timeout_s=2)
    store = ElasticStore(settings)  # a worker restarting during an outage must come up
    with pytest.raises(StoreUnavailable, match=r"Elasticsearch at .* is not reachable"):
        store.search(SearchQuery())


def test_a_write_the_server_refuses_is_reported_not_dropped(elastic):
    elastic.upsert([make_document("https://a.vn/1", "Tin", "Nội dung")])
    bad = [
        {
            "_op_type": "create",
            "_index": elastic.write_alias,
            "_id": "x",
            "_source": {"not_in_mapping": 1},
        }
    ]
    with pytest.raises(StoreError, match=r"1 of 1 writes failed.*strict_dynamic_mapping"):
        elastic._bulk(bad)


def test_a_new_month_gets_a_new_index_and_old_items_stay_writable(elastic, monkeypatch):
    november = make_document("https://a.vn/11", "Tháng mười một", "Nội dung")
    elastic.upsert([november])
    monkeypatch.setattr(elastic_module, "utc_now", lambda: datetime(2031, 1, 5, tzinfo=UTC))
    january = datetime(2031, 1, 5, tzinfo=UTC)
    december = make_document("https://a.vn/1", "Tháng một", "Nội dung khác").model_copy(
        update={"fetched_at": january}
    )
    elastic.upsert([december])
    indices = elastic.client.indices.get_alias(name=elastic.read_alias)
    assert f"{elastic.settings.index_prefix}-items-2031.01" in indices
    assert len(indices) == 2
    writer = elastic.client.indices.get_alias(name=elastic.write_alias)
    assert list(writer) == [f"{elastic.settings.index_prefix}-items-2031.01"]
    elastic.upsert([november.model_copy(update={"title": "Tháng mười một (sửa)"})])
    assert elastic.search(SearchQuery()).total == 2
    assert elastic.get(november.id).title == "Tháng mười một (sửa)"


def test_reasons_are_indexed_for_analysts_queries(elastic):
    elastic.upsert([make_document("https://a.vn/1", "Tin đồn", "Nội dung", risk=0.8)])
    found = elastic.client.search(
        index=elastic.read_alias,
        query={
            "nested": {
                "path": "reasons",
                "query": {
                    "bool": {
                        "filter": [
                            {"term": {"reasons.code": "model_unreliable"}},
                            {"range": {"reasons.weight": {"gte": 0.5}}},
                        ]
                    }
                },
            }
        },
    )
    assert found["hits"]["total"]["value"] == 1


def test_the_api_on_elasticsearch_answers_simultaneous_claims_and_decisions_with_409(
    elastic, settings
):
    import httpx

    from api.app import create_app
    from tests.conftest import API_TOKEN, OTHER_TOKEN, LiveServer

    claimed, decided = (
        make_document(f"https://a.vn/{i}", f"Tin đồn {i}", f"Nội dung {i}", risk=0.9)
        for i in range(2)
    )
    elastic.upsert([claimed, decided])
    with LiveServer(create_app(settings, elastic)) as server:

        def race(item_id: str, body: dict) -> list[int]:
            def send(token: str) -> int:
                return httpx.post(
                    f"{server.url}/api/items/{item_id}/review",
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                ).status_code

            with ThreadPoolExecutor(2) as pool:
                return sorted(pool.map(send, [API_TOKEN, OTHER_TOKEN]))

        assert race(claimed.id, {"action": "claim"}) == [200, 409]
        body = {"action": "decide", "outcome": "false", "expected_version": 0}
        assert race(decided.id, body) == [200, 409]
        queue = httpx.get(
            f"{server.url}/api/review/queue", headers={"Authorization": f"Bearer {API_TOKEN}"}
        ).json()
        assert [h["document"]["id"] for h in queue["hits"]] == [claimed.id]
        assert len(elastic.review_log(decided.id)) == 1


def test_rebuilt_items_keep_their_month(elastic):
    old = make_document("https://a.vn/old", "Tin cũ", "Nội dung").model_copy(
        update={"fetched_at": datetime(2024, 3, 9, tzinfo=UTC)}
    )
    elastic.import_documents([old])
    assert f"{elastic.settings.index_prefix}-items-2024.03" in elastic.client.indices.get_alias(
        name=elastic.read_alias
    )
    assert elastic.get(old.id).fetched_at == old.fetched_at


def test_a_tampered_cursor_is_a_400_not_a_500(elastic, settings):
    import httpx

    from api.app import create_app
    from index.query import Cursor, encode_cursor
    from tests.conftest import API_TOKEN, LiveServer

    elastic.upsert([make_document(f"https://a.vn/{i}", "Tin", "Nội dung") for i in range(3)])
    forged = encode_cursor(Cursor(after=["not-a-date", "x"], snapshot="bogus"))
    with LiveServer(create_app(settings, elastic)) as server:
        response = httpx.get(
            f"{server.url}/api/items",
            params={"cursor": forged},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=30,
        )
    assert response.status_code in (400, 410)


def test_an_update_right_after_a_create_is_not_lost_without_refresh_waits(elastic):
    elastic.settings.refresh_writes = False
    first = make_document("https://a.vn/1", "Tin", "Nội dung")
    elastic.upsert([first])
    result = elastic.upsert([first.model_copy(update={"title": "Tin (sửa)"})])
    assert (result.inserted, result.updated) == (0, 1)
    elastic.client.indices.refresh(index=elastic.read_alias)
    assert elastic.get(first.id).title == "Tin (sửa)"
    assert elastic.search(SearchQuery()).total == 1


def test_a_step_whose_log_copy_fails_stands_and_its_entry_reaches_the_log_later(elastic):
    rumour = make_document("https://a.vn/1", "Tin đồn", "Nội dung", risk=0.9)
    elastic.upsert([rumour])
    elastic.client.indices.close(index=elastic.log_index)
    try:
        decided = decide(elastic, rumour.id, ReviewOutcome.FALSE)  # the log refuses writes
        assert decided.review.state is ReviewState.DECIDED
        # The next step would replace the waiting entry: it refuses, changing nothing.
        with pytest.raises(StoreError, match="index_closed"):
            review(elastic, rumour.id, "escalate", agency="Công an tỉnh Lâm Đồng")
        assert elastic.get(rumour.id).review.version == 1
    finally:
        elastic.client.indices.open(index=elastic.log_index, wait_for_active_shards="all")
    [entry] = elastic.review_log(rumour.id)
    assert (entry["action"], entry["outcome"], entry["version"]) == ("decide", "false", 1)
    raw = elastic.client.get(index=elastic.read_alias, id=rumour.id)["_source"]
    assert raw["unlogged"] is None  # copied, so no longer waiting on the item
    review(elastic, rumour.id, "escalate", agency="Công an tỉnh Lâm Đồng")
    assert [e["version"] for e in elastic.export_review_log()] == [1, 2]


def test_a_lost_race_leaves_no_log_entry(elastic, monkeypatch):
    rumour = make_document("https://a.vn/1", "Tin đồn", "Nội dung", risk=0.9)
    elastic.upsert([rumour])
    judge = elastic_module.next_review
    rival_went = []

    def rival_first(*args, **kwargs):
        """Our step is judged on version 0; the rival decides before our compare-and-set."""
        transition = judge(*args, **kwargs)
        if not rival_went:
            rival_went.append(True)
            decide(elastic, rumour.id, ReviewOutcome.MISLEADING, reviewer="rival")
        return transition

    monkeypatch.setattr(elastic_module, "next_review", rival_first)
    with pytest.raises(ReviewRefused):
        decide(elastic, rumour.id, ReviewOutcome.FALSE, reviewer="late")
    [entry] = elastic.review_log(rumour.id)
    assert (entry["reviewer"], entry["outcome"]) == ("rival", "misleading")
    assert elastic.get(rumour.id).review.reviewer == "rival"


def test_items_written_before_the_derived_fields_existed_are_filled_on_start(elastic):
    old = make_document("https://a.vn/old", "Tin cũ", "Nội dung", tier=SourceTier.SOCIAL)
    signals = {"story_growth": 0.7}
    old = old.model_copy(
        update={
            "story_id": "s-old",
            "classification": old.classification.model_copy(update={"signals": signals}),
        }
    )
    elastic.upsert([make_document("https://a.vn/new", "Tin mới", "Nội dung khác")])
    # As an earlier version wrote it: none of the fields added since.
    source = elastic._fields(old) | elastic._review_fields(Review())
    source["fetched_at"] = old.fetched_at.isoformat()
    for added in ("reach", "source_tier", "story_id", "fields_version", "review"):
        del source[added]
    elastic.client.index(index=elastic.write_alias, id=old.id, document=source, refresh=True)

    ElasticStore(elastic.settings)  # a worker starting after the upgrade
    raw = elastic.client.get(index=elastic.read_alias, id=old.id)
    assert raw["_source"]["reach"] == 0.7
    assert raw["_source"]["source_tier"] == "social"
    assert raw["_source"]["story_id"] == "s-old"
    day = TrendQuery(since=old.event_time - timedelta(days=1), until=utc_now() + timedelta(days=1))
    tiers = {b.key: b.count for b in elastic.trend_counts(day.scoped(dimension="tier"), "UTC")}
    assert tiers == {"press": 1, "social": 1}
    assert [s.story_id for s in elastic.top_stories(day)] == ["s-old"]

    ElasticStore(elastic.settings)  # filled once: a second start rewrites nothing
    again = elastic.client.get(index=elastic.read_alias, id=old.id)
    assert again["_seq_no"] == raw["_seq_no"]
