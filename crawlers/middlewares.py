"""Per-site backoff: a site that asks us to slow down, or is failing, is asked again later.

Replaces Scrapy's RetryMiddleware. A 429, a 5xx or a timeout retries the request (bounded by
RETRY_TIMES) and lengthens the delay of that site's downloader slot, so every later request
to the site waits too: by the server's ``Retry-After`` (seconds or an HTTP date, capped) when
it sends one, else exponentially by how many times in a row the site has refused. The first
ordinary answer ends the streak; AutoThrottle then brings the delay back down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic

import structlog
from scrapy import Request
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.utils.misc import load_object

log = structlog.get_logger("mediawatch.crawl")


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for, or None when it says nothing usable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


@dataclass
class _Streak:
    refusals: int = 0
    jitter: float = 0.0  # the slot's own jitter, given back when the streak ends


class BackoffRetryMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.retry_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.exceptions = tuple(load_object(e) for e in settings.getlist("RETRY_EXCEPTIONS"))
        self.base_s = settings.getfloat("MEDIAWATCH_BACKOFF_BASE_S")
        self.max_s = settings.getfloat("MEDIAWATCH_BACKOFF_MAX_S")
        self.streaks: dict[str, _Streak] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_codes:
            self._streak_ends(request)
            return response
        asked = retry_after_s(_header(response, "Retry-After"))
        self._back_off(request, asked, f"http_{response.status}")
        return self._retry(request, f"http_{response.status}") or response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions):
            return None
        self._back_off(request, None, type(exception).__name__)
        return self._retry(request, exception)

    def _retry(self, request: Request, reason: str | Exception) -> Request | None:
        assert self.crawler.spider is not None
        return get_retry_request(request, spider=self.crawler.spider, reason=reason)

    @property
    def _downloader(self) -> Downloader:
        assert self.crawler.engine is not None
        return self.crawler.engine.downloader

    def _back_off(self, request: Request, asked_s: float | None, reason: str) -> None:
        key = self._downloader.get_slot_key(request)
        slot = self._downloader.slots.get(key)
        if slot is None:
            return
        streak = self.streaks.get(key)
        if streak is None:
            streak = self.streaks[key] = _Streak(jitter=slot.jitter)
        streak.refusals += 1
        wait = min(self.max_s, max(asked_s or 0.0, self.base_s * 2 ** (streak.refusals - 1)))
        slot.delay = max(slot.delay, wait)
        slot.jitter = 0.0  # a wait the server asked for is not shortened at random
        slot.lastseen = monotonic()  # counted from this answer, not from the request
        log.info(
            "site backs off",
            site=key,
            reason=reason,
            retry_after_s=asked_s,
            delay_s=slot.delay,
            refusals=streak.refusals,
        )

    def _streak_ends(self, request: Request) -> None:
        key = self._downloader.get_slot_key(request)
        streak = self.streaks.pop(key, None)
        slot = self._downloader.slots.get(key)
        if streak is not None and slot is not None:
            slot.jitter = streak.jitter


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
