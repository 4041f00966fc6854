"""The morning digest: yesterday in numbers and what awaits review, by email."""

from __future__ import annotations

import os
import smtplib
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path

import structlog
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dashboards import TEMPLATES_DIR
from dashboards.formatting import install_filters
from index.query import QueueQuery, QueueStats, SearchPage, SearchQuery
from index.store import Store
from mediawatch.clock import day_bounds
from mediawatch.config import Settings, SmtpSettings
from mediawatch.model import utc_now

log = structlog.get_logger("mediawatch.digest")
TOP_TOPICS = 5
CLAIM_TIMEOUT_FLOOR_S = 30 * 60.0


@dataclass(frozen=True)
class Digest:
    day: date
    total: int
    flagged: int
    top_topics: list[tuple[str, int]]
    sentiments: dict[str, int]
    awaiting: SearchPage
    queue: QueueStats  # what is overdue, per state
    base_url: str


def build_digest(
    store: Store, settings: Settings, topic_labels: dict[str, str], now: datetime | None = None
) -> Digest:
    """Summarise the previous calendar day in the display time zone."""
    since, until = day_bounds(now, settings.timezone)
    trends = store.trends(since, until, settings.timezone)
    topics: Counter[str] = Counter()
    for row in trends.by_topic:
        topics[topic_labels.get(row.key, row.key)] += row.count
    sentiments: Counter[str] = Counter()
    for row in trends.by_sentiment:
        sentiments[row.key] += row.count
    moment = now or utc_now()
    flagged = store.search(
        SearchQuery(since=since, until=until, min_risk=settings.review_threshold, limit=1)
    ).total
    return Digest(
        day=since.date(),
        total=sum(row.count for row in trends.total_per_day),
        flagged=flagged,
        top_topics=topics.most_common(TOP_TOPICS),
        sentiments=dict(sentiments),
        awaiting=store.review_queue(
            QueueQuery(threshold=settings.review_threshold, limit=settings.digest.max_queue_items),
            moment,
            settings.review,
        ),
        queue=store.queue_stats(settings.review_threshold, moment, settings.review),
        base_url=settings.base_url,
    )


def email_environment(timezone: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "email"),
        autoescape=select_autoescape(["html", "html.j2"]),
    )
    install_filters(environment, timezone)
    return environment


def render_digest(digest: Digest, settings: Settings) -> EmailMessage:
    """A multipart email: plain text for every client, HTML for those that show it."""
    environment = email_environment(settings.timezone)
    context = {"digest": digest}
    message = EmailMessage()
    message["Subject"] = (
        f"[mediawatch] Bản tin ngày {digest.day:%d/%m/%Y}: {digest.total} tin, "
        f"{digest.awaiting.total} tin chờ xem xét"
    )
    message["From"] = settings.digest.sender
    message["To"] = ", ".join(settings.digest.recipients) or "undisclosed-recipients:;"
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = make_msgid(domain="mediawatch")
    message.set_content(environment.get_template("digest.txt.j2").render(context))
    message.add_alternative(
        environment.get_template("digest.html.j2").render(context), subtype="html"
    )
    return message


def send_email(message: EmailMessage, smtp: SmtpSettings) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username and smtp.password:
            client.login(smtp.username, smtp.password.get_secret_value())
        client.send_message(message)


def _outbox(settings: Settings) -> tuple[Path, Path, Path, Path]:
    """``outbox/`` keeps digests nobody is set to receive; ``pending/`` those not yet accepted
    by the mail server; ``sending/`` those a process has claimed and is sending now; ``sent/``
    those the server accepted (a day there is never sent again)."""
    outbox = settings.data_dir / "outbox"
    return outbox, outbox / "pending", outbox / "sending", outbox / "sent"


def _claim_timeout_s(smtp: SmtpSettings) -> float:
    """How long a claimed digest may stay in ``sending/`` before it counts as left behind by
    a process that died mid-send: far longer than one send (connect, TLS, login, data are
    each bounded by the SMTP timeout), so a live sender is never overtaken."""
    return max(CLAIM_TIMEOUT_FLOOR_S, 10 * smtp.timeout_s)


