"""Every route of the app, called by every role: the allow/deny the table below expects.

A route that is not in EXPECTED fails the test by name: whoever adds a route says here who may
call it. JSON routes are called with each role's token, pages with each role's logged-in
session and a valid CSRF field, so only the role decides. Allowed means neither 401 nor 403
(404, 409, 422 are fine: the test sends placeholders); denied means 403. Without credentials,
JSON answers 401 and pages send the browser to the login form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from api.app import create_app
from api.security import ROLE_PERMISSIONS, Permission
from mediawatch.model import Role
from tests.conftest import ADMIN_PASSWORD, ROLE_TOKENS, TEST_USERS, LiveServer, login

PUBLIC = "public"  # anyone, logged in or not
SIGNED_IN = "signed_in"  # any role, once identified
P = Permission
EXPECTED: dict[tuple[str, str], str] = {
    # JSON: items, the queue, decisions, stories, topics, ingest, trends, sources
    ("GET", "/api/items"): P.READ_ITEMS,
    ("GET", "/api/items/{item_id}"): P.READ_ITEMS,
    ("GET", "/api/items/{item_id}/review-log"): P.READ_ITEMS,
    ("GET", "/api/review/queue"): P.READ_ITEMS,
    ("GET", "/api/review/stats"): P.READ_ITEMS,
    ("POST", "/api/review/bulk"): P.REVIEW,
    ("POST", "/api/items/{item_id}/review"): P.REVIEW,
    ("PUT", "/api/items/{item_id}/topics"): P.REVIEW,
    ("GET", "/api/stories/{story_id}"): P.READ_ITEMS,
    ("GET", "/api/trends"): P.DASHBOARDS,
    ("GET", "/api/sources"): P.ADMIN,
    ("POST", "/api/ingest"): P.INGEST,
    ("GET", "/api/openapi.json"): SIGNED_IN,
    # JSON: one's own tokens; users and the audit log for admins
    ("GET", "/api/tokens"): SIGNED_IN,
    ("POST", "/api/tokens"): SIGNED_IN,
    ("DELETE", "/api/tokens/{token_id}"): SIGNED_IN,
    ("GET", "/api/users"): P.ADMIN,
    ("POST", "/api/users"): P.ADMIN,
    ("PATCH", "/api/users/{name}"): P.ADMIN,
    ("POST", "/api/users/{name}/reset"): P.ADMIN,
    ("GET", "/api/users/{name}/tokens"): P.ADMIN,
    ("DELETE", "/api/users/{name}/tokens/{token_id}"): P.ADMIN,
    ("GET", "/api/audit"): P.ADMIN,
    ("GET", "/api/audit/export"): P.ADMIN,
    # JSON: trends, spikes, watchlists, exports, the yearly report
    ("GET", "/api/trends/volume"): P.DASHBOARDS,
    ("GET", "/api/spikes"): P.DASHBOARDS,
    ("GET", "/api/watchlists"): P.WATCHLISTS,
    ("POST", "/api/watchlists"): P.WATCHLISTS,
    ("GET", "/api/watchlists/{watchlist_id}"): P.WATCHLISTS,
    ("PUT", "/api/watchlists/{watchlist_id}"): P.WATCHLISTS,
    ("DELETE", "/api/watchlists/{watchlist_id}"): P.WATCHLISTS,
    ("GET", "/api/exports/items.{fmt}"): P.EXPORT,
    ("GET", "/api/exports/trends.{fmt}"): P.EXPORT,
    ("POST", "/api/exports"): P.EXPORT,
    ("GET", "/api/exports/{job_id}"): P.EXPORT,
    ("GET", "/api/exports/{job_id}/download"): P.EXPORT,
    ("GET", "/api/reports/yearly.xlsx"): P.EXPORT,
    # JSON: the claims register
    ("GET", "/api/claims"): P.READ_ITEMS,
    ("GET", "/api/claims/{claim_id}"): P.READ_ITEMS,
    ("GET", "/api/claims/export"): P.EXPORT,
    ("POST", "/api/claims"): P.REVIEW,
    ("PATCH", "/api/claims/{claim_id}"): P.REVIEW,
    ("POST", "/api/claims/import"): P.REVIEW,
    ("POST", "/api/claims/{claim_id}/items/{item_id}"): P.REVIEW,
    ("DELETE", "/api/claims/{claim_id}/items/{item_id}"): P.REVIEW,
    ("POST", "/api/claims/{claim_id}/suggestions/{item_id}"): P.REVIEW,
    # Pages
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/"): P.READ_ITEMS,
    ("GET", "/items/{item_id}"): P.READ_ITEMS,
    ("POST", "/items/{item_id}/topics"): P.REVIEW,
    ("POST", "/items/{item_id}/review"): P.REVIEW,
    ("POST", "/review/bulk"): P.REVIEW,
    ("GET", "/search"): P.READ_ITEMS,
    ("GET", "/trends"): P.DASHBOARDS,
    ("GET", "/sources"): P.ADMIN,
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens/{token_id}/revoke"): SIGNED_IN,
    ("GET", "/admin/users"): P.ADMIN,
    ("POST", "/admin/users"): P.ADMIN,
    ("POST", "/admin/users/{name}"): P.ADMIN,
    ("POST", "/admin/users/{name}/reset"): P.ADMIN,
    ("GET", "/admin/audit"): P.ADMIN,
    ("GET", "/watchlists"): P.WATCHLISTS,
    ("POST", "/watchlists"): P.WATCHLISTS,
    ("POST", "/watchlists/{watchlist_id}/delete"): P.WATCHLISTS,
    ("GET", "/claims"): P.READ_ITEMS,
    ("GET", "/claims/{claim_id}"): P.READ_ITEMS,
    ("POST", "/claims/{claim_id}/suggestions/{item_id}"): P.REVIEW,
}
MOUNTS = {"/static"}  # files, public
PLACEHOLDERS = {
    "claim_id": "x",
    "fmt": "csv",
    "job_id": "x",
    "watchlist_id": "1",
    "item_id": "x",
    "story_id": "x",
    "token_id": "x",
    "name": "reviewer2",
}
USER_OF_ROLE = {role: name for name, (role, _token) in TEST_USERS.items()}


def app_routes(app) -> list[tuple[str, str]]:
    routes = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            assert context.path in MOUNTS, f"unexpected mount {context.path}"
            continue
        routes += [(method, context.path) for method in context.original_route.methods]
    # Logging out ends the session the other page calls use: last.
    return sorted(routes, key=lambda route: route == ("POST", "/logout"))


def allowed(rule: str, role: Role | None) -> bool:
    if rule == PUBLIC:
        return True
    if role is None:
        return False
    return rule == SIGNED_IN or Permission(rule) in ROLE_PERMISSIONS[role]


def call(client: httpx.Client, method: str, path: str, csrf: str | None) -> httpx.Response:
    url = re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], path)
    if method in {"GET", "DELETE"}:
        return client.request(method, url)
    if path.startswith("/api/"):
        return client.request(method, url, json={})
    return client.request(method, url, data={"csrf": csrf or ""})


@pytest.fixture
def app(settings, store):
    return create_app(settings, store)


@pytest.fixture
def server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


def test_every_route_is_in_the_table(app):
    routes = set(app_routes(app))
    missing = sorted(routes - EXPECTED.keys())
    assert not missing, f"routes without an expected permission in EXPECTED: {missing}"
    stale = sorted(EXPECTED.keys() - routes)
    assert not stale, f"EXPECTED lists routes the app no longer has: {stale}"


@pytest.mark.parametrize("role", [*Role, None], ids=[*(r.value for r in Role), "anonymous"])
def test_each_role_gets_exactly_what_the_table_allows(app, server, role):
    wrong = []
    with (
        httpx.Client(base_url=server.url, timeout=30) as browser,
        httpx.Client(base_url=server.url, timeout=30) as script,
    ):
        if role is not None:
            assert login(browser, USER_OF_ROLE[role], ADMIN_PASSWORD).status_code == 303
            script.headers["Authorization"] = f"Bearer {ROLE_TOKENS[role]}"
        page = browser.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        for method, path in app_routes(app):
            rule = EXPECTED.get((method, path))
            if rule is None:
                wrong.append(f"{method} {path}: not in EXPECTED")
                continue
            is_json = path.startswith("/api/")
            response = call(script if is_json else browser, method, path, csrf)
            if response.status_code >= 500:
                wrong.append(f"{method} {path}: {response.status_code}")
            elif allowed(rule, role):
                sent_away = rule != PUBLIC and _to_login(response)  # logging out is not refused
                if response.status_code in {401, 403} or sent_away:
                    wrong.append(f"{method} {path}: refused ({response.status_code}), expected ok")
            elif role is not None and response.status_code != 403:
                wrong.append(f"{method} {path}: {response.status_code}, expected 403")
            elif role is None and is_json and response.status_code != 401:
                wrong.append(f"{method} {path}: {response.status_code}, expected 401")
            elif role is None and not is_json and not _to_login(response):
                wrong.append(f"{method} {path}: {response.status_code}, expected the login form")
    assert not wrong, "\n".join(wrong)


def _to_login(response: httpx.Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")
