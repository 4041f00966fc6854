"""Move a whole store to another backend: items with their review state, then the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from index.store import Store
from mediawatch.model import Document

BATCH = 500


def _batches(documents: Iterator[Document]) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for document in documents:
        batch.append(document)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def rebuild(source: Store, target: Store, progress: Callable[[int], None] = lambda n: None) -> int:
    """Copy every item and review-log entry; re-running it changes nothing but the log."""
    copied = 0
    for batch in _batches(source.export_documents()):
        target.import_documents(batch)
        copied += len(batch)
        progress(len(batch))
    target.import_review_log(source.export_review_log())
    return copied
