"""The JSON API over a real loopback HTTP server and a real SQLite file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mediawatch.model import Sentiment
from tests.conftest import OTHER_TOKEN
from tests.factories import make_document

NOW = datetime.now(UTC)


@pytest.fixture
def stored(store):
    documents = [
        make_document(
            "https://a.vn/1",
            "Tin đồn thu hồi đất Lạc Dương",
            "Nghe nói sắp thu hồi toàn bộ đất đai ở Lạc Dương.",
            risk=0.9,
            topics=("land",),
            sentiment=Sentiment.NEGATIVE,
            published_at=NOW - timedelta(hours=2),
        ),
        make_document(
            "https://a.vn/2",
            "Festival Hoa Đà Lạt",
            "Du khách đến Đà Lạt tăng mạnh.",
            risk=0.1,
            topics=("tourism",),
            sentiment=Sentiment.POSITIVE,
            published_at=NOW - timedelta(hours=5),
        ),
    ]
    store.upsert(documents)
    return documents


@pytest.mark.parametrize(
    "path",
    [
        "/api/items",
        "/api/items/x",
        "/api/trends",
        "/api/review/queue",
        "/api/openapi.json",
        "/api/items/x/review-log",
        "/api/sources",
    ],
)
def test_every_endpoint_needs_a_token(live_api, path):
    response = httpx.get(live_api.url + path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    bad = httpx.get(live_api.url + path, headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401
    assert "invalid API token" in bad.json()["detail"]


def test_review_endpoint_needs_a_token(live_api, stored):
    response = httpx.post(
        f"{live_api.url}/api/items/{stored[0].id}/review",
        json={"action": "decide", "outcome": "false"},
    )
    assert response.status_code == 401


def test_search_filters_and_snippets(api_client, stored):
    body = api_client.get("/api/items", params={"text": "dat dai", "sort": "relevance"}).json()
    assert body["total"] == 1
    assert body["hits"][0]["document"]["id"] == stored[0].id
    assert "<mark>" in body["hits"][0]["snippet"]
    positive = api_client.get("/api/items", params={"sentiments": "positive"}).json()
    assert [h["document"]["id"] for h in positive["hits"]] == [stored[1].id]
    both = api_client.get("/api/items", params=[("topics", "land"), ("topics", "tourism")]).json()
    assert both["total"] == 2
    risky = api_client.get("/api/items", params={"min_risk": 0.5}).json()
    assert risky["total"] == 1


def test_get_one_item_and_404(api_client, stored):
    item = api_client.get(f"/api/items/{stored[0].id}").json()
    assert item["title"] == "Tin đồn thu hồi đất Lạc Dương"
    assert item["classification"]["risk"] == 0.9
    missing = api_client.get("/api/items/web:nothing")
    assert missing.status_code == 404
    assert "no such item" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_risk": 2}, "min_risk"),
        ({"sort": "popular"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "since"),
        ({"sentiments": "angry"}, "sentiments"),
        ({"colour": "red"}, "colour"),
        ({"since": "2026-11-01T00:00:00"}, "since"),
    ],
)
def test_bad_search_requests_get_a_clear_422(api_client, params, field):
    response = api_client.get("/api/items", params=params)
    assert response.status_code == 422
    body = response.json()
    assert "invalid request" in body["detail"]
    assert field in body["detail"]


def test_review_queue_and_decision(api_client, stored):
    queue = api_client.get("/api/review/queue").json()
    assert [h["document"]["id"] for h in queue["hits"]] == [stored[0].id]
    decided = api_client.post(
        f"/api/items/{stored[0].id}/review",
        json={
            "action": "decide",
            "outcome": "false",
            "note": "Đã có văn bản bác bỏ",
            "expected_version": 0,
        },
    )
    assert decided.status_code == 200
    review = decided.json()["review"]
    assert (review["state"], review["outcome"], review["reviewer"], review["version"]) == (
        "decided",
        "false",
        "reviewer1",
        1,
    )
    assert api_client.get("/api/review/queue").json()["total"] == 0
    log = api_client.get(f"/api/items/{stored[0].id}/review-log").json()
    assert [(e["reviewer"], e["outcome"]) for e in log] == [("reviewer1", "false")]


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "decide", "outcome": "maybe"},
        {},
        {"action": "decide"},
        {"action": "escalate"},
        {"action": "judge", "outcome": "false"},
        {"action": "decide", "outcome": "false", "expected_version": -1},
        {"action": "decide", "outcome": "false", "extra": 1},
        {"action": "decide", "outcome": "false", "note": "x" * 5000},
    ],
)
def test_bad_decisions_get_422(api_client, stored, payload):
    response = api_client.post(f"/api/items/{stored[0].id}/review", json=payload)
    assert response.status_code == 422
    assert "invalid request" in response.json()["detail"]


def test_malformed_json_gets_422_not_500(api_client, stored):
    response = api_client.post(
        f"/api/items/{stored[0].id}/review",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_two_reviewers_at_once_one_wins_the_other_gets_409(live_api, stored):
    def decide(token: str, outcome: str) -> httpx.Response:
        return httpx.post(
            f"{live_api.url}/api/items/{stored[0].id}/review",
            json={"action": "decide", "outcome": outcome, "expected_version": 0},
            headers={"Authorization": f"Bearer {token}"},
        )

    from tests.conftest import API_TOKEN

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(decide, [API_TOKEN, OTHER_TOKEN], ["false", "accurate"]))
    assert sorted(r.status_code for r in results) == [200, 409]
    conflict = next(r for r in results if r.status_code == 409)
    assert "changed since version 0" in conflict.json()["detail"]


def test_decision_on_missing_item_is_404(api_client):
    response = api_client.post(
        "/api/items/web:none/review", json={"action": "decide", "outcome": "false"}
    )
    assert response.status_code == 404


def test_trends_counts_match_items(api_client, stored):
    trends = api_client.get("/api/trends", params={"days": 7}).json()
    assert sum(row["count"] for row in trends["total_per_day"]) == 2
    assert {row["key"] for row in trends["by_topic"]} == {"land", "tourism"}
    assert api_client.get("/api/trends", params={"days": 0}).status_code == 422


def test_openapi_is_served_to_token_holders(api_client):
    schema = api_client.get("/api/openapi.json").json()
    assert "/api/items" in schema["paths"]
    assert "/api/items/{item_id}/review" in schema["paths"]


def test_cursor_paging_through_the_api(api_client, stored):
    first = api_client.get("/api/items", params={"cursor": "*", "limit": 1}).json()
    assert len(first["hits"]) == 1 and first["next_cursor"]
    second = api_client.get("/api/items", params={"cursor": first["next_cursor"], "limit": 1})
    assert second.json()["hits"][0]["document"]["id"] != first["hits"][0]["document"]["id"]
    bad = api_client.get("/api/items", params={"cursor": "not-ours"})
    assert bad.status_code == 400
    assert "cursor" in bad.json()["detail"]
