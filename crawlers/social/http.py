"""HTTP for the social connectors: timeouts, bounded retries, and secrets kept out of logs.

The platforms' APIs answer JSON (or, for Telegram, HTML) over plain HTTPS, so a synchronous
httpx client is enough; Scrapy's politeness machinery is for crawling many pages of one site,
not for a few API calls per source.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from ipaddress import ip_address
from typing import Any

import httpx
import structlog

from crawlers.destinations import (
    DestinationPolicy,
    ForbiddenDestination,
    literal_address,
    resolve,
)
from crawlers.retry_after import retry_after_s

log = structlog.get_logger("mediawatch.crawl.social")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The longest we wait for one retry, whatever Retry-After asks: a crawl must not stall.
MAX_RETRY_WAIT_S = 60.0


class SocialError(Exception):
    """A source could not be read; ``cause`` is the stable slug health counts by."""

    def __init__(self, cause: str, detail: str, url: str = "") -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause
        self.detail = detail
        self.url = url


class Redactor:
    """Replaces every configured secret by ``***`` in text bound for logs and events."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _retry_after_s(response: httpx.Response, fallback: float) -> float:
    """Seconds the server asked us to wait (delta or HTTP date), else ``fallback``; bounded."""
    asked = retry_after_s(response.headers.get("Retry-After"))
    return min(asked if asked is not None else max(fallback, 0.0), MAX_RETRY_WAIT_S)


_TRANSPORT_CAUSES: tuple[tuple[type[httpx.TransportError], str], ...] = (
    (httpx.TimeoutException, "timeout"),
    (httpx.ConnectError, "connection_refused"),
    (httpx.RemoteProtocolError, "connection_lost"),
)


def destination_hooks(
    policy: DestinationPolicy, proxied: bool = False
) -> dict[str, list[Callable[..., None]]]:
    """httpx event hooks enforcing ``policy``: each request, redirect hops included, before it
    is sent (by every address its host resolves to), and the address each answer came from
    (a name that resolved elsewhere on connecting: its answer is dropped unread). Through a
    proxy (``proxied``) the proxy resolves names and is the only peer seen: only literal
    addresses and metadata names are checked."""

    def before(request: httpx.Request) -> None:
        host = request.url.host
        if proxied:
            literal = literal_address(host)
            policy.check(host, [literal] if literal else [])
        else:
            policy.check(host, resolve(host, request.url.port or 443))

    def after(response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            policy.check(response.request.url.host, [ip_address(peer[0])])

    return {"request": [before], "response": [] if proxied else [after]}


class ApiClient:
    """GETs with retries on 429/5xx and transport errors, honouring Retry-After (bounded)."""

    def __init__(
        self,
        client: httpx.Client,
        redact: Redactor,
        retries: int = 2,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.redact = redact
        self._retries = retries
        self._backoff_s = backoff_s
        self._sleep = sleep

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """The final response, whatever its status; raises SocialError when none came."""
        attempt = 0
        while True:
            try:
                response = self._client.get(url, params=params)
            except ForbiddenDestination as error:
                log.warning("internal destination refused", url=self.redact(url), reason=str(error))
                raise SocialError(error.cause, str(error), self.redact(url)) from error
            except httpx.TransportError as error:
                if attempt >= self._retries:
                    cause = next(
                        (c for kind, c in _TRANSPORT_CAUSES if isinstance(error, kind)),
                        "transport_error",
                    )
                    detail = self.redact(str(error) or type(error).__name__)
                    raise SocialError(cause, detail, self.redact(url)) from error
                wait = self._backoff_s * 2**attempt
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self._retries:
                    return response
                wait = _retry_after_s(response, self._backoff_s * 2**attempt)
            attempt += 1
            log.info("retrying", url=self.redact(url), attempt=attempt, wait_s=round(wait, 2))
            self._sleep(wait)

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, decoded JSON); a body that is not JSON is a ``bad_response`` failure."""
        response = self.get(url, params)
        try:
            return response.status_code, response.json()
        except ValueError as error:
            raise SocialError(
                "bad_response" if response.is_success else f"http_{response.status_code}",
                f"HTTP {response.status_code}, not JSON: {response.text[:200]!r}",
                self.redact(str(response.url)),
            ) from error
