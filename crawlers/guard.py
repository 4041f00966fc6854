"""The destination policy (crawlers.destinations) at Scrapy's two checkpoints.

- ``DestinationGuardMiddleware`` checks every request as it is about to be downloaded: the
  first, each redirect hop (RedirectMiddleware makes a new request that comes through here
  again), robots.txt. It refuses what the URL alone gives away: an internal address written
  as such, a metadata service's name.
- ``GuardedResolver`` checks the address a host name resolves to, as the connection is made
  to that very address: a name that points inside, or comes to point inside between two
  lookups (DNS rebinding), is refused before any byte is sent.

Through a proxy set in ``crawl.proxy_url`` (``ConfiguredProxyMiddleware``), the proxy resolves
the target's name: only the middleware's checks apply, the resolver sees only the proxy's name.
The environment's HTTP(S)_PROXY is never used (crawlers.settings).

Twisted turns a resolver's refusal into a plain "no results for hostname lookup"; the
middleware gives it back its cause, so the spider records an ``internal_address`` failure
instead of retrying a DNS error.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address

import structlog
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.base import ReactorBase
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawlers.destinations import DestinationPolicy, ForbiddenDestination, literal_address

log = structlog.get_logger("mediawatch.crawl")

SETTING = "MEDIAWATCH_ALLOWED_INTERNAL_HOSTS"
PROXY_SETTING = "MEDIAWATCH_PROXY_URL"


def _policy(settings: BaseSettings) -> DestinationPolicy:
    return DestinationPolicy.allowing(settings.getlist(SETTING))


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's resolver, refusing internal addresses; remembers why, for the middleware."""

    def __init__(self, reactor: ReactorBase, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.policy = DestinationPolicy()
        self.refused: dict[str, str] = {}  # host name → reason

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy = _policy(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    def _checked(self, address: str, name: str) -> str:
        reason = self.policy.refusal(name, [ip_address(address)])
        if reason is None:
            return address
        self.refused[name.lower()] = reason
        raise DNSLookupError(reason)


class DestinationGuardMiddleware:
    """Refuses requests to internal destinations; see the module's docstring."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DestinationGuardMiddleware:
        return cls(_policy(crawler.settings))

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        literal = literal_address(host)
        reason = self.policy.refusal(host, [literal] if literal else [])
        if reason is not None:
            self._refuse(request, reason)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, CannotResolveHostError):
            return
        from twisted.internet import reactor

        resolver = getattr(reactor, "resolver", None)
        host = urlparse_cached(request).hostname or ""
        if isinstance(resolver, GuardedResolver) and host in resolver.refused:
            self._refuse(request, resolver.refused[host])

    @staticmethod
    def _refuse(request: Request, reason: str) -> None:
        log.warning("internal destination refused", url=request.url, reason=reason)
        raise ForbiddenDestination(reason)


class ConfiguredProxyMiddleware:
    """Sends every request through ``crawl.proxy_url``; absent unless one is set."""

    def __init__(self, proxy_url: str) -> None:
        self.proxy_url = proxy_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConfiguredProxyMiddleware:
        proxy_url = crawler.settings.get(PROXY_SETTING)
        if not proxy_url:
            raise NotConfigured
        return cls(proxy_url)

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("proxy", self.proxy_url)
