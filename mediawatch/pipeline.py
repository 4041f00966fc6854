"""One item travels one way: crawl → normalise → locate → dedupe → classify → story → store.

"Locate" finds the province's places an item names and drops national items that name none;
"story" links near-copies across sources.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from classifier.service import Classifier, ItemToClassify
from crawlers.events import CrawlEvent, FailureEvent, ItemEvent, SourceDoneEvent
from crawlers.process import CrawlProcessError, crawl
from crawlers.social import collect
from crawlers.state import CrawlState
from index.claims import ClaimRegister
from index.store import Store, StoreUnavailable, WriteOutcome
from mediawatch.claim_match import RegisterMatcher
from mediawatch.config import Settings
from mediawatch.gazetteer import Gazetteer, packaged_gazetteer
from mediawatch.model import Document, Source, utc_now
from mediawatch.normalise import normalise_document
from mediawatch.relevance import is_relevant
from mediawatch.stories import Proposal, StoryIndex

log = structlog.get_logger("mediawatch.pipeline")

BATCH_SIZE = 50
# A slow crawl still stores what it has this often, so a killed crawl loses little.
BATCH_MAX_WAIT_S = 2.0
# Pages stored this recently are not fetched again when their feed still lists them.
KNOWN_WINDOW = timedelta(days=30)
SOCIAL_OVERLAP = timedelta(hours=1)


@dataclass
class CrawlReport:
    """What one crawl did, per source; what the scheduler logs and health will count."""

    crashed: bool = False
    stored: int = 0
    spooled: int = 0
    updated: int = 0
    unchanged: int = 0
    versioned: int = 0
    duplicates: int = 0
    not_about_province: int = 0
    outcomes: dict[str, WriteOutcome] = field(
        default_factory=dict, metadata={"key": "item id: inserted, updated, versioned…"}
    )
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
        stories: StoryIndex | None = None,
        gazetteer: Gazetteer | None = None,
        claims: ClaimRegister | None = None,
    ) -> None:
        self.store = store
        self.classifier = classifier
        self.settings = settings
        self.state = state or CrawlState(settings.crawl_state_path, settings.timezone)
        self.stories = stories or StoryIndex(settings.stories_path)
        self.gazetteer = gazetteer or packaged_gazetteer()
        self.claims = RegisterMatcher(
            claims or ClaimRegister(settings.claims_path), settings.claims
        )
        self._settle_stories()

    def _is_stored(self, item_id: str) -> bool:
        return self.store.get(item_id) is not None

    def _settle_stories(self, item_ids: Iterable[str] | None = None) -> None:
        """Story memberships left pending (a crash, a refused batch) follow the store: kept
        for items it has, dropped for the others; with the store away, they wait.

        At start this settles every pending row, also those of a batch another worker has in
        flight (proposed, not yet stored), which are dropped. That is safe without a grace
        period: the other worker records its batch from its own proposal once stored, not
        from the pending table, so its items still count. Only if that worker is then killed
        between its store write and its record does the batch miss its story counts (the
        items keep their ``story_id``); a grace period would instead leave a crashed batch
        uncounted until the start after next."""
        try:
            self.stories.settle(self._is_stored, item_ids)
        except StoreUnavailable:
            log.warning("store unavailable; pending story memberships wait")

    def locate(
        self, documents: list[Document], sources: Mapping[str, Source], report: CrawlReport
    ) -> list[Document]:
        """Record the places each item names; drop national items that name none, and
        remember them so the next crawl does not fetch them again. Items that did not come
        from a registry source (ingest, import) were sent on purpose and are kept."""
        kept: list[Document] = []
        passed_over: list[tuple[str, str, str]] = []
        for document in documents:
            source = sources.get(document.source_id)
            if source is None:
                places = self.gazetteer.place_ids(f"{document.title}\n\n{document.text}")
                kept.append(document.model_copy(update={"places": places}))
                continue
            decision = is_relevant(document, source, self.gazetteer)
            if decision.keep:
                kept.append(document.model_copy(update={"places": decision.places}))
                continue
            report.not_about_province += 1
            if document.extractor != "feed-summary":  # judged on the whole text only
                passed_over.append((document.id, document.source_id, "not_about_province"))
        if passed_over:
            self.state.pass_over(passed_over, utc_now())
        return kept

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

    def classify(self, proposal: Proposal) -> list[Document]:
        """Match items against the claims register and classify them, in their stories (the
        proposal's own items counted): the closest claim and the story's growth are risk
        signals."""
        self.claims.refresh()
        documents = [
            d.model_copy(update={"claim_matches": self.claims.matches(d)})
            for d in proposal.documents
        ]
        stories = self.stories.stats_for(
            (d.story_id for d in documents if d.story_id), proposal=proposal
        )
        results = self.classifier.classify_batch(
            [
                ItemToClassify(
                    d.title,
                    d.text,
                    d.source_tier,
                    story=stories.get(d.story_id) if d.story_id else None,
                    claim=self.claims.best(d.claim_matches),
                )
                for d in documents
            ]
        )
        return [
            d.model_copy(update={"classification": c})
            for d, c in zip(documents, results, strict=True)
        ]

    def ingest(
        self,
        documents: Iterable[Document],
        report: CrawlReport | None = None,
        sources: Mapping[str, Source] | None = None,
    ) -> CrawlReport:
        """Process and store documents in batches; safe to call with the same items again.
        ``sources`` are the registry entries the documents came from (relevance needs their
        scope)."""
        report = report or CrawlReport()
        sources = sources or {}
        batch: list[Document] = []
        batch_started = 0.0
        try:
            for document in documents:
                if not batch:
                    batch_started = time.monotonic()
                if document.date_rejected is not None:
                    log.warning(
                        "publication date not believed; recorded as unknown",
                        source=document.source_id,
                        url=document.url,
                        written=document.date_rejected.written,
                        problem=document.date_rejected.problem.value,
                    )
                batch.append(normalise_document(document))
                if len(batch) >= BATCH_SIZE or time.monotonic() - batch_started >= BATCH_MAX_WAIT_S:
                    self._store_batch(batch, report, sources)
                    batch = []
        finally:
            if batch:  # even when the source of documents failed: keep what arrived
                self._store_batch(batch, report, sources)
        return report

    def _store_batch(
        self, batch: list[Document], report: CrawlReport, sources: Mapping[str, Source]
    ) -> None:
        kept = self.locate(batch, sources, report)
        if not kept:
            return
        proposal = self.stories.propose(self.dedupe(kept))
        try:
            documents = self.classify(proposal)
            result = self.store.upsert(documents)
        except Exception:
            self._settle_stories(d.id for d in proposal.documents)
            raise
        # Members only now that the store has the items: killed before this line, the
        # batch's memberships stay pending and the next start settles them.
        self.stories.record(proposal)
        self.claims.record(documents)
        report.stored += result.inserted
        report.updated += result.updated
        report.unchanged += result.unchanged
        report.spooled += result.spooled
        report.versioned += result.versioned
        report.outcomes |= result.outcomes
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
        since = utc_now() - KNOWN_WINDOW
        ids = [s.id for s in enabled]
        try:
            known = self.store.known_ids(ids, since)
        except StoreUnavailable:
            known = set()  # fetch everything again; writing it twice changes nothing
        known |= self.state.passed_over(ids, since)
        log_file = Path(self.settings.data_dir) / "logs" / "crawl.log"
        started = utc_now()
        validators = self.state.validators(ids)
        web = [s for s in enabled if not s.kind.is_social]
        social = [s for s in enabled if s.kind.is_social]

        def events() -> Iterator[CrawlEvent]:
            # Social first: read in this process, it cannot be lost to a crawl process crash.
            if social:
                yield from collect(social, self.settings, self._social_since(social), known)
            if web:
                yield from crawl(web, self.settings.crawl, log_file, known, validators)

        def documents() -> Iterable[Document]:
            for event in events():
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
            self.ingest(documents(), report, {s.id: s for s in enabled})
        except CrawlProcessError as error:
            report.crashed = True
            log.error(
                "crawl process failed; items received before it are stored",
                stored=report.stored,
                error=str(error)[:500],
            )
        except Exception:
            report.crashed = True  # recorded below, then the scheduler logs it
            raise
        finally:
            # Whatever happened, the sources are remembered as read or failed: a crawl that
            # broke must not leave them due again at the next tick, every minute.
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
            versioned=report.versioned,
            duplicates=report.duplicates,
            not_about_province=report.not_about_province,
        )
        return report

    def _social_since(self, sources: list[Source]) -> dict[str, datetime | None]:
        """Read posts back to the last good read, with an hour's overlap for late arrivals."""
        states = self.state.states()
        since: dict[str, datetime | None] = {}
        for source in sources:
            last = states[source.id].last_success_at if source.id in states else None
            since[source.id] = last - SOCIAL_OVERLAP if last else None
        return since
