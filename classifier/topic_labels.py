"""Reviewers' topic corrections, kept as labels for training a topic model.

Policy topics have no public labelled data: the taxonomy's phrases find them, and where a
reviewer says the topics are wrong, the corrected set is a label. Corrections are appended,
never edited (the latest per item counts), in one SQLite file beside the crawl state, so they
are the same whichever store holds the items.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mediawatch.model import utc_now
from mediawatch.sqlite_files import check

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topic_labels (
    seq      INTEGER PRIMARY KEY,
    item_id  TEXT NOT NULL,
    topics   TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS topic_labels_item ON topic_labels (item_id, seq);
"""


# More than this is not a correction but a checkbox storm.
MAX_TOPICS = 20


class UnknownTopics(ValueError):
    """Topic ids the taxonomy does not have, or too many of them."""


@dataclass(frozen=True)
class TopicLabel:
    item_id: str
    topics: tuple[str, ...]
    reviewer: str
    at: datetime


class TopicLabels:
    def __init__(self, path: Path, known_topics: frozenset[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        check(path)
        self.known_topics = known_topics
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def correct(self, item_id: str, topics: list[str], reviewer: str) -> TopicLabel:
        """Record the topics a reviewer says the item has (an empty list: none of them)."""
        unknown = sorted(set(topics) - self.known_topics)
        if unknown:
            raise UnknownTopics(f"unknown topic(s): {', '.join(unknown)}")
        if len(set(topics)) > MAX_TOPICS:
            raise UnknownTopics(f"{len(set(topics))} topics; at most {MAX_TOPICS}")
        label = TopicLabel(item_id, tuple(sorted(set(topics))), reviewer, utc_now())
        with self._lock:
            self._db.execute(
                "INSERT INTO topic_labels (item_id, topics, reviewer, at) VALUES (?, ?, ?, ?)",
                (item_id, json.dumps(label.topics), reviewer, label.at.isoformat()),
            )
        return label

    def latest(self) -> dict[str, TopicLabel]:
        """Each corrected item's latest label."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, topics, reviewer, at FROM topic_labels ORDER BY seq"
            ).fetchall()
        return {
            item_id: TopicLabel(
                item_id, tuple(json.loads(topics)), reviewer, datetime.fromisoformat(at)
            )
            for item_id, topics, reviewer, at in rows
        }

    def for_item(self, item_id: str) -> TopicLabel | None:
        with self._lock:
            row = self._db.execute(
                "SELECT item_id, topics, reviewer, at FROM topic_labels WHERE item_id = ? "
                "ORDER BY seq DESC LIMIT 1",
                (item_id,),
            ).fetchone()
        if row is None:
            return None
        return TopicLabel(row[0], tuple(json.loads(row[1])), row[2], datetime.fromisoformat(row[3]))

    def close(self) -> None:
        self._db.close()
