"""The morning digest: yesterday in numbers and what awaits review, by email."""

from __future__ import annotations

import smtplib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
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


def deliver_digest(store: Store, settings: Settings, topic_labels: dict[str, str]) -> Path | None:
    """Send the digest, or keep it in the outbox when nobody is set to receive it."""
    message = render_digest(build_digest(store, settings, topic_labels), settings)
    if settings.digest.recipients:
        send_email(message, settings.smtp)
        log.info("digest sent", recipients=len(settings.digest.recipients))
        return None
    outbox = settings.data_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"digest-{utc_now():%Y%m%dT%H%M%SZ}.eml"
    path.write_bytes(bytes(message))
    log.warning("digest has no recipients; saved instead", path=str(path))
    return path
