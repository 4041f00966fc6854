"""Scrapy settings built from mediawatch's crawl settings: polite by default."""

from __future__ import annotations

from pathlib import Path

from scrapy.settings import Settings as ScrapySettings

from crawlers.guard import PROXY_SETTING
from mediawatch.config import CrawlSettings


def scrapy_settings(crawl: CrawlSettings, log_file: Path | None) -> ScrapySettings:
    settings = ScrapySettings()
    settings.setdict(
        {
            "BOT_NAME": "mediawatch",
            "USER_AGENT": crawl.user_agent,
            "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
            "DOWNLOAD_DELAY": crawl.download_delay_s,
            "DOWNLOAD_DELAY_JITTER": 0.5,  # ±50 %, so requests do not come like a clock
            "CONCURRENT_REQUESTS": crawl.concurrent_requests,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.per_domain_concurrency,
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay_s, 0.1),
            # As many requests in flight per site as the per-site limit allows, no more.
            "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.per_domain_concurrency),
            "DOWNLOAD_TIMEOUT": crawl.timeout_s,
            # Both apply to the decompressed body too (HttpCompressionMiddleware): a gzip bomb
            # is a too_large failure, not a full memory.
            "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
            "DOWNLOAD_WARNSIZE": crawl.max_page_bytes // 2,
            "RETRY_TIMES": crawl.retries,
            "DOWNLOADER_MIDDLEWARES": {
                "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
                # Before HttpProxyMiddleware (750): each request goes through the proxy set.
                "crawlers.guard.ConfiguredProxyMiddleware": 740,
                "crawlers.middlewares.BackoffRetryMiddleware": 550,
                # Last before the network: it sees the request as it will be sent, and it is
                # the first to see a download's error, before a retry of a refused lookup.
                "crawlers.guard.DestinationGuardMiddleware": 950,
            },
            **_proxy_settings(crawl.proxy_url),
            "MEDIAWATCH_ALLOWED_INTERNAL_HOSTS": crawl.allowed_internal_hosts,
            "MEDIAWATCH_BACKOFF_BASE_S": crawl.backoff_s,
            "MEDIAWATCH_BACKOFF_MAX_S": crawl.max_backoff_s,
            "COOKIES_ENABLED": False,
            # The web only: a hostile feed must not make us read local files or other stores.
            "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
            "CLOSESPIDER_TIMEOUT": crawl.max_crawl_s,
            "TELNETCONSOLE_ENABLED": False,
            # Scrapy re-parses a generator callback's source on every response to warn about
            # `return value`; its cache misses per request, and it cost ~8 % of the crawl's CPU.
            "WARN_ON_GENERATOR_RETURN_VALUE": False,
            # Each page yields one item: Scrapy's default of 100 concurrent item tasks per
            # response only made ~100 idle asyncio tasks per page.
            "CONCURRENT_ITEMS": 4,
            "ITEM_PIPELINES": {"crawlers.pipelines.EmitDocumentPipeline": 100},
            "LOG_LEVEL": "INFO",
            "LOG_FILE": str(log_file) if log_file else None,
            "LOG_FILE_APPEND": True,
        },
        priority="project",
    )
    return settings


def _proxy_settings(proxy_url: str | None) -> dict[str, object]:
    """Direct connections, each checked at the address connected to, unless a proxy is set
    deliberately. Scrapy would otherwise take HTTP(S)_PROXY from the environment, resolve
    only the proxy's name, and the resolver guard would never see the target's address.
    Through a set proxy only the proxy's name is resolved here: the default resolver, with
    the middleware refusing literal internal addresses and metadata names."""
    if proxy_url is None:
        return {
            "HTTPPROXY_ENABLED": False,
            "TWISTED_DNS_RESOLVER": "crawlers.guard.GuardedResolver",
        }
    return {"HTTPPROXY_ENABLED": True, PROXY_SETTING: proxy_url}
