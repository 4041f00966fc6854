"""Overdue alerts: every quarter hour, the items newly past their target time, by email.

Each item is announced once per state and deadline (a small SQLite table remembers what was
sent), so a long-overdue item does not fill inboxes every fifteen minutes; an item that moves
on and falls behind again is announced again.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import structlog

from index.query import MAX_OFFSET, MAX_PAGE, QueueQuery
from index.store import Store
from index.workflow import effective_due
from mediawatch.config import Settings
from mediawatch.digest import email_environment, send_email
from mediawatch.model import Document, ReviewState, utc_now
from mediawatch.sqlite_files import check

log = structlog.get_logger("mediawatch.overdue")

# The states with a target time (closed states have none).
TIMED_STATES = [ReviewState.NEW, ReviewState.IN_REVIEW, ReviewState.ESCALATED]


class SentAlerts:
    """What was already announced: (item, state, deadline)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        check(path)
        with closing(sqlite3.connect(path)) as connection, connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS overdue_sent (item_id TEXT NOT NULL, "
                "state TEXT NOT NULL, due_at TEXT NOT NULL, sent_at TEXT NOT NULL, "
                "PRIMARY KEY (item_id, state, due_at))"
            )

    @staticmethod
    def _key(document: Document, due: datetime) -> tuple[str, str, str]:
        return document.id, document.review.state.value, due.isoformat()

    def unsent(self, documents: list[tuple[Document, datetime]]) -> list[tuple[Document, datetime]]:
        with closing(sqlite3.connect(self.path)) as connection:
            sent = {
                tuple(row)
                for row in connection.execute("SELECT item_id, state, due_at FROM overdue_sent")
            }
        return [(d, due) for d, due in documents if self._key(d, due) not in sent]

    def mark(self, documents: list[tuple[Document, datetime]], now: datetime) -> None:
        with closing(sqlite3.connect(self.path)) as connection, connection:
            connection.executemany(
                "INSERT OR IGNORE INTO overdue_sent (item_id, state, due_at, sent_at) "
                "VALUES (?, ?, ?, ?)",
                [(*self._key(d, due), now.isoformat()) for d, due in documents],
            )


def overdue_items(
    store: Store, settings: Settings, now: datetime
) -> list[tuple[Document, datetime]]:
    """Every queue item past its target time, with that time."""
    found = []
    offset = 0
    while offset <= MAX_OFFSET:
        query = QueueQuery(
            threshold=settings.review_threshold,
            states=TIMED_STATES,
            overdue=True,
            limit=MAX_PAGE,
            offset=offset,
        )
        page = store.review_queue(query, now, settings.review)
        for hit in page.hits:
            due = effective_due(hit.document, settings.review)
            if due is not None:
                found.append((hit.document, due))
        offset += MAX_PAGE
        if offset >= page.total:
            break
    return found


def render_alert(items: list[tuple[Document, datetime]], settings: Settings) -> EmailMessage:
    environment = email_environment(settings.timezone)
    message = EmailMessage()
    message["Subject"] = f"[mediawatch] {len(items)} tin quá hạn xử lý"
    message["From"] = settings.digest.sender
    message["To"] = ", ".join(recipients(settings))
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = make_msgid(domain="mediawatch")
    context = {"items": items, "base_url": settings.base_url}
    message.set_content(environment.get_template("overdue.txt.j2").render(context))
    return message


def recipients(settings: Settings) -> list[str]:
    return settings.review.alert_recipients or settings.digest.recipients


def alert_overdue(store: Store, settings: Settings, now: datetime | None = None) -> int:
    """Email the items newly overdue; returns how many were announced."""
    moment = now or utc_now()
    alerts = SentAlerts(settings.alerts_path)
    fresh = alerts.unsent(overdue_items(store, settings, moment))
    if not fresh:
        return 0
    if not recipients(settings):
        log.warning("overdue items but nobody to tell", items=len(fresh))
        return 0
    send_email(render_alert(fresh, settings), settings.smtp)
    alerts.mark(fresh, moment)  # only once sent: a failed send is tried again next time
    log.info("overdue alert sent", items=len(fresh))
    return len(fresh)
