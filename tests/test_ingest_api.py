"""POST /api/ingest over a real loopback server, a real SQLite file and the shipped models."""

from __future__ import annotations

import re

import httpx
import pytest

from mediawatch.identity import web_item_id
from mediawatch.ingest import MAX_BATCH
from tests.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, token_client

RUMOUR = "Nghe nói sắp thu hồi toàn bộ đất đai ở Lạc Dương, người dân hoang mang chia sẻ."
ITEMS = [
    {
        "url": "https://baolamdong.vn/xa-hoi/festival-hoa-da-lat-2025.html?utm_source=zalo",
        "title": "Festival Hoa Đà Lạt 2025 thu hút du khách",
        "text": "Lượng du khách đến Đà Lạt dịp Festival Hoa tăng mạnh so với năm trước.",
        "source_id": "vendor-baochi",
        "source_tier": "press",
        "published_at": "2025-06-03T08:00:00+07:00",
        "authors": ["Thanh Tâm", "Minh Đức"],
    },
    {
        "url": "https://www.facebook.com/groups/lacduong/posts/777",
        "title": "Tin đồn thu hồi đất",
        "text": RUMOUR,
        "source_id": "staff-submitted",
    },
    {
        "url": "https://t.me/tinlamdong/102",
        "title": "Sạt lở đèo Prenn",
        "text": "Nóng: sạt lở đèo Prenn! Người dân hạn chế lưu thông.",
        "source_id": "staff-submitted",
        "authors": "Người gửi A; Người gửi B",
    },
]
COPY = {
    "url": "https://zalo.me/lacduong/123",
    "title": "Tin đồn thu hồi đất",
    "text": RUMOUR,  # the rumour's text under another address
    "source_id": "staff-submitted",
}


@pytest.fixture
def api_client(live_api):
    """A vendor feed's script: it sends press items, a tier only an admin's token may set
    (security.ingest_tiers)."""
    with token_client(live_api.url, ADMIN_TOKEN) as client:
        yield client


def test_a_batch_is_stored_once_and_again_changes_nothing(api_client):
    response = api_client.post("/api/ingest", json={"items": ITEMS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ids"][1:] == [
        web_item_id("https://www.facebook.com/groups/lacduong/posts/777"),
        "telegram:tinlamdong:102",  # the post's own id: a connector reading it finds the same
    ]
    assert body["ids"][0] == web_item_id(
        "https://baolamdong.vn/xa-hoi/festival-hoa-da-lat-2025.html"
    )
    assert (body["received"], body["stored"], body["duplicates"]) == (3, 3, 0)

    festival = api_client.get(f"/api/items/{body['ids'][0]}").json()
    assert festival["source_tier"] == "press"
    assert festival["published_at"] == "2025-06-03T01:00:00Z"
    assert festival["authors"] == ["Thanh Tâm", "Minh Đức"]
    assert festival["extractor"] == "ingest"
    assert festival["classification"]["risk"] >= 0
    staff = api_client.get(f"/api/items/{body['ids'][2]}").json()
    assert staff["source_tier"] == "unknown"
    assert staff["authors"] == ["Người gửi A", "Người gửi B"]

    again = api_client.post("/api/ingest", json={"items": ITEMS}).json()
    assert (again["stored"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert again["ids"] == body["ids"]
    assert api_client.get("/api/items", params={"text": "thu hoi dat"}).json()["total"] == 1


def test_the_same_text_under_another_url_is_marked_duplicate(api_client):
    original = api_client.post("/api/ingest", json={"items": ITEMS}).json()["ids"][1]
    body = api_client.post("/api/ingest", json={"items": [COPY]}).json()
    assert (body["stored"], body["duplicates"]) == (1, 1)
    copy = api_client.get(f"/api/items/{body['ids'][0]}").json()
    assert copy["duplicate_of"] == original


def test_a_changed_item_is_updated(api_client):
    api_client.post("/api/ingest", json={"items": ITEMS[:1]})
    edited = ITEMS[0] | {"title": "Festival Hoa Đà Lạt 2025: đón 1 triệu lượt khách"}
    body = api_client.post("/api/ingest", json={"items": [edited]}).json()
    assert (body["stored"], body["updated"]) == (0, 1)
    stored = api_client.get(f"/api/items/{body['ids'][0]}").json()
    assert stored["title"] == edited["title"]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([ITEMS[0], ITEMS[1] | {"url": "ftp://baolamdong.vn/x"}], "body.items.1.url"),
        ([*ITEMS[:2], {k: v for k, v in ITEMS[2].items() if k != "title"}], "items.2.title"),
        ([ITEMS[0] | {"published_at": "2025-06-03T08:00:00"}], "needs a time zone"),
        ([ITEMS[0] | {"published_at": "hôm qua"}], "items.0.published_at"),
        ([ITEMS[0] | {"source_id": "Báo Lâm Đồng"}], "items.0.source_id"),
        ([ITEMS[0] | {"source_tier": "trusted"}], "items.0.source_tier"),
        ([ITEMS[0] | {"colour": "red"}], "items.0.colour"),
        ([ITEMS[0] | {"text": "   "}], "items.0.text"),
        ([], "body.items"),
        ([ITEMS[0]] * (MAX_BATCH + 1), "at most 500"),
    ],
)
def test_bad_items_get_a_422_naming_index_and_field_and_nothing_is_stored(
    api_client, store, items, expected
):
    response = api_client.post("/api/ingest", json={"items": items})
    assert response.status_code == 422
    assert expected in response.json()["detail"]
    assert store.get(web_item_id(ITEMS[0]["url"])) is None


def test_ingest_needs_a_token(live_api, store):
    anonymous = httpx.post(f"{live_api.url}/api/ingest", json={"items": ITEMS})
    assert anonymous.status_code == 401
    wrong = httpx.post(
        f"{live_api.url}/api/ingest",
        json={"items": ITEMS},
        headers={"Authorization": "Bearer wrong"},
    )
    assert wrong.status_code == 401
    assert store.get(web_item_id(ITEMS[0]["url"])) is None


def test_a_logged_in_browser_session_cannot_ingest(live_api, store, settings):
    with httpx.Client(base_url=live_api.url) as browser:
        page = browser.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        logged_in = browser.post(
            "/login",
            data={"username": "admin", "password": ADMIN_PASSWORD, "csrf": csrf},
        )
        assert logged_in.status_code == 303
        assert browser.get("/api/items").status_code == 200  # the session reads…
        refused = browser.post("/api/ingest", json={"items": ITEMS})  # …but cannot write
    assert refused.status_code in {401, 403}
    assert store.get(web_item_id(ITEMS[0]["url"])) is None
