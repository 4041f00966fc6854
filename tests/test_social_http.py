"""Retries, Retry-After and secret redaction of the social connectors' HTTP client."""

from __future__ import annotations

import httpx
import pytest

from crawlers.social import SocialError
from crawlers.social.http import MAX_RETRY_WAIT_S, ApiClient, Redactor
from tests.conftest import free_port
from tests.http_site import Route, RouteSite

SECRET = "s3cret-token-value"


def client_with(waits: list[float], retries: int = 3) -> ApiClient:
    return ApiClient(
        httpx.Client(timeout=5),
        Redactor([SECRET]),
        retries=retries,
        backoff_s=0.5,
        sleep=waits.append,
    )


def test_retries_429_and_5xx_honouring_retry_after_within_bounds():
    answers = [
        Route(b"slow down", status=429, headers={"Retry-After": "7"}),
        Route(b"busy", status=503),
        Route(b"later", status=429, headers={"Retry-After": "3600"}),
        Route(b'{"ok": true}', "application/json"),
    ]
    waits: list[float] = []
    with RouteSite({"/api": answers}) as site:
        status, body = client_with(waits).get_json(f"{site.base_url}/api")
    assert (status, body) == (200, {"ok": True})
    assert waits == [7.0, 1.0, MAX_RETRY_WAIT_S]  # asked; backoff 0.5·2¹; capped
    assert len(site.requested) == 4


def test_gives_the_last_answer_when_retries_run_out():
    waits: list[float] = []
    with RouteSite({"/api": Route(b"{}", "application/json", status=502)}) as site:
        status, _ = client_with(waits, retries=1).get_json(f"{site.base_url}/api")
    assert status == 502
    assert len(site.requested) == 2


def test_a_client_error_is_not_retried():
    waits: list[float] = []
    with RouteSite({"/api": Route(b'{"error": {}}', "application/json", status=403)}) as site:
        status, _ = client_with(waits).get_json(f"{site.base_url}/api")
    assert status == 403
    assert waits == []


def test_unreachable_host_is_a_failure_without_the_secret():
    waits: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/posts?access_token={SECRET}"
    with pytest.raises(SocialError) as raised:
        client_with(waits, retries=2).get(url)
    assert raised.value.cause == "connection_refused"
    assert waits == [0.5, 1.0]
    assert SECRET not in str(raised.value) + raised.value.url
    assert "access_token=***" in raised.value.url
