"""One item travels one way: crawl → normalise → dedupe → classify → store."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import structlog

from classifier.service import Classifier
from crawlers.events import FailureEvent, ItemEvent, SourceDoneEvent
from crawlers.process import CrawlProcessError, crawl
from crawlers.state import CrawlState
from index.store import Store, StoreUnavailable
from mediawatch.config import Settings
from mediawatch.model import Document, Source, utc_now
from mediawatch.normalise import normalise_document

log = structlog.get_logger("mediawatch.pipeline")

BATCH_SIZE = 50
# A slow crawl still stores what it has this often, so a killed crawl loses little.
BATCH_MAX_WAIT_S = 2.0
# Pages stored this recently are not fetched again when their feed still lists them.
KNOWN_WINDOW = timedelta(days=30)


@dataclass
class CrawlReport:
    """What one crawl did, per source; what the scheduler logs and health will count."""

    crashed: bool = False
    stored: int = 0
    spooled: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    entries: Counter[str] = field(default_factory=Counter)
    failures: Counter[tuple[str, str, str]] = field(
        default_factory=Counter, metadata={"key": "(source id, stage, cause)"}
    )
    done: dict[str, SourceDoneEvent] = field(default_factory=dict)
    failure_events: list[FailureEvent] = field(default_factory=list)

    @property
    def failed_sources(self) -> set[str]:
        return {source for (source, stage, _cause) in self.failures if stage == "feed"}

    def failure_count(self, source_id: str, stage: str) -> int:
        return sum(n for (s, st, _c), n in self.failures.items() if (s, st) == (source_id, stage))


class Pipeline:
    def __init__(
        self,
        store: Store,
        classifier: Classifier,
        settings: Settings,
        state: CrawlState | None = None,
    ) -> None:
        self.store = store
        self.classifier = classifier
        self.settings = settings
        self.state = state or CrawlState(settings.crawl_state_path, settings.timezone)

    def dedupe(self, documents: list[Document]) -> list[Document]:
        """Mark texts already stored (or earlier in the batch) under another URL."""
        first_by_hash: dict[str, str] = {}
        marked = []
        for document in documents:
            assert document.content_hash is not None
            first = first_by_hash.get(document.content_hash) or self._stored_with_hash(
                document.content_hash
            )
            if first is None:
                first_by_hash[document.content_hash] = document.id
            elif first != document.id:
                document = document.model_copy(update={"duplicate_of": first})
            marked.append(document)
        return marked

    def _stored_with_hash(self, content_hash: str) -> str | None:
        """The store's answer, or none while it is away (the item still gets spooled)."""
        try:
            return self.store.find_by_content_hash(content_hash)
        except StoreUnavailable:
            return None

    def classify(self, documents: list[Document]) -> list[Document]:
        results = self.classifier.classify_batch(
            [(d.title, d.text, d.source_tier) for d in documents]
        )
        return [
            d.model_copy(update={"classification": c})
            for d, c in zip(documents, results, strict=True)
        ]

    def ingest(
        self, documents: Iterable[Document], report: CrawlReport | None = None
    ) -> CrawlReport:
        """Process and store documents in batches; safe to call with the same items again."""
        report = report or CrawlReport()
        batch: list[Document] = []
        batch_started = 0.0
        try:
            for document in documents:
                if not batch:
                    batch_started = time.monotonic()
                batch.append(normalise_document(document))
                if len(batch) >= BATCH_SIZE or time.monotonic() - batch_started >= BATCH_MAX_WAIT_S:
                    self._store_batch(batch, report)
                    batch = []
        finally:
            if batch:  # even when the source of documents failed: keep what arrived
                self._store_batch(batch, report)
        return report

    def _store_batch(self, batch: list[Document], report: CrawlReport) -> None:
        documents = self.classify(self.dedupe(batch))
        result = self.store.upsert(documents)
        report.stored += result.inserted
        report.updated += result.updated
        report.unchanged += result.unchanged
        report.spooled += result.spooled
        report.duplicates += sum(d.duplicate_of is not None for d in documents)

    def crawl_due(self, sources: list[Source]) -> CrawlReport:
        """Crawl the sources whose next read has come (schedule and adaptive interval)."""
        return self.crawl(self.state.due(sources, utc_now()))

    def crawl(self, sources: list[Source]) -> CrawlReport:
        """Crawl the sources and store what they give; each failed source is one log line."""
        enabled = [source for source in sources if source.enabled]
        report = CrawlReport()
        if not enabled:
            return report
        try:
            known = self.store.known_ids([s.id for s in enabled], utc_now() - KNOWN_WINDOW)
        except StoreUnavailable:
            known = set()  # fetch everything again; writing it twice changes nothing
        log_file = Path(self.settings.data_dir) / "logs" / "crawl.log"
        started = utc_now()
        validators = self.state.validators(s.id for s in enabled)

        def documents() -> Iterable[Document]:
            for event in crawl(enabled, self.settings.crawl, log_file, known, validators):
                if isinstance(event, ItemEvent):
                    yield event.document
                elif isinstance(event, FailureEvent):
                    report.failures[(event.source_id, event.stage, event.reason)] += 1
                    report.failure_events.append(event)
                    log_method = log.error if event.stage == "feed" else log.warning
                    log_method(
                        "source failed" if event.stage == "feed" else "article not extracted",
                        source=event.source_id,
                        url=event.url,
                        reason=event.reason,
                        detail=event.detail[:200],
                    )
                elif isinstance(event, SourceDoneEvent):
                    report.entries[event.source_id] += event.entries
                    report.done[event.source_id] = event
                    if event.warning:
                        log.warning(
                            "feed parsed with problems",
                            source=event.source_id,
                            problem=event.warning[:200],
                        )

        try:
            self.ingest(documents(), report)
        except CrawlProcessError as error:
            report.crashed = True
            log.error(
                "crawl process failed; items received before it are stored",
                stored=report.stored,
                error=str(error)[:500],
            )
        self.state.record(
            enabled,
            started,
            report.done,
            report.failure_events,
            no_answer_cause="crawl_crashed" if report.crashed else "no_answer",
        )
        log.info(
            "crawl finished",
            sources=len(enabled),
            failed_sources=len(report.failed_sources),
            stored=report.stored,
            updated=report.updated,
            unchanged=report.unchanged,
            duplicates=report.duplicates,
        )
        return report
