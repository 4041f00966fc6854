"""Writes are refused before their bodies are read: without credentials (401, or the login
form for pages) and past their route's size limit (413), over real HTTP on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from api.body_limits import PUBLIC_FORMS, WRITE_METHODS
from tests.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, API_TOKEN, LiveServer, login
from tests.test_access_matrix import PLACEHOLDERS, app_routes

MB = 1 << 20


def rss_mb() -> int:
    """This process's resident memory: LiveServer serves in a thread of the test process."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


class Body:
    """A body made as it is sent (httpx streams an iterable chunked, never holding it whole),
    counting how much of it the server took before answering."""

    def __init__(self, total: int, size: int = MB) -> None:
        self.total = total
        self.size = size
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        block = b"x" * self.size
        while self.sent < self.total:
            chunk = block[: self.total - self.sent]
            yield chunk
            self.sent += len(chunk)


def chunks(total: int, size: int = MB) -> Body:
    return Body(total, size)


@pytest.fixture
def server(live_api: LiveServer) -> LiveServer:
    return live_api


@pytest.fixture
def app(settings, store):
    """An app like the served one, for its list of routes."""
    return create_app(settings, store)


def writes(app, api: bool) -> list[tuple[str, str]]:
    """Every write route of the app, placeholders filled in (a new route cannot escape)."""
    found = []
    for method, path in app_routes(app):
        if method in WRITE_METHODS and path.startswith("/api/") == api:
            url = re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], path)
            found.append((method, url))
    assert found
    return found


def test_a_huge_unauthenticated_body_is_refused_unread(server):
    """200 MB streamed without a token: 401 at once, and the server's memory barely moves
    (before, it read and decoded the whole body first: 1 GB cost 3 GB)."""
    before = rss_mb()
    body = chunks(200 * MB)
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        response = anonymous.post(
            "/api/ingest", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 401
    assert "API token" in response.json()["detail"]
    assert rss_mb() - before < 50
    assert body.sent < 50 * MB  # the server stopped taking it


def test_every_write_route_refuses_strangers_before_the_body(app, server, settings):
    """Each is answered while the body is still coming: the server took little of it."""
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        for method, url in writes(app, api=True):
            body = chunks(32 * MB)
            response = anonymous.request(method, url, content=body)
            assert response.status_code == 401, (method, url, response.status_code)
            assert body.sent < 16 * MB, (method, url, body.sent)
            assert response.json()["detail"].startswith("Cần API token"), url
            forged = anonymous.request(
                method, url, content=b"{}", headers={"Authorization": "Bearer mw_x_forged"}
            )
            assert forged.status_code == 401, (method, url)
        for method, url in writes(app, api=False):
            if url in PUBLIC_FORMS:
                continue
            body = chunks(32 * MB)
            response = anonymous.request(method, url, content=body)
            assert response.status_code == 303, (method, url, response.status_code)
            assert body.sent < 16 * MB, (method, url, body.sent)
            assert response.headers["location"].startswith("/login?next=")


def test_every_write_route_caps_its_body(app, server, settings):
    """Over the limit by its Content-Length, or (chunked, no length) as the bytes arrive."""
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as admin:
        for method, url in writes(app, api=True):
            limit = settings.body_limits.limit(url)
            declared = admin.request(
                method,
                url,
                content=chunks(limit + 1),
                headers={"Content-Length": str(limit + 1), "Content-Type": "application/json"},
            )
            assert declared.status_code == 413, (method, url, declared.status_code)
            assert "quá lớn" in declared.json()["detail"]
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
    ) as reviewer:
        for url in ("/api/ingest", "/api/claims/import", "/api/review/bulk"):
            limit = settings.body_limits.limit(url)
            body = chunks(4 * limit + 32 * MB)
            streamed = reviewer.post(
                url, content=body, headers={"Content-Type": "application/json"}
            )
            assert streamed.status_code == 413, (url, streamed.status_code, streamed.text)
            assert body.sent < body.total // 2  # it stopped near the limit
        assert reviewer.post("/api/ingest", json={"items": []}).status_code == 422  # still read


def test_forms_are_capped_for_people_logged_in(server, settings):
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert login(browser, "reviewer1", ADMIN_PASSWORD).status_code == 303
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/").text).group(1)
        too_big = "x" * (settings.body_limits.form_kib * 1024)
        response = browser.post("/watchlists", data={"csrf": csrf, "name": too_big})
        assert response.status_code == 413
        saved = browser.post("/watchlists", data={"csrf": csrf, "name": "Đất đai"})
        assert saved.status_code == 303
