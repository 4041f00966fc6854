"""The one way the project opens its SQLite files (the store, accounts, audit log, watchlists,
export jobs): rows by name, a wait of 30 s on a busy file instead of an error, and explicit
transactions (autocommit off), so several API workers and the CLI can share a file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def create(path: Path, schema: str) -> None:
    """The file with its schema, in WAL mode: readers go on while one process writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
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
