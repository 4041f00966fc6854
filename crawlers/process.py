"""Run a crawl in a child process and read its events as they arrive."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from pydantic import ValidationError

from crawlers.events import CrawlEvent, Validators, crawl_event_adapter
from crawlers.run import CrawlJob
from mediawatch.config import CrawlSettings
from mediawatch.model import Source

STOP_GRACE_S = 15


class CrawlProcessError(RuntimeError):
    """The crawl process itself failed (not one source: those are failure events)."""


def _stop(process: subprocess.Popen) -> None:
    """Stop a child nobody reads any more: close the pipe so it cannot block on a write."""
    assert process.stdout is not None
    process.stdout.close()
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def crawl(
    sources: list[Source],
    settings: CrawlSettings,
    log_file: Path,
    known_ids: Iterable[str] = (),
    validators: Mapping[str, Validators] | None = None,
) -> Iterator[CrawlEvent]:
    """Yield the crawl's events; raises CrawlProcessError if the process dies."""
    job = CrawlJob(
        sources=sources,
        crawl=settings,
        known_ids=list(known_ids),
        validators=dict(validators or {}),
        log_file=log_file,
    )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as stderr_sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "crawlers.run"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_sink,
            text=True,
            encoding="utf-8",
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(job.model_dump_json())
        process.stdin.close()
        try:
            for line in process.stdout:
                try:
                    yield crawl_event_adapter.validate_json(line)
                except ValidationError as error:
                    raise CrawlProcessError(f"unreadable crawl event: {error}") from error
        except BaseException:
            _stop(process)
            raise
        returncode = process.wait()
    if returncode != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise CrawlProcessError(f"crawl process exited with {returncode}; log tail:\n{tail}")
