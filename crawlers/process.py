"""Run a crawl in a child process and read its events as they arrive.

A thread drains the child's standard output into a large queue, so the crawl keeps fetching
while the caller classifies and stores a batch: a pipe holds only a few documents, and a child
blocked on a full pipe stops its whole reactor.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from crawlers.events import CrawlEvent, Validators, crawl_event_adapter
from crawlers.run import CrawlJob
from mediawatch.config import CrawlSettings
from mediawatch.model import Source

STOP_GRACE_S = 15
# Events read ahead of the caller: enough for several batches, bounded so that a caller
# slower than the crawl for a long time holds back the crawl instead of filling memory.
QUEUE_EVENTS = 1000
_PUT_POLL_S = 0.2


class CrawlProcessError(RuntimeError):
    """The crawl process itself failed (not one source: those are failure events)."""


class _Reader:
    """Reads the child's output lines on a thread; ``None`` in the queue marks the end."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: queue.Queue[bytes | OSError | None] = queue.Queue(maxsize=QUEUE_EVENTS)
        self._stream = stream
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crawl-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for line in self._stream:
                self._put(line)
        except OSError as error:
            self._put(error)
        finally:
            self._put(None)

    def _put(self, item: bytes | OSError | None) -> None:
        """Queue ``item`` unless the caller has gone; after stop(), lines are read and dropped
        so that a child shutting down never blocks on a full pipe."""
        while not self._stopped.is_set():
            try:
                self.lines.put(item, timeout=_PUT_POLL_S)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        self._stopped.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> None:
        self._thread.join()
        self._stream.close()


def _stop(process: subprocess.Popen, reader: _Reader) -> None:
    """Stop a child nobody reads any more and wait for it and its reader thread."""
    reader.stop()
    if not reader.running:  # nothing drains the pipe: close it so the child cannot block on it
        assert process.stdout is not None
        process.stdout.close()
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join()  # the child is gone, so its output has ended


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
    return read_events([sys.executable, "-m", "crawlers.run"], job.model_dump_json(), log_file)


def read_events(command: list[str], job: str, log_file: Path) -> Iterator[CrawlEvent]:
    """Run ``command`` with ``job`` on its standard input and yield the events it prints, one
    JSON object a line; its standard error is appended to ``log_file``.

    Raises CrawlProcessError when a line is not an event or the process exits non-zero.
    Closing the generator early stops the process and waits for it.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as stderr_sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_sink,
        )
        assert process.stdin is not None and process.stdout is not None
        reader = _Reader(process.stdout)
        try:
            try:
                process.stdin.write(job.encode())
                process.stdin.close()
            except BrokenPipeError as error:
                raise CrawlProcessError(
                    f"the crawl process ended before reading its job; see {log_file}"
                ) from error
            while (line := reader.lines.get()) is not None:
                if isinstance(line, OSError):
                    raise CrawlProcessError(f"unreadable crawl output: {line}") from line
                try:
                    yield crawl_event_adapter.validate_json(line)
                except ValidationError as error:
                    raise CrawlProcessError(f"unreadable crawl event: {error}") from error
        except BaseException:
            _stop(process, reader)
            raise
        reader.join()
        returncode = process.wait()
    if returncode != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise CrawlProcessError(f"crawl process exited with {returncode}; log tail:\n{tail}")
