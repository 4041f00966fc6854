"""A durable spool: accepted items wait on disk while the store is away, then are written.

The spool is an append-only JSON-lines file, fsynced on every append, so a crash loses
nothing already accepted. Draining writes the spooled items in order and then removes them;
because the store's upsert is idempotent by id, a drain interrupted half-way and repeated
still leaves every item there exactly once.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import structlog

from index.query import (
    DayCount,
    QueueQuery,
    QueueStats,
    SearchPage,
    SearchQuery,
    StorySummary,
    TrendBucket,
    TrendQuery,
)
from index.store import Store, StoreError, StoreUnavailable, UpsertResult
from mediawatch.config import ReviewSettings
from mediawatch.model import Document, ReviewCommand

log = structlog.get_logger("index.spool")
DRAIN_BATCH = 500


class Spool:
    """The spool file, shared safely by threads and by processes (a worker and a one-off
    ``mediawatch crawl``): every operation holds an exclusive lock on a lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.draining = path.with_suffix(path.suffix + ".draining")
        self.dead_letters = path.with_suffix(path.suffix + ".rejected")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_path = path.with_suffix(path.suffix + ".lock")
        self._thread_lock = threading.Lock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock, self._lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, documents: list[Document]) -> None:
        lines = "".join(d.model_dump_json() + "\n" for d in documents)
        with self._locked():
            created = not self.path.exists()
            with self.path.open("a+b") as handle:
                if handle.tell():  # a line torn by a crash must stay alone, to be set aside
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        handle.write(b"\n")
                handle.write(lines.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            if created:  # the new name itself must survive a crash
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)

    def pending(self) -> int:
        with self._locked():
            return sum(
                sum(1 for line in path.open(encoding="utf-8") if line.strip())
                for path in (self.draining, self.path)
                if path.exists()
            )

    def _read(self, path: Path) -> list[Document]:
        """Documents of a spool file; a torn or unreadable line goes to the rejected file."""
        documents = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                documents.append(Document.model_validate_json(line))
            except ValueError as error:
                log.error(
                    "unreadable spool line set aside",
                    file=str(path),
                    line=number,
                    error=str(error)[:200],
                )
                with self.dead_letters.open("a", encoding="utf-8") as rejected:
                    rejected.write(line + "\n")
        return documents

    def drain(self, store: Store) -> int:
        """Write everything spooled to ``store``, oldest first.

        The file is renamed before it is read, so appends during a drain start a new file;
        StoreUnavailable leaves what is not written yet in place for the next drain. Items
        the store refuses for good are set aside in the rejected file, never dropped.
        """
        written = 0
        with self._locked():
            while True:
                if not self.draining.exists():
                    if not self.path.exists():
                        return written
                    self.path.rename(self.draining)
                written += self._write_out(self._read(self.draining), store)
                self.draining.unlink()

    def _write_out(self, documents: list[Document], store: Store) -> int:
        for start in range(0, len(documents), DRAIN_BATCH):
            batch = documents[start : start + DRAIN_BATCH]
            try:
                store.upsert(batch)
            except StoreUnavailable:
                raise
            except StoreError as error:
                log.error(
                    "store refused spooled items; set aside",
                    items=len(batch),
                    error=str(error)[:300],
                )
                with self.dead_letters.open("a", encoding="utf-8") as rejected:
                    rejected.writelines(d.model_dump_json() + "\n" for d in batch)
        return len(documents)


class SpoolingStore(Store):
    """A store whose writes never fail for lack of the backend: they wait in the spool."""

    def __init__(self, backend: Store, spool: Spool) -> None:
        self.backend = backend
        self.spool = spool

    def flush(self) -> int:
        """Write what waits in the spool, oldest first; 0 when the backend is still away."""
        try:
            written = self.spool.drain(self.backend)
        except StoreUnavailable:
            return 0
        if written:
            log.info("spool flushed", items=written)
        return written

    def upsert(self, documents: Iterable[Document]) -> UpsertResult:
        batch = list(documents)
        if self.spool.pending():
            self.flush()
        if self.spool.pending():  # still away: keep order, spool behind the others
            self.spool.append(batch)
            return UpsertResult.of(dict.fromkeys((d.id for d in batch), "spooled"))
        try:
            return self.backend.upsert(batch)
        except StoreUnavailable as error:
            self.spool.append(batch)
            log.warning("store unavailable; items spooled", items=len(batch), error=str(error))
            return UpsertResult.of(dict.fromkeys((d.id for d in batch), "spooled"))

    def get(self, item_id: str) -> Document | None:
        return self.backend.get(item_id)

    def find_by_content_hash(self, content_hash: str) -> str | None:
        return self.backend.find_by_content_hash(content_hash)

    def known_ids(self, source_ids: Iterable[str], since: datetime) -> set[str]:
        return self.backend.known_ids(source_ids, since)

    def search(self, query: SearchQuery) -> SearchPage:
        return self.backend.search(query)

    def trend_counts(self, query: TrendQuery, timezone: str) -> list[TrendBucket]:
        return self.backend.trend_counts(query, timezone)

    def top_stories(self, query: TrendQuery, limit: int = 10) -> list[StorySummary]:
        return self.backend.top_stories(query, limit)

    def source_day_counts(self, since: datetime, until: datetime, timezone: str) -> list[DayCount]:
        return self.backend.source_day_counts(since, until, timezone)

    def review_queue(self, query: QueueQuery, now: datetime, rules: ReviewSettings) -> SearchPage:
        return self.backend.review_queue(query, now, rules)

    def queue_stats(self, threshold: float, now: datetime, rules: ReviewSettings) -> QueueStats:
        return self.backend.queue_stats(threshold, now, rules)

    def apply_review(
        self,
        item_id: str,
        command: ReviewCommand,
        actor: str,
        rules: ReviewSettings,
        override: bool = False,
        now: datetime | None = None,
    ) -> Document:
        return self.backend.apply_review(item_id, command, actor, rules, override, now)

    def review_log(self, item_id: str) -> list[dict]:
        return self.backend.review_log(item_id)

    def review_log_since(self, since: datetime) -> Iterator[dict]:
        return self.backend.review_log_since(since)

    def export_documents(self) -> Iterator[Document]:
        return self.backend.export_documents()

    def import_documents(self, documents: Iterable[Document]) -> UpsertResult:
        return self.backend.import_documents(documents)

    def export_review_log(self) -> Iterator[dict]:
        return self.backend.export_review_log()

    def import_review_log(self, entries: Iterable[dict]) -> int:
        return self.backend.import_review_log(entries)
