"""Who sees which review forms: reviewers act, analysts read (real loopback HTTP)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import httpx
import pytest

from api.app import create_app
from tests.conftest import ADMIN_PASSWORD, LiveServer, login
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


@contextmanager
def signed_in(url: str, user: str) -> Iterator[httpx.Client]:
    """A browser logged in through the form as one of the test users."""
    with httpx.Client(base_url=url, timeout=30) as client:
        assert login(client, user, ADMIN_PASSWORD).status_code == 303
        yield client


def test_analysts_read_the_queue_and_items_but_get_no_forms(url, settings, item):
    with signed_in(url, "analyst1") as client:
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
    with signed_in(url, "reviewer1") as client:
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
        assert "Đang do <strong>reviewer1</strong>" in page.text
    with signed_in(url, "reviewer2") as other:
        page = other.get(f"/items/{quote(item.id)}")
        assert re.findall(r'name="action" value="(\w+)"', page.text) == []
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        stale = other.post(
            f"/items/{quote(item.id)}/review",
            data={"csrf": csrf, "action": "decide", "outcome": "false", "expected_version": "1"},
        )
        assert stale.status_code == 303
        assert "đang do reviewer1 xử lý" in other.get(f"/items/{quote(item.id)}").text
