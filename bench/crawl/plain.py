"""The baseline: plain Scrapy reading the same feeds or sitemaps and fetching every page.

Runs as ``python -m bench.crawl.plain < job.json`` (a reactor per process, as our crawl has),
with the very Scrapy settings our crawl gets from ``crawlers.settings.scrapy_settings``, minus
our item pipeline; it does nothing with the pages and prints how many it received.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

import scrapy
from pydantic import BaseModel
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.selector import Selector
from scrapy.settings import Settings as ScrapySettings
from scrapy.spiders import SitemapSpider, XMLFeedSpider

from crawlers.settings import scrapy_settings
from mediawatch.config import CrawlSettings


class PlainJob(BaseModel):
    via: Literal["feeds", "sitemaps"]
    start_urls: list[str]
    crawl: CrawlSettings
    autothrottle: bool = True
    log_file: Path | None = None


class _Counting:
    pages = 0

    def count(self, response: Response) -> None:
        self.pages += 1


class PlainFeedSpider(_Counting, XMLFeedSpider):
    name = "plain-feed"
    itertag = "item"

    def parse_node(self, response: Response, node: Selector) -> Iterator[scrapy.Request]:
        link = node.xpath("link/text()").get()
        if link:
            yield scrapy.Request(link.strip(), callback=self.count)


class PlainSitemapSpider(_Counting, SitemapSpider):
    name = "plain-sitemap"
    sitemap_rules: ClassVar[list[tuple[str, str]]] = [("", "count")]


def baseline_settings(job: PlainJob) -> ScrapySettings:
    """Our crawl's Scrapy settings, without our item pipeline (there are no items)."""
    settings = scrapy_settings(job.crawl, job.log_file)
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", job.autothrottle, priority="cmdline")
    return settings


def main() -> None:
    job = PlainJob.model_validate_json(sys.stdin.read())
    spider_class = PlainFeedSpider if job.via == "feeds" else PlainSitemapSpider
    keyword = "start_urls" if job.via == "feeds" else "sitemap_urls"
    process = CrawlerProcess(baseline_settings(job))
    crawler = process.create_crawler(spider_class)
    process.crawl(crawler, **{keyword: job.start_urls})
    process.start()
    print(json.dumps({"pages": crawler.spider.pages}))


if __name__ == "__main__":
    main()
