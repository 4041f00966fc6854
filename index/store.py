"""The storage contract every backend keeps (SQLite embedded, Elasticsearch in production)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from index.query import (
    Cursor,
    DayCount,
    QueueQuery,
    QueueStats,
    SearchPage,
    SearchQuery,
    StorySummary,
    TrendBucket,
    TrendDimension,
    TrendQuery,
    Trends,
    decode_cursor,
)
from mediawatch.config import ReviewSettings
from mediawatch.model import Document, ReviewCommand


class StoreError(RuntimeError):
    """The store could not do what was asked."""


class ItemNotFound(StoreError):
    pass


class CursorExpired(StoreError):
    """A deep-paging cursor whose snapshot the store no longer keeps: start the walk again."""


class InvalidCursor(StoreError):
    """A cursor whose sort values are not what this store issues for the sort: tampered with
    or forged. Refused as a bad request on every store, never passed to the backend."""


MAX_CURSOR_ID = 500
_LATEST_MS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000)
# What each sort value of a cursor may be: "iso_time" as SQLite issues event times, "ms_time"
# and "shard_doc" (the point in time's tiebreaker) as Elasticsearch does.
CursorField = Literal["risk", "iso_time", "ms_time", "id", "shard_doc"]


def cursor_position(token: str, fields: Sequence[CursorField], *, snapshot: bool = False) -> Cursor:
    """The decoded cursor once its ``after`` has exactly the shape this store issues for the
    sort (``fields``), each value of its type and range, and a snapshot where one is needed."""
    try:
        cursor = decode_cursor(token)
    except ValueError as error:
        raise InvalidCursor(str(error)) from error
    after = cursor.after
    problem = None
    if len(after) != len(fields):
        problem = f"{len(after)} sort values, {len(fields)} expected"
    elif snapshot and not cursor.snapshot:
        problem = "no snapshot"
    else:
        problem = next(
            (
                f"bad {name} {value!r}"
                for name, value in zip(fields, after, strict=True)
                if not _sort_value_ok(name, value)
            ),
            None,
        )
    if problem:
        raise InvalidCursor(f"cursor is not one this server issued ({problem})")
    return cursor


def _sort_value_ok(field: CursorField, value: object) -> bool:
    if isinstance(value, bool):
        return False
    if field == "risk":
        return isinstance(value, int | float) and 0 <= value <= 1  # NaN fails both
    if field == "id":
        return isinstance(value, str) and 0 < len(value) <= MAX_CURSOR_ID
    if field == "ms_time":
        return isinstance(value, int) and abs(value) <= _LATEST_MS
    if field == "shard_doc":
        return isinstance(value, int) and 0 <= value < 2**63
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


class StoreUnavailable(StoreError):
    """The store cannot be reached now; writes may wait in the spool and be retried."""


class ReviewRefused(StoreError):
    """The review workflow refused a command (index/workflow.py says why, in Vietnamese)."""


class ReviewConflict(ReviewRefused):
    """Someone else holds the item, or changed its review since the caller looked at it."""


class InvalidTransition(ReviewRefused):
    """The item's state does not allow the action (a decided item is locked)."""


class IncompleteCommand(ReviewRefused):
    """The command lacks what its action needs (an outcome, an agency, a reason…)."""


# What the review log keeps of every action, on both stores (evidence and response as JSON).
REVIEW_LOG_FIELDS = (
    "item_id",
    "at",
    "reviewer",
    "action",
    "state",
    "outcome",
    "note",
    "evidence",
    "reason",
    "agency",
    "response",
    "taken_from",
    "version",
)


def published_content(document: Document) -> dict[str, Any]:
    """What the source published, as JSON: the part a re-crawl may change. First-seen time
    and review state are ours, so two crawls of an unchanged page compare equal."""
    return document.model_dump(mode="json", exclude={"fetched_at", "review", "sent_by"})


WriteOutcome = Literal["inserted", "updated", "versioned", "unchanged", "spooled"]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    spooled: int = 0
    versioned: int = 0  # content that arrived for a judged item: recorded, not applied
    outcomes: dict[str, WriteOutcome] = field(default_factory=dict)  # item id → what happened

    @classmethod
    def of(cls, outcomes: dict[str, WriteOutcome]) -> UpsertResult:
        """The counts of what happened to each item."""
        counts = Counter(outcomes.values())
        return cls(
            inserted=counts["inserted"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            spooled=counts["spooled"],
            versioned=counts["versioned"],
            outcomes=outcomes,
        )

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.spooled + other.spooled,
            self.versioned + other.versioned,
            self.outcomes | other.outcomes,
        )


