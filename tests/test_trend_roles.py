"""Who may use trends, spikes, watchlists, exports and reports: every role on every route,
each through a browser session of a real test user (logged in with the form)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from api.security import CSRF_HEADER
from mediawatch.audit import AuditLog
from mediawatch.model import Role
from tests.conftest import ADMIN_PASSWORD, TEST_USERS, login

USER_OF_ROLE = {role: name for name, (role, _token) in TEST_USERS.items()}
WINDOW = {"since": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"}
ROUTES = [  # path, params, roles allowed
    ("/api/trends/volume", WINDOW, set(Role)),
    ("/api/spikes", {}, set(Role)),
    ("/trends", {}, set(Role)),
    ("/api/watchlists", {}, {Role.ANALYST, Role.REVIEWER, Role.ADMIN}),
    ("/watchlists", {}, {Role.ANALYST, Role.REVIEWER, Role.ADMIN}),
    ("/api/exports/items.csv", {}, {Role.ANALYST, Role.REVIEWER, Role.ADMIN}),
    ("/api/exports/trends.xlsx", WINDOW, {Role.ANALYST, Role.REVIEWER, Role.ADMIN}),
    (
        "/api/reports/yearly.xlsx",
        {"since": "2025-12-01", "until": "2026-11-30"},
        {Role.ANALYST, Role.REVIEWER, Role.ADMIN},
    ),
]


@contextmanager
def session_client(live_api, role: Role) -> Iterator[httpx.Client]:
    """A browser logged in as the test user of ``role``, sending the session's CSRF token
    with JSON writes as the pages do."""
    with httpx.Client(base_url=live_api.url, timeout=30) as client:
        assert login(client, USER_OF_ROLE[role], ADMIN_PASSWORD).status_code == 303
        account = client.get("/account").text
        client.headers[CSRF_HEADER] = re.search(r'name="csrf" value="([^"]+)"', account).group(1)
        yield client


@pytest.mark.parametrize("role", list(Role))
def test_every_role_on_every_trend_route(live_api, role):
    with session_client(live_api, role) as client:
        for path, params, allowed in ROUTES:
            status = client.get(path, params=params).status_code
            assert status == (200 if role in allowed else 403), (role, path, status)
        created = client.post("/api/watchlists", json={"name": "x"}).status_code
        assert created == (201 if role != Role.VIEWER else 403)
        started = client.post("/api/exports", json={"format": "csv", "search": {}}).status_code
        assert started == (202 if role != Role.VIEWER else 403)


def test_free_text_in_trends_needs_the_right_to_read_items_and_is_audited(live_api, settings):
    """Counting a phrase per source and hour reads item bodies by probing: viewers may see
    trends but not search them; those who may are audited as for a search."""
    probe = WINDOW | {"interval": "hour", "dimension": "source", "text": '"bí mật"'}
    with session_client(live_api, Role.VIEWER) as viewer:
        assert viewer.get("/api/trends/volume", params=WINDOW).status_code == 200
        assert viewer.get("/api/trends/volume", params=probe).status_code == 403
        assert viewer.get("/trends", params={"text": "bí mật"}).status_code == 403
        assert 'name="text"' not in viewer.get("/trends").text
    with session_client(live_api, Role.ANALYST) as analyst:
        assert analyst.get("/api/trends/volume", params=probe).status_code == 200
        assert analyst.get("/trends", params={"text": "bí mật"}).status_code == 200
        assert 'name="text"' in analyst.get("/trends").text
    searches = AuditLog(settings.audit_path).entries(action="search")
    assert [(e.actor, e.target, e.detail["query"]["text"]) for e in searches] == [
        ("analyst1", "trends", '"bí mật"'),
        ("analyst1", "trends", "bí mật"),
    ]


def test_export_links_show_only_to_roles_that_may_export(live_api):
    with session_client(live_api, Role.VIEWER) as viewer:
        page = viewer.get("/trends").text
        assert "Đột biến hiện tại" in page and "/api/exports/" not in page
    with session_client(live_api, Role.ANALYST) as analyst:
        assert "/api/exports/trends.xlsx?" in analyst.get("/trends").text
