"""The append-only audit log: who did what, when, from where.

One SQLite file apart from the search store. Triggers refuse every UPDATE and DELETE, and each
entry carries the SHA-256 of the one before it, so an entry altered or removed behind SQLite's
back (editing the file) breaks the chain and ``verify`` names where.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from mediawatch.model import UtcDatetime, utc_now
from mediawatch.sqlite_files import connect, create, immediate
from mediawatch.text import spreadsheet_safe

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    via TEXT,
    ip TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor, at);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action, at);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target, at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
GENESIS = "0" * 64
_FIELDS = ("at", "actor", "role", "via", "ip", "action", "target", "detail")


class AuditEntry(BaseModel):
    seq: int
    at: UtcDatetime
    actor: str = Field(description="User name, or 'system' for scheduled jobs")
    role: str | None = None
    via: str | None = Field(default=None, description="session, token, cli or system")
    ip: str | None = None
    action: str = Field(description="e.g. login.ok, login.failed, search, export, item.view")
    target: str | None = Field(default=None, description="What it was done to: an item id…")
    detail: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


def _entry_hash(previous_hash: str, row: dict[str, Any]) -> str:
    payload = json.dumps([previous_hash, *(row[name] for name in _FIELDS)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer per process keeps the chain a line
        create(path, SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def record(
        self,
        actor: str,
        action: str,
        *,
        role: str | None = None,
        via: str | None = None,
        ip: str | None = None,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        row = {
            "at": (at or utc_now()).astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "role": role,
            "via": via,
            "ip": ip,
            "action": action,
            "target": target,
            "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        }
        # IMMEDIATE: other processes (API workers, the CLI) append to the same chain.
        with self._lock, self._connect() as connection, immediate(connection):
            last = connection.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            previous = last["hash"] if last else GENESIS
            connection.execute(
                "INSERT INTO audit (at, actor, role, via, ip, action, target, detail, "
                "previous_hash, hash) VALUES (:at, :actor, :role, :via, :ip, :action, "
                ":target, :detail, :previous_hash, :hash)",
                row | {"previous_hash": previous, "hash": _entry_hash(previous, row)},
            )

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """Oldest first; ``action`` ending in '.' matches a family ("review.")."""
        clauses, params = self._filters(since, until, actor, action, target)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        page = " LIMIT ? OFFSET ?" if limit is not None else ""
        params += [limit, offset] if limit is not None else []
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT * FROM audit {where} ORDER BY seq{page}", params
            ).fetchall()
        return [self._entry(row) for row in rows]

    def count(self, **filters: Any) -> int:
        clauses, params = self._filters(
            filters.get("since"),
            filters.get("until"),
            filters.get("actor"),
            filters.get("action"),
            filters.get("target"),
        )
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as connection:
            return connection.execute(f"SELECT count(*) FROM audit {where}", params).fetchone()[0]

    @staticmethod
    def _filters(
        since: datetime | None,
        until: datetime | None,
        actor: str | None,
        action: str | None,
        target: str | None,
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if since:
            clauses.append("at >= ?")
            params.append(since.astimezone(UTC).isoformat(timespec="microseconds"))
        if until:
            clauses.append("at < ?")
            params.append(until.astimezone(UTC).isoformat(timespec="microseconds"))
        if actor:
            clauses.append("actor = ?")
            params.append(actor)
        if action and action.endswith("."):
            clauses.append("substr(action, 1, ?) = ?")
            params += [len(action), action]
        elif action:
            clauses.append("action = ?")
            params.append(action)
        if target:
            clauses.append("target = ?")
            params.append(target)
        return clauses, params

    @staticmethod
    def _entry(row: sqlite3.Row) -> AuditEntry:
        data = {name: row[name] for name in _FIELDS} | {"seq": row["seq"]}
        data["detail"] = json.loads(row["detail"])
        return AuditEntry.model_validate(data)

    def verify(self) -> list[ChainBreak]:
        """Every place where the chain does not hold; empty when the log is intact."""
        breaks: list[ChainBreak] = []
        previous = GENESIS
        expected_seq = None
        with self._connect() as connection:
            for row in connection.execute("SELECT * FROM audit ORDER BY seq"):
                data = dict(row)
                if expected_seq is not None and row["seq"] != expected_seq:
                    breaks.append(ChainBreak(row["seq"], f"entries before {row['seq']} missing"))
                if row["previous_hash"] != previous:
                    breaks.append(ChainBreak(row["seq"], "does not follow the entry before it"))
                if _entry_hash(row["previous_hash"], data) != row["hash"]:
                    breaks.append(ChainBreak(row["seq"], "content altered after it was written"))
                previous = row["hash"]
                expected_seq = row["seq"] + 1
        return breaks


def as_utc(moment: datetime | None, timezone: str = "UTC") -> datetime | None:
    """A filter's time in UTC; one typed without a zone is read in ``timezone``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


EXPORT_FORMATS = ("csv", "jsonl")
_EXPORT_COLUMNS = ("seq", "at", "actor", "role", "via", "ip", "action", "target", "detail")


def iter_entries(log: AuditLog, page_size: int = 1000, **filters: Any) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, read a page at a time so a long log streams."""
    offset = 0
    while True:
        page = log.entries(limit=page_size, offset=offset, **filters)
        yield from page
        if len(page) < page_size:
            return
        offset += page_size


def export_lines(entries: Iterable[AuditEntry], format: str) -> Iterator[str]:
    """The entries as CSV (a header row first; detail as JSON) or JSON Lines."""
    if format == "jsonl":
        for entry in entries:
            yield entry.model_dump_json() + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_EXPORT_COLUMNS)
    for entry in entries:
        data = entry.model_dump(mode="json")
        data["detail"] = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True, default=str)
        # Actors of failed logins are whatever was typed: defuse formulas for spreadsheets.
        writer.writerow(
            [
                spreadsheet_safe(v) if isinstance(v, str) else v
                for v in map(data.get, _EXPORT_COLUMNS)
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
