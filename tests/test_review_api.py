"""The review workflow through the JSON API: real loopback HTTP, real SQLite, real audit log."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from tests.conftest import ADMIN_TOKEN, API_TOKEN, OTHER_TOKEN, LiveServer
from tests.factories import make_document


@pytest.fixture
def app(settings, store) -> FastAPI:
    return create_app(settings, store)


@pytest.fixture
def url(app) -> Iterator[str]:
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture
def items(store):
    documents = [
        make_document(f"https://a.vn/{i}", f"Tin {i}", f"Nội dung tin số {i}", risk=0.9 - i / 10)
        for i in range(3)
    ]
    store.upsert(documents)
    return documents


def step(url: str, token: str, item_id: str, **body: object) -> httpx.Response:
    return httpx.post(
        f"{url}/api/items/{item_id}/review",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def get(url: str, path: str, **params: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    return httpx.get(url + path, params=params, headers=headers, timeout=30)


def test_claim_decide_escalate_respond_is_audited_and_heard(app, url, items):
    heard: list[tuple[str, str, str]] = []
    app.state.review_listeners.append(
        lambda document, command, principal, step: heard.append(
            (document.id, command.action.value, principal.name)
        )
    )
    item_id = items[0].id
    assert step(url, API_TOKEN, item_id, action="claim").status_code == 200
    mine = get(url, "/api/review/queue", assignee="reviewer1").json()
    assert [h["document"]["id"] for h in mine["hits"]] == [item_id]
    stats = get(url, "/api/review/stats").json()
    assert stats["by_state"] == {"new": 2, "in_review": 1}
    decided = step(
        url,
        API_TOKEN,
        item_id,
        action="decide",
        outcome="false",
        note="Bác bỏ",
        evidence=["https://lamdong.gov.vn/x"],
        expected_version=1,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["review"]["state"] == "decided"
    escalated = step(url, API_TOKEN, item_id, action="escalate", agency="Công an tỉnh Lâm Đồng")
    assert escalated.json()["review"]["escalated_to"] == "Công an tỉnh Lâm Đồng"
    response = {"url": "https://lamdong.gov.vn/bac-bo", "agency": "Công an tỉnh Lâm Đồng"}
    responded = step(url, OTHER_TOKEN, item_id, action="respond", response=response)
    assert responded.json()["review"]["state"] == "responded"
    log = get(url, f"/api/items/{item_id}/review-log").json()
    assert [(e["action"], e["reviewer"]) for e in log] == [
        ("claim", "reviewer1"),
        ("decide", "reviewer1"),
        ("escalate", "reviewer1"),
        ("respond", "reviewer2"),
    ]
    audited = [
        (e.actor, e.action, e.target)
        for e in app.state.audit.entries()
        if e.action.startswith("review.")
    ]
    assert audited == [
        ("reviewer1", "review.claim", item_id),
        ("reviewer1", "review.decide", item_id),
        ("reviewer1", "review.escalate", item_id),
        ("reviewer2", "review.respond", item_id),
    ]
    assert heard == [
        (item_id, "claim", "reviewer1"),
        (item_id, "decide", "reviewer1"),
        (item_id, "escalate", "reviewer1"),
        (item_id, "respond", "reviewer2"),
    ]


def test_two_reviewers_claim_at_once_through_the_api(url, items):
    barrier = Barrier(2)

    def claim(token: str) -> httpx.Response:
        barrier.wait()
        return step(url, token, items[0].id, action="claim")

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(claim, [API_TOKEN, OTHER_TOKEN]))
    assert sorted(r.status_code for r in results) == [200, 409]
    winner = next(r for r in results if r.status_code == 200).json()["review"]["assignee"]
    loser = next(r for r in results if r.status_code == 409)
    assert f"đang do {winner} xử lý" in loser.json()["detail"]
    # The holder's rival can neither decide nor release it; an admin may release it.
    other = OTHER_TOKEN if winner == "reviewer1" else API_TOKEN
    refused = step(url, other, items[0].id, action="decide", outcome="accurate")
    assert refused.status_code == 409 and winner in refused.json()["detail"]
    assert step(url, other, items[0].id, action="release").status_code == 409
    released = step(url, ADMIN_TOKEN, items[0].id, action="release")
    assert released.status_code == 200 and released.json()["review"]["state"] == "new"


def test_refusals_say_why_with_the_right_status(url, items):
    item_id = items[0].id
    incomplete = step(url, API_TOKEN, item_id, action="reopen")
    assert incomplete.status_code == 422 and "lý do" in incomplete.json()["detail"]
    assert step(url, API_TOKEN, item_id, action="decide", outcome="false").status_code == 200
    locked = step(url, OTHER_TOKEN, item_id, action="decide", outcome="accurate")
    assert locked.status_code == 409 and "reviewer1" in locked.json()["detail"]
    assert step(url, API_TOKEN, "web:none", action="claim").status_code == 404
    reopened = step(url, OTHER_TOKEN, item_id, action="reopen", reason="Có thông tin mới")
    assert reopened.status_code == 200 and reopened.json()["review"]["state"] == "new"


def test_bulk_not_relevant_decides_each_item_on_its_own(url, items):
    assert step(url, OTHER_TOKEN, items[1].id, action="claim").status_code == 200
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    body = {"item_ids": [items[0].id, items[1].id, "web:none", items[2].id], "note": "Quảng cáo"}
    results = httpx.post(f"{url}/api/review/bulk", json=body, headers=headers).json()
    assert [(r["item_id"], r["status"]) for r in results] == [
        (items[0].id, 200),
        (items[1].id, 409),
        ("web:none", 404),
        (items[2].id, 200),
    ]
    for bad in (
        {"item_ids": [items[0].id], "outcome": "false"},
        {"item_ids": []},
        {"item_ids": ["x"] * 201},
    ):
        response = httpx.post(f"{url}/api/review/bulk", json=bad, headers=headers)
        assert response.status_code == 422
    decided = get(url, "/api/review/queue", state="decided").json()
    assert {h["document"]["review"]["outcome"] for h in decided["hits"]} == {"not_relevant"}
    assert decided["total"] == 2


def test_a_failing_listener_does_not_undo_or_hide_a_committed_step(app, url, items):
    """The claims register (a listener) failing after the decision: the reviewer still gets
    the decided item, and the store and the audit log both hold the step."""

    def broken(document, command, principal, step):
        raise RuntimeError("claims register locked")

    app.state.review_listeners.append(broken)
    decided = step(url, API_TOKEN, items[0].id, action="decide", outcome="false")
    assert decided.status_code == 200
    assert decided.json()["review"]["state"] == "decided"
    assert [e.action for e in app.state.audit.entries(target=items[0].id)] == ["review.decide"]
