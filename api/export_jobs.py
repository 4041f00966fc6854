"""Large exports built in the background: a thread pool writes files under exports_dir and
job rows in SQLite say how far each has got, or why it failed.

Several workers (processes) may share exports_dir. Each job records the worker building it
(pid and host), so a starting worker fails only the jobs whose worker has gone, never the ones
another live worker is still building. Each person may have a few jobs open and start a
limited number a day (``settings.exports``), and a sweeper thread deletes expired files while
the API runs, not only when it starts.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Literal

import structlog
from pydantic import BaseModel, Field

from api.exports import ExportFormat
from mediawatch.config import ExportSettings
from mediawatch.model import UtcDatetime, utc_now
from mediawatch.sqlite_files import check, connect, immediate

log = structlog.get_logger("mediawatch.exports")
JobState = Literal["queued", "running", "done", "failed", "expired"]
DAY = timedelta(days=1)
BUSY_RETRY_S = 30  # a job usually finishes within this; then another may start
INTERRUPTED = "tiến trình xuất đã dừng giữa chừng; hãy xuất lại (interrupted: its worker stopped)"
Build = Callable[[IO[bytes], Callable[[int, int], None]], int]

SCHEMA = """
CREATE TABLE IF NOT EXISTS export_jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    query TEXT NOT NULL,
    state TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0,
    total INTEGER,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    authors INTEGER NOT NULL DEFAULT 0,
    worker_pid INTEGER,
    worker_host TEXT
);
"""
# Columns added after the first release: (name, definition) for ALTER TABLE on older files.
ADDED_COLUMNS = (
    ("authors", "INTEGER NOT NULL DEFAULT 0"),
    ("worker_pid", "INTEGER"),
    ("worker_host", "TEXT"),
)


def alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (signal 0 checks, sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive all the same
        return True
    return True


class ExportQuotaExceeded(Exception):
    """Too many exports for one person: the message says why (Vietnamese), ``retry_after``
    in how many seconds one may be started again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ExportJob(BaseModel):
    id: str
    owner: str
    kind: str
    format: ExportFormat
    query: str
    state: JobState
    rows: int
    total: int | None
    error: str | None
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    authors: bool = Field(
        default=False, description="Whether the file may hold authors' names (Decree 13)"
    )


