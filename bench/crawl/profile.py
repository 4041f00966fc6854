"""Where our pipeline spends its time: cProfile of this process's crawl and of the crawl child.

The child (``python -m crawlers.run``) is started by the product code, which we leave alone; so
it is profiled by running the same crawl job under ``python -m cProfile`` by itself. Profiles
are written as ``.prof`` files (open them with snakeviz or pstats) and summarised by package.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from crawlers.run import CrawlJob
from mediawatch.config import CrawlSettings, Settings
from mediawatch.model import Source
from mediawatch.service import build_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
_SITE_PACKAGE = re.compile(r"(?:site|dist)-packages/([A-Za-z0-9_]+)")
_OBJECT_MODULE = re.compile(r"of '([A-Za-z0-9_]+)")


def profile_parent(
    sources: list[Source], crawl: CrawlSettings, data_dir: Path, out_dir: Path
) -> Path:
    """Our pipeline's crawl into a fresh store, under cProfile (the child runs unprofiled)."""
    pipeline = build_pipeline(Settings(data_dir=data_dir, crawl=crawl))
    profiler = cProfile.Profile()
    profiler.runcall(pipeline.crawl, sources)
    path = out_dir / "parent.prof"
    profiler.dump_stats(path)
    return path


def profile_child(sources: list[Source], crawl: CrawlSettings, out_dir: Path) -> Path:
    """The same crawl job the pipeline would hand its child, run alone under cProfile."""
    path = out_dir / "child.prof"
    job = CrawlJob(sources=sources, crawl=crawl, log_file=out_dir / "child.log")
    subprocess.run(
        [
            sys.executable,
            "-c",  # not `-m cProfile -m`: pydantic must see crawlers.run as an imported module
            "import cProfile, sys, crawlers.run; cProfile.run('crawlers.run.main()', sys.argv[1])",
            str(path),
        ],
        input=job.model_dump_json(),
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    return path


def owner(filename: str, function: str) -> str:
    """The package a profiled function belongs to: a library, one of ours, or the stdlib."""
    if filename == "~":  # a builtin: C methods name their type's module
        found = _OBJECT_MODULE.search(function)
        return found.group(1) if found else "builtins"
    found = _SITE_PACKAGE.search(filename)
    if found:
        return found.group(1)
    try:
        return Path(filename).resolve().relative_to(REPO_ROOT).parts[0]
    except ValueError:
        return "stdlib"


def by_package(path: Path) -> tuple[float, list[tuple[str, float]]]:
    """(total seconds, own time per package, largest first)."""
    stats = pstats.Stats(str(path))
    totals: Counter[str] = Counter()
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        totals[owner(filename, function)] += row[2]
    return stats.total_tt, totals.most_common()  # type: ignore[attr-defined]


def top_functions(path: Path, count: int) -> list[tuple[str, float, float]]:
    """(function, own seconds, cumulative seconds) of the costliest functions by own time."""
    stats = pstats.Stats(str(path))
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    return [
        (f"{owner(filename, function)}:{Path(filename).name}:{line}({function})", row[2], row[3])
        for (filename, line, function), row in rows[:count]
    ]
