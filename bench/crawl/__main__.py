"""``python -m bench.crawl [--pages 5000] [--via feeds|sitemaps] [--profile DIR]``

Prints pages per second for the site by itself, plain Scrapy (with our Scrapy settings, then
without AutoThrottle) and our whole pipeline, side by side, with ours/plain and the store check.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.crawl import measure, profile
from bench.crawl.site import BenchSite
from crawlers.settings import scrapy_settings

TARGET_RATIO = 0.5
_SHOWN_SETTINGS = [
    "DOWNLOAD_DELAY",
    "RANDOMIZE_DOWNLOAD_DELAY",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_START_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "ROBOTSTXT_OBEY",
    "RETRY_TIMES",
]


def print_result(console: Console, result: measure.BenchResult) -> None:
    settings = scrapy_settings(result.crawl, None)
    console.print(
        f"{result.pages:,} pages via {result.via}; {os.cpu_count()} CPUs; Scrapy settings "
        "(ours and plain alike): "
        + ", ".join(f"{name}={settings.get(name)}" for name in _SHOWN_SETTINGS)
    )
    table = Table(title="crawl benchmark: same loopback site, one run")
    for column in ("what", "pages", "seconds", "pages/s", "vs plain", "CPU s child+parent"):
        table.add_column(column, justify="left" if column == "what" else "right")

    def row(what: str, timing: measure.Timing, compare: bool = True) -> None:
        table.add_row(
            what,
            f"{timing.pages:,}",
            f"{timing.seconds:.1f}",
            f"{timing.pages_per_s:,.0f}",
            f"{timing.pages_per_s / result.plain.pages_per_s:.2f}" if compare else "",
            f"{timing.cpu_child_s:.1f} + {timing.cpu_parent_s:.1f}",
        )

    row("site alone (http.client)", result.site, compare=False)
    row("plain Scrapy, same settings", result.plain)
    row("plain Scrapy, AutoThrottle off", result.plain_unthrottled)
    row("mediawatch, crawl→store", result.ours)
    console.print(table)
    verdict = "meets" if result.ratio >= TARGET_RATIO else "MISSES"
    console.print(
        f"ours/plain = {result.ratio:.2f} ({verdict} the target ≥ {TARGET_RATIO}); store: "
        f"{result.store.stored:,} items = {result.store.originals:,} originals + "
        f"{result.store.duplicates:,} exact copies marked duplicates (checked against the site)"
    )


def print_profiles(console: Console, paths: list[Path]) -> None:
    for path in paths:
        total, packages = profile.by_package(path)
        table = Table(title=f"{path.name}: {total:.1f} s profiled, own time by package")
        table.add_column("package")
        table.add_column("seconds", justify="right")
        table.add_column("share", justify="right")
        for package, seconds in packages[:12]:
            table.add_row(package, f"{seconds:.1f}", f"{seconds / total:.0%}")
        console.print(table)
        functions = Table(title=f"{path.name}: costliest functions (own time)")
        for column in ("function", "own s", "cumulative s"):
            functions.add_column(column, justify="left" if column == "function" else "right")
        for name, own, cumulative in profile.top_functions(path, 15):
            functions.add_row(name, f"{own:.1f}", f"{cumulative:.1f}")
        console.print(functions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--via", choices=["feeds", "sitemaps"], default="feeds")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="per domain, 1–4 (CrawlSettings allows ≤ 4)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="also cProfile our crawl; .prof files go here"
    )
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="mediawatch-bench-") as directory:
        work_dir = Path(directory)
        try:
            result = measure.run(args.pages, args.seed, args.via, args.concurrency, work_dir)
        except measure.BenchFailure as error:
            console.print(f"[bold red]benchmark failed:[/] {error}")
            sys.exit(1)
        print_result(console, result)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            with measure.server.SiteServer(args.pages, args.seed) as site_server:
                site = BenchSite(args.pages, args.seed, site_server.base_url)
                sources = measure.sources(site, args.via)
                paths = [
                    profile.profile_parent(
                        sources, result.crawl, work_dir / "profiled", args.profile
                    ),
                    profile.profile_child(sources, result.crawl, args.profile),
                ]
            print_profiles(console, paths)


if __name__ == "__main__":
    main()
