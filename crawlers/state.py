"""What the crawler remembers between runs, per source, in one SQLite file of the worker.

The validators a source last sent (ETag, Last-Modified) make the next read a conditional GET;
the adaptive interval and the next due time survive restarts; failures are counted per day and
cause, so health can say not only that a source fails but how. Items themselves are counted
from the store, never here, so the two cannot disagree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from crawlers.events import FailureEvent, SourceDoneEvent, Validators
from crawlers.polling import PollOutcome, base_interval, next_interval
from mediawatch.model import Source
from mediawatch.schedule import parse_schedule
from mediawatch.sqlite_files import check

FAILURE_HISTORY = timedelta(days=90)

SCHEMA = """
CREATE TABLE IF NOT EXISTS source_state (
    source_id TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    interval_s REAL,
    last_poll_at TEXT,
    next_due_at TEXT,
    last_success_at TEXT,
    last_error_at TEXT,
    last_error_cause TEXT,
    last_error_detail TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS passed_over (
    item_id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passed_over_source ON passed_over(source_id, at);
CREATE TABLE IF NOT EXISTS source_failures (
    source_id TEXT NOT NULL,
    day TEXT NOT NULL,
    stage TEXT NOT NULL,
    cause TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (source_id, day, stage, cause)
);
"""


@dataclass(frozen=True, slots=True)
class SourceState:
    source_id: str
    interval: timedelta | None
    last_poll_at: datetime | None
    next_due_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_cause: str | None
    last_error_detail: str | None
    consecutive_failures: int


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class CrawlState:
    def __init__(self, path: Path, timezone: str = "Asia/Ho_Chi_Minh") -> None:
        self.path = path
        self.zone = ZoneInfo(timezone)
        path.parent.mkdir(parents=True, exist_ok=True)
        check(path)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.row_factory = sqlite3.Row
        try:
            with connection:  # one transaction, committed on success
                yield connection
        finally:
            connection.close()

    def validators(self, source_ids: Iterable[str]) -> dict[str, Validators]:
        """What to send as If-None-Match / If-Modified-Since, per source that gave any."""
        ids = list(source_ids)
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT source_id, etag, last_modified FROM source_state "
                f"WHERE source_id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
        return {
            row["source_id"]: Validators(etag=row["etag"], last_modified=row["last_modified"])
            for row in rows
            if row["etag"] or row["last_modified"]
        }

    def pass_over(self, items: Iterable[tuple[str, str, str]], at: datetime) -> None:
        """Remember (item id, source id, reason) of items read and deliberately not stored
        (a national item not about the province), so the next crawl does not fetch them."""
        with self._connect() as connection:
            connection.executemany(
                "INSERT INTO passed_over VALUES (?, ?, ?, ?) ON CONFLICT (item_id) "
                "DO UPDATE SET at = excluded.at",
                [(item_id, source_id, reason, _iso(at)) for item_id, source_id, reason in items],
            )

    def passed_over(self, source_ids: Iterable[str], since: datetime) -> set[str]:
        ids = list(source_ids)
        with self._connect() as connection:
            connection.execute("DELETE FROM passed_over WHERE at < ?", (_iso(since),))
            rows = connection.execute(
                f"SELECT item_id FROM passed_over WHERE at >= ? "
                f"AND source_id IN ({','.join('?' * len(ids))})",
                [_iso(since), *ids],
            ).fetchall()
        return {row["item_id"] for row in rows}

    def due(self, sources: Iterable[Source], now: datetime) -> list[Source]:
        """Enabled sources whose next read is due; one never read is due at once."""
        states = self.states()
        return [
            source
            for source in sources
            if source.enabled
            and (
                (state := states.get(source.id)) is None
                or state.next_due_at is None
                or state.next_due_at <= now
            )
        ]

    def states(self) -> dict[str, SourceState]:
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM source_state").fetchall()
        return {
            row["source_id"]: SourceState(
                source_id=row["source_id"],
                interval=timedelta(seconds=row["interval_s"]) if row["interval_s"] else None,
                last_poll_at=_time(row["last_poll_at"]),
                next_due_at=_time(row["next_due_at"]),
                last_success_at=_time(row["last_success_at"]),
                last_error_at=_time(row["last_error_at"]),
                last_error_cause=row["last_error_cause"],
                last_error_detail=row["last_error_detail"],
                consecutive_failures=row["consecutive_failures"],
            )
            for row in rows
        }

    def failure_counts(self, since: datetime) -> dict[str, dict[str, int]]:
        """Failures per source and cause ("stage:cause") since a day, oldest data dropped."""
        first_day = since.astimezone(self.zone).date().isoformat()
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT source_id, stage, cause, SUM(count) AS n FROM source_failures "
                "WHERE day >= ? GROUP BY source_id, stage, cause",
                (first_day,),
            ).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row["source_id"], {})[f"{row['stage']}:{row['cause']}"] = row["n"]
        return counts

    def record(
        self,
        sources: Iterable[Source],
        at: datetime,
        done: Mapping[str, SourceDoneEvent],
        failures: Iterable[FailureEvent],
        no_answer_cause: str = "no_answer",
    ) -> None:
        """Remember one crawl of these sources: validators, outcome, next due time, failures.

        A source that finished is a success even when a later page of it failed (a child
        sitemap, page 2 of a listing): that failure is its last error, not a failed read. A
        source that neither finished nor failed (the crawl was cut short) counts as failed
        with ``no_answer_cause``: a gap is never silent.
        """
        failures = list(failures)
        day = at.astimezone(self.zone).date().isoformat()
        feed_failures = {f.source_id: f for f in failures if f.stage == "feed"}
        states = self.states()
        with self._connect() as connection:
            for failure in failures:
                connection.execute(
                    "INSERT INTO source_failures VALUES (?, ?, ?, ?, 1) "
                    "ON CONFLICT (source_id, day, stage, cause) DO UPDATE SET count = count + 1",
                    (failure.source_id, day, failure.stage, failure.reason),
                )
            for source in sources:
                state = states.get(source.id)
                finished = done.get(source.id)
                failure = feed_failures.get(source.id)
                if finished is None and failure is None:
                    failure = FailureEvent(
                        source_id=source.id,
                        url=str(source.url),
                        stage="feed",
                        reason=no_answer_cause,
                        detail="the crawl ended before this source answered",
                    )
                    connection.execute(
                        "INSERT INTO source_failures VALUES (?, ?, 'feed', ?, 1) ON CONFLICT "
                        "(source_id, day, stage, cause) DO UPDATE SET count = count + 1",
                        (source.id, day, no_answer_cause),
                    )
                self._record_source(connection, source, state, at, finished, failure)
            connection.execute(
                "DELETE FROM source_failures WHERE day < ?",
                ((at - FAILURE_HISTORY).astimezone(self.zone).date().isoformat(),),
            )

    def _record_source(
        self,
        connection: sqlite3.Connection,
        source: Source,
        state: SourceState | None,
        at: datetime,
        finished: SourceDoneEvent | None,
        failure: FailureEvent | None,
    ) -> None:
        outcome = (
            PollOutcome(failed=True)
            if finished is None
            else PollOutcome(
                entries=finished.entries,
                new_entries=finished.entries - finished.skipped_known,
                not_modified=finished.not_modified,
            )
        )
        interval, next_due = self._next_read(source, state, at, outcome)
        connection.execute(
            "INSERT INTO source_state (source_id) VALUES (?) ON CONFLICT DO NOTHING",
            (source.id,),
        )
        connection.execute(
            "UPDATE source_state SET interval_s = ?, last_poll_at = ?, next_due_at = ? "
            "WHERE source_id = ?",
            (interval.total_seconds() if interval else None, _iso(at), _iso(next_due), source.id),
        )
        if failure is not None:
            connection.execute(
                "UPDATE source_state SET last_error_at = ?, last_error_cause = ?, "
                "last_error_detail = ? WHERE source_id = ?",
                (_iso(at), failure.reason, failure.detail[:500], source.id),
            )
        if finished is None:
            connection.execute(
                "UPDATE source_state SET consecutive_failures = consecutive_failures + 1 "
                "WHERE source_id = ?",
                (source.id,),
            )
            return
        connection.execute(
            "UPDATE source_state SET last_success_at = ?, consecutive_failures = 0 "
            "WHERE source_id = ?",
            (_iso(at), source.id),
        )
        if not finished.not_modified:  # a 304 carries no new validators worth replacing
            connection.execute(
                "UPDATE source_state SET etag = ?, last_modified = ? WHERE source_id = ?",
                (finished.etag, finished.last_modified, source.id),
            )

    def _next_read(
        self, source: Source, state: SourceState | None, at: datetime, outcome: PollOutcome
    ) -> tuple[timedelta | None, datetime]:
        if base_interval(source) is None:
            trigger = parse_schedule(source.schedule, str(self.zone))
            next_fire = trigger.get_next_fire_time(None, at.astimezone(self.zone))
            assert next_fire is not None
            return None, next_fire
        interval = next_interval(source, state.interval if state else None, outcome)
        return interval, at + interval
