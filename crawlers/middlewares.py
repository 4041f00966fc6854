"""Per-site backoff: a site that asks us to slow down, or is struggling, is asked again later.

Replaces Scrapy's RetryMiddleware; retries stay bounded by RETRY_TIMES. The delay lives in the
site's downloader slot, so every later request to the site waits too, not just the retry:

- a 429, or any retryable status with ``Retry-After``: the server's wait (seconds or an HTTP
  date, capped), and at least a delay that doubles with each such refusal in a row;
- a 5xx or a timeout: a delay that doubles with each retry of that request;
- a host that does not resolve or refuses connections: retried, without a delay — there is
  no server to spare, and a dead site must not stall the crawl.

An ordinary answer ends a streak of refusals; AutoThrottle then brings the delay back down.
"""

from __future__ import annotations

from time import monotonic

import structlog
from scrapy import Request
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from scrapy.http import Response
from scrapy.utils.misc import load_object
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

from crawlers.retry_after import retry_after_s

log = structlog.get_logger("mediawatch.crawl")


class BackoffRetryMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.retry_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.exceptions = tuple(load_object(e) for e in settings.getlist("RETRY_EXCEPTIONS"))
        self.unreachable = (
            CannotResolveHostError,
            DownloadConnectionRefusedError,
            DNSLookupError,
            ConnectionRefusedError,
        )
        self.base_s = settings.getfloat("MEDIAWATCH_BACKOFF_BASE_S")
        self.max_s = settings.getfloat("MEDIAWATCH_BACKOFF_MAX_S")
        self.refusals: dict[str, int] = {}  # per site: 429s in a row
        self.jitters: dict[str, float] = {}  # per site backing off: the slot's own jitter

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_codes:
            self._answered(request)
            return response
        reason = f"http_{response.status}"
        asked = retry_after_s(_header(response, "Retry-After"))
        if response.status == 429 or asked is not None:
            self._slow_down(request, asked, reason)
            return self._retry(request, reason) or response
        retry = self._retry(request, reason)
        if retry is not None:
            self._wait_before(request, reason)
        return retry or response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions):
            return None
        retry = self._retry(request, exception)
        if retry is not None and not isinstance(exception, self.unreachable):
            self._wait_before(request, type(exception).__name__)
        return retry

    def _retry(self, request: Request, reason: str | Exception) -> Request | None:
        assert self.crawler.spider is not None
        return get_retry_request(request, spider=self.crawler.spider, reason=reason)

    @property
    def _downloader(self) -> Downloader:
        assert self.crawler.engine is not None
        return self.crawler.engine.downloader

    def _slow_down(self, request: Request, asked_s: float | None, reason: str) -> None:
        """The server refused for load: wait as asked, and longer with each refusal in a row."""
        key = self._downloader.get_slot_key(request)
        self.refusals[key] = self.refusals.get(key, 0) + 1
        doubled = self.base_s * 2 ** (self.refusals[key] - 1)
        self._delay(key, min(self.max_s, max(asked_s or 0.0, doubled)), reason)

    def _wait_before(self, request: Request, reason: str) -> None:
        """The server is failing: give it longer before each retry of the same request."""
        tries = request.meta.get("retry_times", 0)
        key = self._downloader.get_slot_key(request)
        self._delay(key, min(self.max_s, self.base_s * 2**tries), reason)

    def _delay(self, key: str, wait_s: float, reason: str) -> None:
        slot = self._downloader.slots.get(key)
        if slot is None:
            return
        self.jitters.setdefault(key, slot.jitter)
        slot.jitter = 0.0  # a wait the server needs is not shortened at random
        slot.delay = max(slot.delay, wait_s)
        slot.lastseen = monotonic()  # counted from this answer, not from the request
        log.info("site backs off", site=key, reason=reason, delay_s=slot.delay)

    def _answered(self, request: Request) -> None:
        """An ordinary answer: the streak of refusals ends and the slot gets its jitter back."""
        key = self._downloader.get_slot_key(request)
        self.refusals.pop(key, None)
        jitter = self.jitters.pop(key, None)
        slot = self._downloader.slots.get(key)
        if jitter is not None and slot is not None:
            slot.jitter = jitter


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
