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

# Above this size a start checks a file's structure, not every page (see check).
FULL_CHECK_MAX_BYTES = 256 * 1024 * 1024
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
    """Refuse a corrupt or truncated file at start rather than start a service that answers
    500; a missing file is fine (it is created). Nothing is repaired or replaced here: the data
    may still be recoverable from it.

    A file up to ``FULL_CHECK_MAX_BYTES`` gets ``PRAGMA quick_check``, which reads every page.
    A bigger one (a store of years) would make each start read gigabytes, so it gets a check
    of its structure only: the header, the page count it states against the file's size (a
    file shorter than stated, cut by a full disk, gets the full check), the schema and each
    table's first row. A page damaged in the middle of a big file is then found when it is
    read, as an error of that request."""
    key = path.resolve()
    if key in _checked or not path.exists():
        return
    try:
        if path.stat().st_size <= FULL_CHECK_MAX_BYTES:
            problems = _quick_check(path)
        else:
            problems = _structure_problems(path)
    except sqlite3.DatabaseError as error:
        raise DamagedFile(path, str(error)) from error
    if problems:
        raise DamagedFile(path, "; ".join(problems[:3]))
    with _checked_lock:
        _checked.add(key)


def _quick_check(path: Path) -> list[str]:
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
    return [] if problems == ["ok"] else problems


def _structure_problems(path: Path) -> list[str]:
    """What the header and schema of a big file show wrong, reading a few pages only."""
    with path.open("rb") as file:
        header = file.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return ["file is not a database"]
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    # The stated count is valid when written by the same change as the header (SQLite 3.7+).
    if header[92:96] == header[24:28] and pages * page_size > size:
        # Cut short, or met halfway through another process's checkpoint (page 1 is written
        # before the file grows): only reading it all tells which.
        return _quick_check(path)
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        tables = connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        for (table,) in tables.fetchall():
            quoted = table.replace('"', '""')
            connection.execute(f'SELECT * FROM "{quoted}" LIMIT 1').fetchall()
    return []


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
