"""The append-only audit log: who did what, when, from where.

One SQLite file apart from the search store. Triggers refuse every UPDATE and DELETE, and each
entry carries the SHA-256 of the one before it, so an entry altered or removed behind SQLite's
back (editing the file) breaks the chain and ``verify`` names where.

A chain alone can be recomputed by whoever can write the file, and says nothing of entries cut
off its end. So each entry's hash also carries an HMAC under a key kept apart from the file
(``security.audit_key_file``, created 0600 on first use), and every append writes the head
(last entry and hash, MACed) to an anchor file beside the key (``security.audit_anchor_file``).
The anchor is written after the commit, never before: a crash between the two leaves it one
entry behind, which is accepted, where one ahead of the log would read as entries cut off.
What opening the log repairs (dropped triggers, a lost key, an anchor that no longer fits) is
written to the log itself, and ``verify`` names it until someone acknowledges it
(``mediawatch audit acknowledge``).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import hmac
import io
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from mediawatch.model import UtcDatetime, utc_now
from mediawatch.sqlite_files import connect, create, immediate
from mediawatch.text import spreadsheet_safe

if TYPE_CHECKING:
    from mediawatch.config import Settings

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
    hash TEXT NOT NULL,
    mac TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor, at);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action, at);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target, at);
CREATE INDEX IF NOT EXISTS audit_review_entry ON audit(json_extract(detail, '$.review_entry'))
WHERE json_extract(detail, '$.review_entry') IS NOT NULL;
"""
# Created with a new file; re-created at open only with an entry saying they were missing.
TRIGGERS = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
}
# What the log records about itself; ``verify`` names each such entry.
INCIDENTS = {
    "audit.triggers_missing": "trigger chống sửa/xóa đã bị gỡ (triggers were missing)",
    "audit.key_replaced": "khóa HMAC bị mất, đã tạo khóa mới (key lost and replaced)",
    "audit.anchor_mismatch": "mốc neo không khớp nhật ký (anchor did not match the log)",
}
ACKNOWLEDGE = "audit.acknowledge"  # incidents up to its "through" were seen: verify skips them
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
    seq: int | None  # None: the log as a whole (triggers, anchor, key)
    reason: str


