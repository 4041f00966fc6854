"""One benchmark run: the site by itself, plain Scrapy, then our whole pipeline, same site.

Ours goes through the public path (``build_pipeline(settings).crawl(sources)``) into a fresh
SQLite store, and the store is checked afterwards: every page stored once, exact copies marked
duplicates of one original, no page fallen back to its feed summary.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from bench.crawl import server
from bench.crawl.plain import PlainJob
from bench.crawl.site import BenchSite
from index.query import SearchQuery
from index.store import Store
from mediawatch.config import CrawlSettings, Settings
from mediawatch.identity import web_item_id
from mediawatch.model import Source, SourceKind, SourceTier
from mediawatch.pipeline import CrawlReport, Pipeline
from mediawatch.service import build_pipeline

Via = Literal["feeds", "sitemaps"]
REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class BenchFailure(RuntimeError):
    """Our pipeline did not store what the site published; the message says what is wrong."""


@dataclass(frozen=True)
class Timing:
    pages: int
    seconds: float
    cpu_child_s: float  # the crawl process
    cpu_parent_s: float  # this process: our pipeline's stages after the crawl

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds


@dataclass(frozen=True)
class StoreCheck:
    stored: int
    originals: int
    duplicates: int


@dataclass(frozen=True)
class BenchResult:
    pages: int
    via: Via
    crawl: CrawlSettings
    site: Timing
    plain: Timing
    plain_unthrottled: Timing
    ours: Timing
    store: StoreCheck

    @property
    def ratio(self) -> float:
        return self.ours.pages_per_s / self.plain.pages_per_s


def bench_crawl_settings(concurrency: int, pages: int = 1000) -> CrawlSettings:
    """Production limits except the delay (0, so that speed is the software's, not
    politeness) and the entries read per source (all of them: one sitemap source holds
    every page)."""
    return CrawlSettings(
        download_delay_s=0,
        per_domain_concurrency=concurrency,
        max_entries_per_feed=max(1000, pages),
        obey_robots_txt=True,
        allowed_internal_hosts=["127.0.0.1"],  # the bench site is on loopback
    )


def sources(site: BenchSite, via: Via) -> list[Source]:
    if via == "feeds":
        return [
            Source(
                id=f"bench-feed-{n:03d}",
                name=f"Báo Lâm Đồng, luồng {n}",
                kind=SourceKind.FEED,
                url=site.url(path),
                tier=SourceTier.PRESS,
            )
            for n, path in enumerate(site.feed_paths)
        ]
    return [
        Source(
            id="bench-sitemap",
            name="Báo Lâm Đồng, sơ đồ trang",
            kind=SourceKind.SITEMAP,
            url=site.url(site.sitemap_index_path),
            tier=SourceTier.PRESS,
        )
    ]


def timed(function: Callable[[], T]) -> tuple[T, float, float, float]:
    """(result, wall seconds, CPU seconds of finished child processes, CPU seconds of ours)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_after = resource.getrusage(resource.RUSAGE_SELF)

    def cpu(before: resource.struct_rusage, after: resource.struct_rusage) -> float:
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    return result, seconds, cpu(children, children_after), cpu(own, own_after)


def run_plain(
    site: BenchSite, via: Via, crawl: CrawlSettings, work_dir: Path, autothrottle: bool = True
) -> Timing:
    start_urls = [s.url for s in sources(site, via)]
    job = PlainJob(
        via=via,
        start_urls=[str(u) for u in start_urls],
        crawl=crawl,
        autothrottle=autothrottle,
        log_file=work_dir / f"plain-{'throttled' if autothrottle else 'unthrottled'}.log",
    )

    def crawl_once() -> int:
        finished = subprocess.run(
            [sys.executable, "-m", "bench.crawl.plain"],
            input=job.model_dump_json(),
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
        )
        if finished.returncode != 0:
            raise BenchFailure(f"plain Scrapy failed:\n{finished.stderr[-2000:]}")
        return json.loads(finished.stdout.splitlines()[-1])["pages"]

    pages, seconds, child_cpu, own_cpu = timed(crawl_once)
    if pages != len(site.articles):
        raise BenchFailure(f"plain Scrapy fetched {pages} of {len(site.articles)} pages")
    return Timing(pages, seconds, child_cpu, own_cpu)


def run_ours(
    site: BenchSite, via: Via, crawl: CrawlSettings, work_dir: Path
) -> tuple[Timing, Pipeline]:
    pipeline = build_pipeline(Settings(data_dir=work_dir / "ours", crawl=crawl))
    report, seconds, child_cpu, own_cpu = timed(lambda: pipeline.crawl(sources(site, via)))
    check_report(report, via)
    return Timing(report.stored, seconds, child_cpu, own_cpu), pipeline


def check_report(report: CrawlReport, via: Via) -> None:
    if report.crashed or report.failures:
        problems = ", ".join(
            f"{source} {stage}: {cause} ×{count}"
            for (source, stage, cause), count in report.failures.most_common(5)
        )
        raise BenchFailure(
            f"our pipeline could not crawl the site via {via}"
            + (" (the crawl process crashed)" if report.crashed else "")
            + (f": {problems}" if problems else "")
            + f". Stored {report.stored} pages."
        )


def check_store(site: BenchSite, store: Store) -> StoreCheck:
    """Every page stored once; each group of exact copies has one original, the rest point at it."""
    stored = store.search(SearchQuery(limit=1)).total
    originals = store.search(SearchQuery(limit=1, include_duplicates=False)).total
    expected = len(site.articles) - len(site.exact_copies)
    if (stored, originals) != (len(site.articles), expected):
        raise BenchFailure(
            f"the store holds {stored} items ({originals} not duplicates); the site has "
            f"{len(site.articles)} pages, {len(site.exact_copies)} of them exact copies"
        )
    groups: dict[str, list[str]] = {}
    for article in site.exact_copies:
        assert article.copy_of is not None
        groups.setdefault(article.copy_of, [article.copy_of]).append(article.path)
    for paths in groups.values():
        documents = [store.get(web_item_id(site.url(p))) for p in paths]
        firsts = {d.id for d in documents if d is not None and d.duplicate_of is None}
        pointers = {d.duplicate_of for d in documents if d is not None and d.duplicate_of}
        if len(firsts) != 1 or not pointers <= firsts:
            raise BenchFailure(f"exact copies {paths} are not marked duplicates of one of them")
    return StoreCheck(stored, originals, stored - originals)


def run(pages: int, seed: int, via: Via, concurrency: int, work_dir: Path) -> BenchResult:
    crawl = bench_crawl_settings(concurrency, pages)
    with server.SiteServer(pages, seed) as site_server:
        site = BenchSite(pages, seed, site_server.base_url)
        paths = [a.path for a in site.articles]
        _, seconds, child_cpu, own_cpu = timed(
            lambda: server.measure(site.base_url, paths, concurrency)
        )
        site_timing = Timing(pages, seconds, child_cpu, own_cpu)
        plain = run_plain(site, via, crawl, work_dir)
        plain_unthrottled = run_plain(site, via, crawl, work_dir, autothrottle=False)
        ours, pipeline = run_ours(site, via, crawl, work_dir)
        store = check_store(site, pipeline.store)
    return BenchResult(pages, via, crawl, site_timing, plain, plain_unthrottled, ours, store)
