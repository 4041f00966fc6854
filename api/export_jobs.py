"""Large exports built in the background: a thread pool writes files under exports_dir and
job rows in SQLite say how far each has got, or why it failed."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Literal

import structlog
from pydantic import BaseModel

from api.exports import ExportFormat
from mediawatch.model import UtcDatetime, utc_now

log = structlog.get_logger("mediawatch.exports")
JobState = Literal["queued", "running", "done", "failed", "expired"]
KEEP = timedelta(days=7)  # files are for downloading, not archiving: the audit log keeps who
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
    finished_at TEXT
);
"""


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


class ExportJobs:
    def __init__(self, directory: Path, workers: int = 2, keep: timedelta = KEEP) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "jobs.db"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)
            # a restart lost whatever was running: say so instead of leaving it "running"
            connection.execute(
                "UPDATE export_jobs SET state = 'failed', error = 'interrupted by a restart' "
                "WHERE state IN ('queued', 'running')"
            )
        self.expire(utc_now() - keep)

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

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

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
        self, owner: str, kind: str, fmt: ExportFormat, query: str, build: Build
    ) -> ExportJob:
        """Queue ``build(out, progress)``, which writes the file and returns its row count."""
        job_id = uuid.uuid4().hex
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO export_jobs (id, owner, kind, format, query, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'queued', ?)",
                (job_id, owner, kind, fmt, query, utc_now().isoformat()),
            )
        job = self.get(job_id)
        assert job is not None
        self._pool.submit(self._run, job, build)
        return job

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
        self._pool.shutdown(wait=True)
