"""Decree 13/2023: authors' identities reach only the roles that need them, and every showing,
search and item view is in the audit log (real HTTP, real SQLite, real audit file)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from mediawatch.audit import AuditLog
from tests.conftest import ADMIN_PASSWORD, ANALYST_TOKEN, API_TOKEN, login
from tests.factories import make_document


@pytest.fixture
def post(store):
    document = make_document(
        "https://facebook.example/posts/77", "Tin đồn thu hồi đất", "Nghe nói sắp thu hồi đất."
    ).model_copy(update={"authors": ["Nguyễn Văn A"]})
    store.upsert([document])
    return document


def _get(url: str, token: str, path: str, **params) -> httpx.Response:
    return httpx.get(url + path, params=params, headers={"Authorization": f"Bearer {token}"})


def test_analysts_never_see_authors_reviewers_do_and_it_is_logged(live_api, settings, post):
    item_path = f"/api/items/{quote(post.id, safe='')}"
    for token, shown in ((ANALYST_TOKEN, []), (API_TOKEN, ["Nguyễn Văn A"])):
        assert _get(live_api.url, token, item_path).json()["authors"] == shown
        hits = _get(live_api.url, token, "/api/items", text="thu hoi dat").json()["hits"]
        assert [hit["document"]["authors"] for hit in hits] == [shown]
    with httpx.Client(base_url=live_api.url) as browser:
        login(browser, "analyst1", ADMIN_PASSWORD)
        page = browser.get(f"/items/{quote(post.id, safe='')}")
        assert page.status_code == 200 and "Nguyễn Văn A" not in page.text
        browser.get("/search", params={"q": "thu hồi"})

    log = AuditLog(settings.audit_path)
    views = [(e.actor, e.via) for e in log.entries(action="item.view")]
    assert views == [("analyst1", "token"), ("reviewer1", "token"), ("analyst1", "session")]
    searches = [(e.actor, e.detail.get("total")) for e in log.entries(action="search")]
    assert searches == [("analyst1", 1), ("reviewer1", 1), ("analyst1", 1)]
    shown = [(e.actor, e.detail["item_ids"]) for e in log.entries(action="author.view")]
    assert shown == [("reviewer1", [post.id]), ("reviewer1", [post.id])]