class ExportJobs:
    def __init__(
        self, directory: Path, settings: ExportSettings | None = None, workers: int = 2
    ) -> None:
        self.directory = directory
        self.settings = settings or ExportSettings()
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "jobs.db"
        check(self.path)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        self.pid = os.getpid()
        self.host = socket.gethostname()
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)
            connection.execute("BEGIN IMMEDIATE")  # two workers starting: one migrates
            present = {row["name"] for row in connection.execute("PRAGMA table_info(export_jobs)")}
            for name, definition in ADDED_COLUMNS:
                if name not in present:
                    connection.execute(f"ALTER TABLE export_jobs ADD COLUMN {name} {definition}")
            if "authors" not in present:  # files built before it was recorded may hold names
                connection.execute("UPDATE export_jobs SET authors = 1 WHERE kind = 'items'")
            connection.execute("COMMIT")
        self.fail_orphans()
        self.sweep()
        self._stopping = threading.Event()
        threading.Thread(target=self._sweep_until_stopped, name="export-sweep", daemon=True).start()

    def sweep(self) -> int:
        """Delete the files past ``settings.keep_days``."""
        return self.expire(utc_now() - timedelta(days=self.settings.keep_days))

    def _sweep_until_stopped(self) -> None:
        while not self._stopping.wait(self.settings.sweep_minutes * 60):
            try:
                self.sweep()
            except Exception:  # a locked or missing file: try again next time
                log.exception("export sweep failed", directory=str(self.directory))

    def fail_orphans(self) -> int:
        """Say "failed" for the unfinished jobs whose worker has stopped, instead of leaving them
        "running" for ever. Jobs of live workers, and of other hosts (whose processes cannot be
        seen from here), are left alone; jobs from before workers were recorded are orphans."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            rows = connection.execute(
                "SELECT * FROM export_jobs WHERE state IN ('queued', 'running')"
            ).fetchall()
            orphans = [
                ExportJob.model_validate(dict(row))
                for row in rows
                if row["worker_pid"] is None
                or (row["worker_host"] == self.host and not alive(row["worker_pid"]))
            ]
            connection.executemany(
                "UPDATE export_jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ?",
                [(INTERRUPTED, utc_now().isoformat(), job.id) for job in orphans],
            )
            connection.execute("COMMIT")
        for job in orphans:  # half-written files
            self.file(job).unlink(missing_ok=True)
        if orphans:
            log.warning("exports interrupted by a stopped worker", jobs=[job.id for job in orphans])
        return len(orphans)

    def expire(self, before: datetime) -> int:
        """Delete the files of jobs finished before ``before``; their rows stay, "expired"."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT * FROM export_jobs WHERE state = 'done' AND finished_at < ?",
                (before.isoformat(),),
            ).fetchall()
            for row in rows:
                self.file(ExportJob.model_validate(dict(row))).unlink(missing_ok=True)
                connection.execute(
                    "UPDATE export_jobs SET state = 'expired' WHERE id = ?", (row["id"],)
                )
        return len(rows)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def _set(self, job_id: str, **values: object) -> None:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        with self._connect() as connection:
            connection.execute(
                f"UPDATE export_jobs SET {assignments} WHERE id = :id", values | {"id": job_id}
            )

    def get(self, job_id: str) -> ExportJob | None:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM export_jobs WHERE id = ?", (job_id,)).fetchone()
        return ExportJob.model_validate(dict(row)) if row else None

    def file(self, job: ExportJob) -> Path:
        return self.directory / f"{job.id}.{job.format}"

    def submit(
        self,
        owner: str,
        kind: str,
        fmt: ExportFormat,
        query: str,
        build: Build,
        *,
        authors: bool = False,
    ) -> ExportJob:
        """Queue ``build(out, progress)``, which writes the file and returns its row count;
        ``authors`` says whether it may write authors' names, for the download to check.
        Raises ExportQuotaExceeded past the owner's limits (checked and counted at once)."""
        job_id = uuid.uuid4().hex
        with self._connect() as connection, immediate(connection):
            self._check_quota(connection, owner)
            connection.execute(
                "INSERT INTO export_jobs (id, owner, kind, format, query, state, created_at, "
                "authors, worker_pid, worker_host) "
                "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (
                    job_id,
                    owner,
                    kind,
                    fmt,
                    query,
                    utc_now().isoformat(),
                    authors,
                    self.pid,
                    self.host,
                ),
            )
        job = self.get(job_id)
        assert job is not None
        self._pool.submit(self._run, job, build)
        return job

    def _check_quota(self, connection: sqlite3.Connection, owner: str) -> None:
        limits = self.settings
        busy = connection.execute(
            "SELECT COUNT(*) FROM export_jobs WHERE owner = ? AND state IN ('queued', 'running')",
            (owner,),
        ).fetchone()[0]
        if busy >= limits.max_open_per_user:
            raise ExportQuotaExceeded(
                f"Bạn đang có {busy} yêu cầu xuất chưa xong (tối đa {limits.max_open_per_user}); "
                "hãy thử lại khi một yêu cầu xong (too many exports in progress)",
                BUSY_RETRY_S,
            )
        now = utc_now()
        started = [
            datetime.fromisoformat(row[0])
            for row in connection.execute(
                "SELECT created_at FROM export_jobs WHERE owner = ? AND created_at >= ?",
                (owner, (now - DAY).isoformat()),
            )
        ]
        if len(started) >= limits.max_per_day:
            frees = sorted(started)[len(started) - limits.max_per_day] + DAY
            wait = max(1, int((frees - now).total_seconds()) + 1)
            raise ExportQuotaExceeded(
                f"Bạn đã xuất {len(started)} lần trong 24 giờ qua (tối đa {limits.max_per_day}); "
                f"hãy thử lại sau {wait // 60 + 1} phút (daily export limit reached)",
                wait,
            )

    def _run(self, job: ExportJob, build: Build) -> None:
        self._set(job.id, state="running")
        target = self.file(job)
        try:
            with target.open("wb") as out:
                rows = build(out, lambda done, total: self._set(job.id, rows=done, total=total))
        except Exception as error:  # recorded for the owner to read, never lost in a thread
            log.exception("export failed", job=job.id)
            target.unlink(missing_ok=True)
            self._set(
                job.id,
                state="failed",
                error=f"{type(error).__name__}: {error}",
                finished_at=utc_now().isoformat(),
            )
            return
        self._set(job.id, state="done", rows=rows, finished_at=utc_now().isoformat())

    def shutdown(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=True)
