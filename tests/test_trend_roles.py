"""Who may use trends, spikes, watchlists, exports and reports: every role on every route.

Sessions are signed the way the session middleware signs them, so each role can be tried
before the accounts store exists to log them in.
"""

from __future__ import annotations

import json
from base64 import b64encode

import httpx
import pytest
from itsdangerous import TimestampSigner

from api.security import CSRF_HEADER
from mediawatch.model import Role

CSRF = "csrf-of-this-session"
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


def session_client(live_api, settings, role: Role) -> httpx.Client:
    session = {"user": f"nguoi-{role.value}", "role": role.value, "csrf": CSRF}
    signer = TimestampSigner(settings.session_secret.get_secret_value())
    cookie = signer.sign(b64encode(json.dumps(session).encode())).decode()
    return httpx.Client(
        base_url=live_api.url,
        cookies={"mediawatch_session": cookie},
        headers={CSRF_HEADER: CSRF},
        timeout=30,
    )


@pytest.mark.parametrize("role", list(Role))
def test_every_role_on_every_trend_route(live_api, settings, role):
    with session_client(live_api, settings, role) as client:
        for path, params, allowed in ROUTES:
            status = client.get(path, params=params).status_code
            assert status == (200 if role in allowed else 403), (role, path, status)
        created = client.post("/api/watchlists", json={"name": "x"}).status_code
        assert created == (201 if role != Role.VIEWER else 403)
        started = client.post("/api/exports", json={"format": "csv", "search": {}}).status_code
        assert started == (202 if role != Role.VIEWER else 403)


def test_export_links_show_only_to_roles_that_may_export(live_api, settings):
    with session_client(live_api, settings, Role.VIEWER) as viewer:
        page = viewer.get("/trends").text
        assert "Đột biến hiện tại" in page and "/api/exports/" not in page
    with session_client(live_api, settings, Role.ANALYST) as analyst:
        assert "/api/exports/trends.xlsx?" in analyst.get("/trends").text
