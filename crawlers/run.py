"""Child-process entry point: ``python -m crawlers.run < job.json``.

A crawl runs in its own process because Twisted's reactor cannot be restarted inside a
long-lived service, and a crawl that crashes must not take the API down with it. Events go to
the original standard output; everything else the libraries print goes to standard error.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from pydantic import BaseModel, Field
from scrapy.crawler import CrawlerProcess

from crawlers.events import EventWriter, Validators
from crawlers.settings import scrapy_settings
from crawlers.spiders.source import SourceSpider
from mediawatch.config import CrawlSettings
from mediawatch.model import Source


class CrawlJob(BaseModel):
    """What the parent asks of one crawl: web sources (social kinds are skipped) and memory."""

    sources: list[Source]
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    known_ids: list[str] = Field(default_factory=list)
    validators: dict[str, Validators] = Field(
        default_factory=dict, description="Per source id: sent back as a conditional GET"
    )
    log_file: Path | None = None


def main() -> None:
    job = CrawlJob.model_validate_json(sys.stdin.read())
    events_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    process = CrawlerProcess(scrapy_settings(job.crawl, job.log_file), install_root_handler=True)
    process.crawl(
        SourceSpider,
        sources=job.sources,
        events=EventWriter(events_stream),
        known_ids=frozenset(job.known_ids),
        max_entries=job.crawl.max_entries_per_feed,
        max_bytes=job.crawl.max_page_bytes,
        validators=job.validators,
    )
    # Scrapy's handler drops records below LOG_LEVEL, but the root logger stays at NOTSET and
    # Scrapy's own at DEBUG: trafilatura and Scrapy built ~5 records per page only to drop them.
    for logger in (logging.root, logging.getLogger("scrapy")):
        logger.setLevel(process.settings.get("LOG_LEVEL"))
    process.start()
    events_stream.close()


if __name__ == "__main__":
    main()
