"""The one way the project opens its SQLite files (the store, accounts, audit log, watchlists,
export jobs): rows by name, a wait of 30 s on a busy file instead of an error, and explicit
transactions (autocommit off), so several API workers and the CLI can share a file; and the
check at start that every such file is sound."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

_checked: set[Path] = set()  # files found sound in this process: checked once, not per query
_checked_lock = threading.Lock()


class DamagedFile(Exception):
    """A project file SQLite cannot read: named, with what to do, for the person at the
    console (the CLI prints it and exits 2; the API does not start)."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(
            f"Tệp dữ liệu {path} bị hỏng (damaged SQLite file: {problem}): khôi phục tệp từ "
            "bản sao lưu, hoặc chuyển tệp sang chỗ khác để mediawatch tạo một tệp trống mới, "
            "rồi khởi động lại."
        )


def check(path: Path) -> None:
    """Refuse a corrupt or truncated file at start (``PRAGMA quick_check``) rather than start a
    service that answers 500; a missing file is fine (it is created). Nothing is repaired or
    replaced here: the data may still be recoverable from it."""
    key = path.resolve()
    if key in _checked or not path.exists():
        return
    try:
        with closing(sqlite3.connect(path, timeout=30)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as error:
        raise DamagedFile(path, str(error)) from error
    if problems != ["ok"]:
        raise DamagedFile(path, "; ".join(problems[:3]))
    with _checked_lock:
        _checked.add(key)


def create(path: Path, schema: str) -> None:
    """The file with its schema, in WAL mode: readers go on while one process writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    check(path)
    with connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(schema)


@contextmanager
def connect(path: Path, *, foreign_keys: bool = False) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA busy_timeout = 30000")
    if foreign_keys:
        connection.execute("PRAGMA foreign_keys = ON")
    try:
        yield connection
    finally:
        connection.close()


@contextmanager
def immediate(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction that takes the write lock before its first read: a read-modify-write
    is not interleaved with another process's."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