def _entry_hash(previous_hash: str, row: dict[str, Any]) -> str:
    payload = json.dumps([previous_hash, *(row[name] for name in _FIELDS)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _mac(key: bytes, *parts: object) -> str:
    return hmac.new(key, ":".join(map(str, parts)).encode(), hashlib.sha256).hexdigest()


class AuditFilesUnwritable(Exception):
    """The key or anchor folder cannot be made or written, or the key read (a service user
    without rights beside its data folder): named, with the settings to change, for the
    person at the console (the CLI prints it and exits 2; the API does not start)."""

    def __init__(self, path: Path, error: OSError) -> None:
        self.path = path
        super().__init__(
            f"Không đọc/ghi được {path} của nhật ký kiểm toán (audit key/anchor unusable: "
            f"{error.strerror or error}): đặt security.audit_key_file và "
            "security.audit_anchor_file (MEDIAWATCH_SECURITY__AUDIT_KEY_FILE, "
            "MEDIAWATCH_SECURITY__AUDIT_ANCHOR_FILE) tới một thư mục mediawatch ghi được, "
            "tách khỏi thư mục dữ liệu, rồi khởi động lại."
        )


def default_key_dir(path: Path) -> Path:
    """Where the key and anchor go unless settings say: beside the log's folder, not in it,
    so a copy or a wipe of the data folder does not take them along."""
    return path.parent.with_name(f"{path.parent.name}-audit-keys")


class AuditLog:
    def __init__(
        self, path: Path, key_file: Path | None = None, anchor_file: Path | None = None
    ) -> None:
        self.path = path
        self.key_file = key_file or default_key_dir(path) / "audit.key"
        self.anchor_file = anchor_file or default_key_dir(path) / "audit-anchor.json"
        self._lock = threading.Lock()  # one writer per process keeps the chain a line
        self._anchor_lock = self.anchor_file.with_name(f".{self.anchor_file.name}.lock")
        create(path, SCHEMA)
        missing, used = self._repair()
        with self._connect() as connection:
            macs = connection.execute("SELECT 1 FROM audit WHERE mac IS NOT NULL LIMIT 1")
            keyed = macs.fetchone() is not None
        self._key, made = self._load_key()
        key_lost = keyed and made  # only the process whose new key won says so
        self._writable_folder(self.anchor_file)
        if missing and used:
            self.record(
                "system", "audit.triggers_missing", via="system", detail={"triggers": missing}
            )
        if key_lost:
            self.record(
                "system", "audit.key_replaced", via="system", detail={"key": str(self.key_file)}
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        """The log with the key and anchor where settings put them."""
        security = settings.security
        return cls(settings.audit_path, security.audit_key_file, security.audit_anchor_file)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def _repair(self) -> tuple[list[str], bool]:
        """The MAC column on a log from before it, and the triggers: which were missing,
        and whether the log had been written to (a new file gets them without a word).
        Writes only when something is missing, so a start does not wait on a busy log."""
        with self._connect() as connection:
            columns = {row["name"] for row in connection.execute("PRAGMA table_info(audit)")}
            if "mac" in columns and not set(TRIGGERS) - self._triggers(connection):
                return [], False
            with immediate(connection):
                columns = {r["name"] for r in connection.execute("PRAGMA table_info(audit)")}
                if "mac" not in columns:
                    connection.execute("ALTER TABLE audit ADD COLUMN mac TEXT")
                missing = sorted(set(TRIGGERS) - self._triggers(connection))
                for name in missing:
                    connection.execute(TRIGGERS[name])
                used = connection.execute("SELECT 1 FROM sqlite_sequence WHERE name = 'audit'")
                return missing, used.fetchone() is not None

    @staticmethod
    def _triggers(connection: sqlite3.Connection) -> set[str]:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
        )
        return {row["name"] for row in rows}

    def _load_key(self) -> tuple[bytes, bool]:
        """The MAC key, and whether this call made it. Made (0600, in a 0700 folder) when
        there is none: written aside and linked into place, so of several processes starting
        together one key wins and only its maker reports a new key."""
        made = False
        if not self.key_file.exists():
            self._writable_folder(self.key_file)
            draft = self.key_file.with_name(f".{self.key_file.name}.{secrets.token_hex(8)}")
            try:
                descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as error:
                raise AuditFilesUnwritable(self.key_file, error) from error
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
            try:
                os.link(draft, self.key_file)
                made = True
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        try:
            return bytes.fromhex(self.key_file.read_text().strip()), made
        except OSError as error:
            raise AuditFilesUnwritable(self.key_file, error) from error

    @staticmethod
    def _writable_folder(file: Path) -> None:
        """The folder of ``file`` made (0700) and writable, checked at start so a folder the
        service user may not create is one sentence, not a traceback or a 500 later."""
        try:
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise AuditFilesUnwritable(file, error) from error
        if not os.access(file.parent, os.W_OK | os.X_OK):
            raise AuditFilesUnwritable(file, PermissionError(13, "Permission denied"))

    def _read_anchor(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.anchor_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}

    @contextmanager
    def _appending(self) -> Iterator[None]:
        """One appender at a time across processes, from reading the anchor to moving it:
        another process's append committed but not yet anchored would otherwise be read as
        a mismatch (and recorded twice). Taken before SQLite's lock, by every appender."""
        with self._anchor_lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _write_anchor(self, seq: int, head: str) -> None:
        """The head, MACed, replacing the anchor file whole (never half written). Called
        after the commit, under ``_appending``; an anchor already at a later entry (with this
        key's MAC) is kept, so it never moves back."""
        anchor = {"last_seq": seq, "last_hash": head, "mac": _mac(self._key, seq, head)}
        current = self._read_anchor() or {}
        later = current.get("last_seq")
        if (
            isinstance(later, int)
            and later >= seq
            and hmac.compare_digest(
                str(current.get("mac")), _mac(self._key, later, current.get("last_hash"))
            )
        ):
            return
        draft = self.anchor_file.with_name(f".{self.anchor_file.name}.{os.getpid()}")
        draft.write_text(json.dumps(anchor))
        os.replace(draft, self.anchor_file)

    def _anchor_problem(self, connection: sqlite3.Connection) -> str | None:
        """What is wrong between the anchor and the log as it is (None: they agree)."""
        anchor = self._read_anchor()
        macs = connection.execute("SELECT 1 FROM audit WHERE mac IS NOT NULL LIMIT 1").fetchone()
        if anchor is None:
            return "mốc neo bị mất (anchor file missing)" if macs else None
        seq, head = anchor.get("last_seq"), anchor.get("last_hash")
        if not hmac.compare_digest(str(anchor.get("mac")), _mac(self._key, seq, head)):
            return "mốc neo bị sửa hoặc sai khóa (anchor altered or another key)"
        last = connection.execute("SELECT max(seq) FROM audit").fetchone()[0] or 0
        if last < seq:
            if last == 0:
                return f"nhật ký trống, mốc neo ghi {seq} mục (log emptied: anchor holds {seq})"
            return (
                f"thiếu {seq - last} mục cuối: mốc neo ghi đến #{seq}, nhật ký dừng ở #{last} "
                f"(entries missing at the end)"
            )
        row = connection.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
        if row is None or row["hash"] != head:
            return f"mục #{seq} không còn là mục đã neo (anchored entry replaced: chain rewritten)"
        return None

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
        step: str | None = None,
    ) -> bool:
        """Append an entry. ``step``: the review-log entry (``item:version``) this records;
        an entry of the same action and target for that step is written once, however often
        the request and the reconciler both try: whether it was written now."""
        if step is not None:
            detail = (detail or {}) | {"review_entry": step}
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
        # IMMEDIATE: other processes (API workers, the CLI) append to the same chain. The
        # anchor moves only once the entries are committed (see _write_anchor).
        with self._lock, self._appending(), self._connect() as connection:
            with immediate(connection):
                if (
                    step is not None
                    and connection.execute(
                        "SELECT 1 FROM audit WHERE json_extract(detail, '$.review_entry') = ? "
                        "AND action = ? AND target IS ?",
                        (step, action, target),
                    ).fetchone()
                ):
                    return False
                problem = self._anchor_problem(connection)
                if problem:  # kept in the log before the anchor moves on past it
                    incident = dict(row, actor="system", role=None, via="system", ip=None)
                    incident |= {"action": "audit.anchor_mismatch", "target": None}
                    incident["detail"] = json.dumps({"problem": problem}, ensure_ascii=False)
                    self._append(connection, incident)
                head = self._append(connection, row)
            self._write_anchor(*head)
        return True

    def _append(self, connection: sqlite3.Connection, row: dict[str, Any]) -> tuple[int, str]:
        """Insert ``row`` chained to the last entry: its seq and hash."""
        last = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        head = last.fetchone()
        previous = head["hash"] if head else GENESIS
        digest = _entry_hash(previous, row)
        cursor = connection.execute(
            "INSERT INTO audit (at, actor, role, via, ip, action, target, detail, "
            "previous_hash, hash, mac) VALUES (:at, :actor, :role, :via, :ip, :action, "
            ":target, :detail, :previous_hash, :hash, :mac)",
            row | {"previous_hash": previous, "hash": digest, "mac": _mac(self._key, digest)},
        )
        return cursor.lastrowid, digest

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
        """Every place where the log does not hold, and every incident it recorded about
        itself since the latest acknowledgement; empty when the log is intact. Safe beside
        appends in flight: the anchor is read first and only ever names committed entries."""
        breaks: list[ChainBreak] = []
        previous, expected_seq, keyed = GENESIS, 1, False
        with self._connect() as connection:
            missing = sorted(set(TRIGGERS) - self._triggers(connection))
            if missing:
                names = ", ".join(missing)
                breaks.append(ChainBreak(None, f"thiếu trigger {names} (triggers missing)"))
            anchor_problem = self._anchor_problem(connection)
            if anchor_problem:
                breaks.append(ChainBreak(None, anchor_problem))
            # Entries before a key replacement were MACed with the lost key: not checkable.
            replaced = connection.execute(
                "SELECT max(seq) FROM audit WHERE action = 'audit.key_replaced'"
            ).fetchone()[0]
            acknowledged = self._acknowledged(connection)
            for row in connection.execute("SELECT * FROM audit ORDER BY seq"):
                data = dict(row)
                breaks += _chain_breaks(data, previous, expected_seq)
                keyed = keyed or data["mac"] is not None
                breaks += self._mac_breaks(data, keyed, checkable=data["seq"] >= (replaced or 0))
                if data["action"] in INCIDENTS and data["seq"] > acknowledged:
                    found = json.loads(data["detail"]).get("problem")
                    incident = f"{INCIDENTS[data['action']]}, {data['at']}"
                    breaks.append(
                        ChainBreak(data["seq"], f"{incident}: {found}" if found else incident)
                    )
                previous, expected_seq = data["hash"], data["seq"] + 1
        return breaks

    @staticmethod
    def _acknowledged(connection: sqlite3.Connection) -> int:
        """The last incident someone acknowledged (0: none). The acknowledgement names it
        (``through``), rather than counting as its own seq, so an incident written in the
        same append (an anchor found wrong then) is not hidden unseen."""
        latest = connection.execute(
            "SELECT max(json_extract(detail, '$.through')) FROM audit WHERE action = ?",
            (ACKNOWLEDGE,),
        )
        return latest.fetchone()[0] or 0

    def incidents(self) -> list[AuditEntry]:
        """The incidents recorded since the latest acknowledgement, oldest first."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT * FROM audit WHERE seq > ? AND action IN "
                f"({', '.join('?' * len(INCIDENTS))}) ORDER BY seq",
                (self._acknowledged(connection), *INCIDENTS),
            ).fetchall()
        return [self._entry(row) for row in rows]

    def _mac_breaks(self, row: dict[str, Any], keyed: bool, checkable: bool) -> list[ChainBreak]:
        """An entry without a MAC after MACed ones, or whose MAC the key does not give."""
        if row["mac"] is None:
            return (
                [ChainBreak(row["seq"], "không có HMAC (written without the key)")] if keyed else []
            )
        if checkable and not hmac.compare_digest(row["mac"], _mac(self._key, row["hash"])):
            return [ChainBreak(row["seq"], _MAC_MISMATCH)]
        return []


_MAC_MISMATCH = (
    "HMAC sai: mục bị viết lại khi không có khóa (MAC mismatch: rewritten without the key)"
)


def _chain_breaks(row: dict[str, Any], previous: str, expected_seq: int) -> list[ChainBreak]:
    """Where one entry leaves the hash chain: a gap before it, a link or content changed."""
    seq, breaks = row["seq"], []
    if seq != expected_seq:
        breaks.append(ChainBreak(seq, f"thiếu các mục trước #{seq} (entries before {seq} missing)"))
    if row["previous_hash"] != previous:
        breaks.append(ChainBreak(seq, "không nối mục trước (does not follow the entry before it)"))
    if _entry_hash(row["previous_hash"], row) != row["hash"]:
        breaks.append(ChainBreak(seq, "nội dung bị sửa (content altered after it was written)"))
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
