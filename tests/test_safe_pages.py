"""Pages cannot be made to run script: only http(s) links render as links, the API refuses
other schemes for links, and every answer carries the browser's security headers."""

from __future__ import annotations

import httpx
import pytest

from api.security_headers import HEADERS
from mediawatch.config import ReviewSettings
from mediawatch.model import ReviewAction, ReviewCommand, ReviewOutcome
from tests.conftest import ADMIN_PASSWORD, API_TOKEN, login
from tests.factories import make_document

HOSTILE = ["javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>"]
SAFE = "https://lamdong.gov.vn/bac-bo"


@pytest.fixture
def reviewer(live_api) -> httpx.Client:
    with httpx.Client(base_url=live_api.url, timeout=30) as browser:
        assert login(browser, "reviewer1", ADMIN_PASSWORD).status_code == 303
        yield browser


def test_only_web_links_are_links_on_the_item_page(store, reviewer):
    """Links stored before they were checked (or by another way in) show as text."""
    rumour = make_document("https://a.vn/1", "Tin đồn", "Nội dung", risk=0.9)
    store.upsert([rumour])
    unchecked = ReviewCommand.model_construct(
        action=ReviewAction.DECIDE, outcome=ReviewOutcome.FALSE, evidence=[*HOSTILE, SAFE]
    )
    store.apply_review(rumour.id, unchecked, "reviewer1", ReviewSettings())
    page = reviewer.get(f"/items/{rumour.id}").text
    assert f'<a href="{SAFE}" rel="noopener noreferrer" target="_blank">' in page
    assert 'href="javascript:' not in page and 'href="data:' not in page
    assert "javascript:alert(document.cookie)" in page  # shown, as text
    assert "data:text/html,&lt;script&gt;" in page


def test_only_web_links_are_links_on_the_claim_page(live_api, reviewer):
    with httpx.Client(
        base_url=live_api.url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
    ) as api:
        claim = api.post("/api/claims", json={"statement": "Tin đồn", "verdict": "false"})
        claim_id = claim.json()["id"]
        patched = api.patch(f"/api/claims/{claim_id}", json={"evidence": [*HOSTILE, SAFE]})
        assert patched.status_code == 200  # evidence is text or links: shown, never run
    page = reviewer.get(f"/claims/{claim_id}").text
    assert f'<a href="{SAFE}"' in page
    assert 'href="javascript:' not in page and 'href="data:' not in page


@pytest.mark.parametrize("url", [*HOSTILE, "/relative", "lamdong.gov.vn"])
def test_the_api_refuses_links_that_are_not_web_links(live_api, store, url):
    rumour = make_document("https://a.vn/1", "Tin đồn", "Nội dung", risk=0.9)
    store.upsert([rumour])
    with httpx.Client(
        base_url=live_api.url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
    ) as api:
        review = f"/api/items/{rumour.id}/review"
        decide = {"action": "decide", "outcome": "false", "evidence": [SAFE, url]}
        assert api.post(review, json=decide).status_code == 422
        response = {"action": "respond", "response": {"url": url, "agency": "UBND tỉnh"}}
        assert api.post(review, json=response).status_code == 422
        made = api.post("/api/claims", json={"statement": "A", "verdict": "false", "url": url})
        assert made.status_code == 422
        claim = api.post("/api/claims", json={"statement": "B", "verdict": "false"}).json()
        rebuttal = {"rebuttal": {"url": url, "agency": "UBND tỉnh"}}
        assert api.patch(f"/api/claims/{claim['id']}", json=rebuttal).status_code == 422
        assert api.post(review, json=decide | {"evidence": [SAFE]}).status_code == 200


def test_every_answer_carries_the_security_headers(live_api, reviewer):
    answers = [
        reviewer.get("/"),  # a page
        reviewer.get("/static/style.css"),
        reviewer.get("/api/items"),  # JSON through a session
        httpx.get(f"{live_api.url}/api/items"),  # a 401
        httpx.post(f"{live_api.url}/api/ingest", content=b"{}"),  # refused before the routes
        reviewer.get("/login"),
    ]
    for answer in answers:
        for name, value in HEADERS.items():
            assert answer.headers.get(name) == value, (answer.url, answer.status_code, name)
    assert "script-src 'self'" in HEADERS["Content-Security-Policy"]
