"""A durable spool: accepted items wait on disk while the store is away, then are written.

The spool is an append-only JSON-lines file, fsynced on every append, so a crash loses
nothing already accepted. Draining writes the spooled items in order and then removes them;
because the store's upsert is idempotent by id, a drain interrupted half-way and repeated
still leaves every item there exactly once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import structlog

from index.query import SearchPage, SearchQuery, Trends
from index.store import Store, StoreUnavailable, UpsertResult
from mediawatch.model import Document, ReviewDecision

log = structlog.get_logger("index.spool")
DRAIN_BATCH = 500


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, documents: list[Document]) -> None:
        lines = "".join(d.model_dump_json() + "\n" for d in documents)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> int:
        with self._lock:
            if not self.path.exists():
                return 0
            with self.path.open(encoding="utf-8") as handle:
                return sum(1 for line in handle if line.strip())

    def drain(self, store: Store) -> int:
        """Write everything spooled to ``store``; StoreUnavailable leaves the spool whole."""
        with self._lock:
            if not self.path.exists():
                return 0
            with self.path.open(encoding="utf-8") as handle:
                documents = [Document.model_validate_json(line) for line in handle if line.strip()]
            for start in range(0, len(documents), DRAIN_BATCH):
                store.upsert(documents[start : start + DRAIN_BATCH])
            self.path.unlink()
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
            return UpsertResult(spooled=len(batch))
        try:
            return self.backend.upsert(batch)
        except StoreUnavailable as error:
            self.spool.append(batch)
            log.warning("store unavailable; items spooled", items=len(batch), error=str(error))
            return UpsertResult(spooled=len(batch))

    def get(self, item_id: str) -> Document | None:
        return self.backend.get(item_id)

    def find_by_content_hash(self, content_hash: str) -> str | None:
        return self.backend.find_by_content_hash(content_hash)

    def known_ids(self, source_ids: Iterable[str], since: datetime) -> set[str]:
        return self.backend.known_ids(source_ids, since)

    def search(self, query: SearchQuery) -> SearchPage:
        return self.backend.search(query)

    def trends(self, since: datetime, until: datetime, timezone: str) -> Trends:
        return self.backend.trends(since, until, timezone)

    def review_queue(self, threshold: float, limit: int = 20, offset: int = 0) -> SearchPage:
        return self.backend.review_queue(threshold, limit, offset)

    def record_review(self, item_id: str, decision: ReviewDecision, reviewer: str) -> Document:
        return self.backend.record_review(item_id, decision, reviewer)

    def review_log(self, item_id: str) -> list[dict]:
        return self.backend.review_log(item_id)

    def export_documents(self) -> Iterator[Document]:
        return self.backend.export_documents()

    def import_documents(self, documents: Iterable[Document]) -> UpsertResult:
        return self.backend.import_documents(documents)

    def export_review_log(self) -> Iterator[dict]:
        return self.backend.export_review_log()

    def import_review_log(self, entries: Iterable[dict]) -> int:
        return self.backend.import_review_log(entries)
