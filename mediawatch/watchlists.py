"""Saved watchlists: what an analyst follows, and which spike alerts were already sent.

A watchlist scopes spike alerts (topics, places, source tiers, text), so each person hears
only about what they follow and inboxes are not flooded. One SQLite file, a connection per
operation, like the other embedded stores.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mediawatch.model import SourceTier, UtcDatetime, utc_now
from mediawatch.sqlite_files import connect, create

SCHEMA = """
CREATE TABLE IF NOT EXISTS watchlists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS watchlists_owner ON watchlists(owner);
CREATE TABLE IF NOT EXISTS alerts_sent (
    watchlist_id INTEGER NOT NULL REFERENCES watchlists(id) ON DELETE CASCADE,
    spike TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (watchlist_id, spike)
);
"""


LINE_BREAKING = {"Cc", "Zl", "Zp"}  # control characters, line and paragraph separators


class WatchlistFields(BaseModel):
    """A watchlist's scope and address; empty filters mean "everything"."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    topics: list[str] = Field(default_factory=list, max_length=50)
    places: list[str] = Field(default_factory=list, max_length=100)
    tiers: list[SourceTier] = Field(default_factory=list)
    text: str | None = Field(default=None, max_length=500, description="Words that must occur")
    notify_email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Where spike alerts go; none, no email",
    )


class WatchlistInput(WatchlistFields):
    """What a person saves now. The name becomes an email subject: a line break there would
    forge headers, and other control characters are never meant."""

    @field_validator("name")
    @classmethod
    def _printable(cls, name: str) -> str:
        if any(unicodedata.category(character) in LINE_BREAKING for character in name):
            raise ValueError("tên không được chứa ký tự điều khiển (no control characters)")
        return name


class Watchlist(WatchlistFields):
    """A saved watchlist. Names saved before the input check still load, so one old name cannot
    break every listing; the alerts run skips a watchlist it cannot mail."""

    id: int
    owner: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class WatchlistNotFound(LookupError):
    pass


class Watchlists:
    def __init__(self, path: Path) -> None:
        self.path = path
        create(path, SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path, foreign_keys=True)

    @staticmethod
    def _watchlist(row: sqlite3.Row) -> Watchlist:
        return Watchlist.model_validate(
            json.loads(row["body"])
            | {
                "id": row["id"],
                "owner": row["owner"],
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
        )

    def list(self, owner: str | None = None) -> list[Watchlist]:
        """One owner's watchlists, or everyone's when ``owner`` is None."""
        where, params = ("WHERE owner = ?", [owner]) if owner is not None else ("", [])
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT * FROM watchlists {where} ORDER BY id", params
            ).fetchall()
        return [self._watchlist(row) for row in rows]

    def get(self, watchlist_id: int) -> Watchlist:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT * FROM watchlists WHERE id = ?", (watchlist_id,)
            ).fetchone()
        if row is None:
            raise WatchlistNotFound(watchlist_id)
        return self._watchlist(row)

    def create(self, owner: str, data: WatchlistInput) -> Watchlist:
        now = utc_now().isoformat()
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO watchlists (owner, body, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (owner, data.model_dump_json(), now, now),
            )
        return self.get(int(cursor.lastrowid or 0))

    def update(self, watchlist_id: int, data: WatchlistInput) -> Watchlist:
        with self._connect() as connection:
            cursor = connection.execute(
                "UPDATE watchlists SET body = ?, updated_at = ? WHERE id = ?",
                (data.model_dump_json(), utc_now().isoformat(), watchlist_id),
            )
        if not cursor.rowcount:
            raise WatchlistNotFound(watchlist_id)
        return self.get(watchlist_id)

    def delete(self, watchlist_id: int) -> None:
        with self._connect() as connection:
            cursor = connection.execute("DELETE FROM watchlists WHERE id = ?", (watchlist_id,))
        if not cursor.rowcount:
            raise WatchlistNotFound(watchlist_id)

    def first_alert(self, watchlist_id: int, spike: str, at: datetime) -> bool:
        """Remember that ``spike`` was alerted for this watchlist; False if it already was."""
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO alerts_sent (watchlist_id, spike, sent_at) VALUES (?, ?, ?)",
                (watchlist_id, spike, at.isoformat()),
            )
        return cursor.rowcount == 1

    def forget_alert(self, watchlist_id: int, spike: str) -> None:
        """The alert could not be sent: let the next run try again."""
        with self._connect() as connection:
            connection.execute(
                "DELETE FROM alerts_sent WHERE watchlist_id = ? AND spike = ?",
                (watchlist_id, spike),
            )