def deliver_digest(
    store: Store, settings: Settings, topic_labels: dict[str, str], now: datetime | None = None
) -> Path:
    """Write the day's digest to the outbox first, then send it: a failed send leaves it in
    ``pending/`` for :func:`send_pending` to retry, so the day's digest is never lost, and a day
    already sent (or already written) is not built again. Without recipients it is kept in
    the outbox, not sent. Returns where the day's digest now lies."""
    outbox, pending, sending, sent = _outbox(settings)
    name = f"digest-{day_bounds(now, settings.timezone)[0]:%Y-%m-%d}.eml"
    for done in (sent / name, sending / name):
        if done.exists():
            log.info("digest already sent or being sent", path=str(done))
            return done
    folder = pending if settings.digest.recipients else outbox
    path = folder / name
    if not path.exists():
        message = render_digest(build_digest(store, settings, topic_labels, now), settings)
        message.replace_header("Message-ID", f"<{path.stem}@mediawatch>")  # stable: one per day
        folder.mkdir(parents=True, exist_ok=True)
        written = path.with_suffix(".tmp")
        written.write_bytes(bytes(message))
        written.replace(path)  # a crash never leaves half a message to be sent
    if not settings.digest.recipients:
        log.warning("digest has no recipients; saved instead", path=str(path))
        return path
    send_pending(settings)
    return next((p for p in (sent / name, sending / name) if p.exists()), path)


def send_pending(settings: Settings) -> list[Path]:
    """Send every digest still waiting in ``pending/``, oldest first. Each one is first claimed
    by an atomic rename into ``sending/``: of two senders (``digest --send`` and the worker's
    retry, or two replicas) only the one whose rename succeeds sends it, so it goes out once.
    Accepted by the server it moves to ``sent/``; a failure puts it back in ``pending/`` for the
    next try. Returns the files sent."""
    _outbox_dir, pending, sending, sent = _outbox(settings)
    if not settings.digest.recipients:
        return []
    _take_back_abandoned(sending, pending, _claim_timeout_s(settings.smtp))
    if not pending.is_dir():
        return []
    done = []
    for path in sorted(pending.glob("digest-*.eml")):
        claimed = _claim(path, sending)
        if claimed is None:
            continue
        message = message_from_bytes(claimed.read_bytes(), policy=default)
        try:
            send_email(message, settings.smtp)
        except (OSError, smtplib.SMTPException) as error:
            claimed.replace(path)
            log.warning("digest not sent; kept to retry", path=str(path), error=str(error))
            continue
        sent.mkdir(parents=True, exist_ok=True)
        claimed.replace(sent / path.name)
        log.info("digest sent", path=str(sent / path.name), recipients=message["To"])
        done.append(sent / path.name)
    return done


def _claim(path: Path, sending: Path) -> Path | None:
    """Move ``path`` into ``sending/``, or None when another process got there first. Its
    time is set to now before the move, so the claim's age is how long it has been sending."""
    sending.mkdir(parents=True, exist_ok=True)
    claimed = sending / path.name
    try:
        os.utime(path)
        path.rename(claimed)  # atomic on one file system: exactly one claimant succeeds
    except FileNotFoundError:
        log.info("digest claimed by another process", path=str(path))
        return None
    return claimed


def _take_back_abandoned(sending: Path, pending: Path, timeout_s: float) -> None:
    """Return to ``pending/`` the digests a crashed process claimed and never finished."""
    if not sending.is_dir():
        return
    for path in sending.glob("digest-*.eml"):
        try:
            age_s = time.time() - path.stat().st_mtime
            if age_s > timeout_s:
                pending.mkdir(parents=True, exist_ok=True)
                path.rename(pending / path.name)
                log.warning("digest claim abandoned; sending again", path=str(path), age_s=age_s)
        except FileNotFoundError:
            continue  # sent or taken back by another process meanwhile