class Store(ABC):
    @abstractmethod
    def upsert(self, documents: Iterable[Document]) -> UpsertResult:
        """Write documents by id; writing the same document again changes nothing.

        Review fields of an existing item are kept: re-crawling never undoes a decision.
        """

    @abstractmethod
    def get(self, item_id: str) -> Document | None: ...

    @abstractmethod
    def find_by_content_hash(self, content_hash: str) -> str | None:
        """Id of the stored original of this text: an item not marked as a copy, else the
        first seen. Copies stored in the same second must not swap roles on a re-crawl."""

    @abstractmethod
    def known_ids(self, source_ids: Iterable[str], since: datetime) -> set[str]:
        """Ids stored from these sources since ``since`` with their full text.

        Items that only have their feed summary (the page failed) are not "known": the
        next crawl tries their page again.
        """

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchPage: ...

    def trends(self, since: datetime, until: datetime, timezone: str) -> Trends:
        """Counts per calendar day (in ``timezone``), by topic and by sentiment: the digest's
        and the old /api/trends' view, read through trend_counts."""
        query = TrendQuery(since=since, until=until, interval="day")

        def days(dimension: TrendDimension) -> list[DayCount]:
            buckets = self.trend_counts(query.scoped(dimension=dimension), timezone)
            return [DayCount(day=b.start.date(), key=b.key, count=b.count) for b in buckets]

        totals: dict[date, int] = {}
        for row in days("tier"):  # every item has exactly one tier
            totals[row.day] = totals.get(row.day, 0) + row.count
        return Trends(
            since=since,
            until=until,
            total_per_day=[DayCount(day=d, key="all", count=n) for d, n in sorted(totals.items())],
            by_topic=days("topic"),
            by_sentiment=days("sentiment"),
        )

    @abstractmethod
    def trend_counts(self, query: TrendQuery, timezone: str) -> list[TrendBucket]:
        """Items per bucket (a day or an hour starting in ``timezone``, by event time) and
        key of the query's dimension, ordered by start then key; empty buckets are left out.
        An item with two topics (or places) counts once under each."""

    @abstractmethod
    def top_stories(self, query: TrendQuery, limit: int = 10) -> list[StorySummary]:
        """The stories with most items in the query's window and filters: most items first,
        then story id."""

    @abstractmethod
    def source_day_counts(self, since: datetime, until: datetime, timezone: str) -> list[DayCount]:
        """Items first stored per source (``key``) and calendar day, by when we collected
        them: what source health compares with each source's own history."""

    @abstractmethod
    def review_queue(self, query: QueueQuery, now: datetime, rules: ReviewSettings) -> SearchPage:
        """Non-duplicate items in the query's states (open ones by default) that are risky
        (``query.threshold``) or repeat a registered claim: riskiest, widest reach, then the
        longest waiting. ``now`` and ``rules`` say what "overdue" means."""

    @abstractmethod
    def queue_stats(self, threshold: float, now: datetime, rules: ReviewSettings) -> QueueStats:
        """Queue items per state, overdue per state, and the oldest one still open."""

    @abstractmethod
    def apply_review(
        self,
        item_id: str,
        command: ReviewCommand,
        actor: str,
        rules: ReviewSettings,
        override: bool = False,
        now: datetime | None = None,
    ) -> Document:
        """One workflow step as an atomic compare-and-set, logged with everything it did:
        a committed step always gets its log entry, a refused or lost one never does.
        Raises ItemNotFound or a ReviewRefused (index/workflow.py). ``override`` lets an
        admin release someone else's claim."""

    @abstractmethod
    def review_log(self, item_id: str) -> list[dict]:
        """The item's review history, oldest first, as the append-only log holds it."""

    @abstractmethod
    def review_log_since(self, since: datetime) -> Iterator[dict]:
        """Every review-log entry of a step taken at or after ``since``, oldest first, each
        step's entry included as soon as the step is committed (what the reconciler of the
        audit log and the claims register walks)."""

    # -- moving a whole store to another backend (mediawatch index rebuild) ---------------

    @abstractmethod
    def export_documents(self) -> Iterator[Document]:
        """Every item with its review fields, in a stable order."""

    @abstractmethod
    def import_documents(self, documents: Iterable[Document]) -> UpsertResult:
        """Write items keeping their review fields as given (a migration, not a crawl)."""

    @abstractmethod
    def export_review_log(self) -> Iterator[dict]:
        """Every review-log entry, oldest first."""

    @abstractmethod
    def import_review_log(self, entries: Iterable[dict]) -> int:
        """Append entries to the review log; an entry already there (same item and
        version) is left as it is, so a repeated rebuild adds nothing."""


def log_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """A review-log entry as every store returns it: every field present, ``at`` as ISO
    text, ``evidence`` a list (entries written before a field existed read as empty)."""
    entry = {key: raw.get(key) for key in REVIEW_LOG_FIELDS}
    if isinstance(entry["at"], datetime):
        entry["at"] = entry["at"].astimezone(UTC).isoformat(timespec="seconds")
    entry["evidence"] = list(entry["evidence"] or [])
    return entry


def review_entry_id(item_id: str, version: int) -> str:
    """A review-log entry's stable id (one per item and review version, on both stores):
    the key of everything a step causes elsewhere (its audit entry, its claims effect)."""
    return f"{item_id}:{version}"


def reach(document: Document) -> float:
    """How far the item's story is spreading (the risk score's story_growth signal, 0–1):
    the queue's second key after risk."""
    signals = document.classification.signals if document.classification else {}
    return float(signals.get("story_growth", 0.0))
