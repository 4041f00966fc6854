"""The hourly spike alerts: each watchlist's owner hears once about each spike in its scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

import structlog

from api.security import ROLE_PERMISSIONS, Permission
from classifier.taxonomy import Taxonomy
from index.query import TrendQuery
from index.spikes import SpikeReport, current_spikes
from index.store import Store
from mediawatch.accounts import Accounts
from mediawatch.config import Settings
from mediawatch.digest import send_email
from mediawatch.gazetteer import packaged_gazetteer
from mediawatch.model import utc_now
from mediawatch.watchlists import Watchlist, Watchlists

log = structlog.get_logger("mediawatch.alerts")
WINDOW_VI = {"day": "24 giờ qua", "hour": "1 giờ qua (mạng xã hội)"}
DIMENSION_VI = {"topic": "Chủ đề", "place": "Địa bàn"}


def spike_id(report: SpikeReport, timezone: str) -> str:
    """One alert per key, window kind and local day: a spike that lasts all afternoon is
    one email, not one an hour."""
    day = report.window_end.astimezone(ZoneInfo(timezone)).date()
    return f"{report.window}:{report.dimension}:{report.key}:{day.isoformat()}"


def scope(watchlist: Watchlist, now: datetime) -> TrendQuery:
    """The watchlist's filters as a query (current_spikes chooses the windows itself)."""
    return TrendQuery(
        since=now - timedelta(days=1),
        until=now,
        topics=watchlist.topics,
        places=watchlist.places,
        tiers=watchlist.tiers,
        text=watchlist.text,
    )


def followed(watchlist: Watchlist, spike: SpikeReport) -> bool:
    """A spike the watchlist names, or any of its kind when it names none: a list about land
    hears about land, not about the tourism stories that share some of its items."""
    named = watchlist.topics if spike.dimension == "topic" else watchlist.places
    return not named or spike.key in named


def spike_label(spike: SpikeReport, topic_labels: dict[str, str]) -> str:
    """The name people use: "Đất đai", "thành phố Bảo Lộc"; an unknown id as it is."""
    if spike.dimension == "topic":
        return topic_labels.get(spike.key, spike.key)
    place = packaged_gazetteer().places.get(spike.key)
    return f"{place.type} {place.name}" if place else spike.key


def render_alert(
    watchlist: Watchlist,
    spikes: list[SpikeReport],
    settings: Settings,
    topic_labels: dict[str, str],
) -> EmailMessage:
    zone = ZoneInfo(settings.timezone)
    lines = [
        f"Danh sách theo dõi «{watchlist.name}» có {len(spikes)} đột biến mới:",
        "",
    ]
    for spike in spikes:
        lines.append(
            f"- {DIMENSION_VI[spike.dimension]} {spike_label(spike, topic_labels)}: "
            f"{spike.count} tin trong "
            f"{WINDOW_VI[spike.window]} (thường {spike.baseline:.1f}; gấp {spike.ratio:.1f} lần), "
            f"đến {spike.window_end.astimezone(zone):%H:%M %d/%m/%Y}"
        )
    lines += ["", f"Xem xu hướng: {settings.base_url}/trends"]
    message = EmailMessage()
    message["Subject"] = f"[mediawatch] Đột biến trong «{watchlist.name}»: " + ", ".join(
        spike_label(spike, topic_labels) for spike in spikes
    )
    message["From"] = settings.digest.sender
    message["To"] = watchlist.notify_email or ""
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = make_msgid(domain="mediawatch")
    message.set_content("\n".join(lines))
    return message


def may_receive(accounts: Accounts, owner: str) -> bool:
    """Alerts go only to people who could still open the watchlist: a disabled account, or a
    role without watchlists, hears nothing more."""
    user = accounts.active(owner)
    return user is not None and Permission.WATCHLISTS in ROLE_PERMISSIONS[user.role]


def send_spike_alerts(
    store: Store, settings: Settings, watchlists: Watchlists, now: datetime | None = None
) -> int:
    """Compute the spikes within each watchlist that has an address and an owner still allowed
    watchlists, and email the new ones; returns how many emails went out. A failed send (or a
    message that cannot be written) is forgotten so the next run retries, and the run goes on
    with the next watchlist."""
    now = now or utc_now()
    topic_labels = Taxonomy.load().labels_vi
    accounts = Accounts.from_settings(settings)
    sent = 0
    for watchlist in watchlists.list():
        if not watchlist.notify_email:
            continue
        if not may_receive(accounts, watchlist.owner):
            log.info("spike alert skipped: owner may not receive it", watchlist=watchlist.id)
            continue
        found = current_spikes(
            store, settings.spikes, settings.timezone, scope=scope(watchlist, now), now=now
        )
        keyed = [(s, spike_id(s, settings.timezone)) for s in found if followed(watchlist, s)]
        fresh = [
            (spike, key) for spike, key in keyed if watchlists.first_alert(watchlist.id, key, now)
        ]
        if not fresh:
            continue
        try:
            message = render_alert(watchlist, [s for s, _ in fresh], settings, topic_labels)
            send_email(message, settings.smtp)
        except (OSError, ValueError):  # SMTP down, or a name no email header can carry
            log.exception("spike alert not sent", watchlist=watchlist.id)
            for _, key in fresh:
                watchlists.forget_alert(watchlist.id, key)
            continue
        sent += 1
        log.info("spike alert sent", watchlist=watchlist.id, spikes=len(fresh))
    return sent
