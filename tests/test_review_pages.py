"""Who sees which review forms: reviewers act, analysts read (real loopback HTTP)."""

from __future__ import annotations

import json
import re
from base64 import b64encode
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from itsdangerous import TimestampSigner

from api.app import create_app
from api.security import SESSION_ROLE, SESSION_USER
from mediawatch.model import Role
from tests.conftest import LiveServer
from tests.factories import make_document


@pytest.fixture
def url(settings, store) -> Iterator[str]:
    with LiveServer(create_app(settings, store)) as server:
        yield server.url


@pytest.fixture
def item(store):
    document = make_document("https://a.vn/1", "Tin đồn", "Nội dung tin đồn", risk=0.9)
    store.upsert([document])
    return document


def signed_in(url: str, settings, user: str, role: Role) -> httpx.Client:
    """A browser session for ``user`` as SessionMiddleware would have issued it at login
    (the accounts module decides roles; here the role is given)."""
    session = b64encode(json.dumps({SESSION_USER: user, SESSION_ROLE: role.value}).encode())
    signer = TimestampSigner(settings.session_secret.get_secret_value())
    cookie = signer.sign(session).decode()
    return httpx.Client(base_url=url, cookies={"mediawatch_session": cookie}, timeout=30)


def test_analysts_read_the_queue_and_items_but_get_no_forms(url, settings, item):
    with signed_in(url, settings, "congan", Role.ANALYST) as client:
        queue = client.get("/")
        assert queue.status_code == 200 and "Tin đồn" in queue.text
        assert 'action="/review/bulk"' not in queue.text and 'name="item_id"' not in queue.text
        page = client.get(f"/items/{quote(item.id)}")
        assert page.status_code == 200
        assert "Chờ xem xét" in page.text and 'name="action"' not in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        refused = client.post(
            f"/items/{quote(item.id)}/review",
            data={"csrf": csrf, "action": "claim", "expected_version": "0"},
        )
        assert refused.status_code == 403


def test_reviewers_get_the_forms_valid_now(url, settings, item):
    with signed_in(url, settings, "an", Role.REVIEWER) as client:
        page = client.get(f"/items/{quote(item.id)}")
        actions = re.findall(r'name="action" value="(\w+)"', page.text)
        assert actions == ["claim", "decide"]
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        claimed = client.post(
            f"/items/{quote(item.id)}/review",
            data={"csrf": csrf, "action": "claim", "expected_version": "0"},
        )
        assert claimed.status_code == 303
        page = client.get(f"/items/{quote(item.id)}")
        assert re.findall(r'name="action" value="(\w+)"', page.text) == ["release", "decide"]
        assert "Đang do <strong>an</strong>" in page.text
    with signed_in(url, settings, "binh", Role.REVIEWER) as other:
        page = other.get(f"/items/{quote(item.id)}")
        assert re.findall(r'name="action" value="(\w+)"', page.text) == []
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        stale = other.post(
            f"/items/{quote(item.id)}/review",
            data={"csrf": csrf, "action": "decide", "outcome": "false", "expected_version": "1"},
        )
        assert stale.status_code == 303
        assert "đang do an xử lý" in other.get(f"/items/{quote(item.id)}").text
