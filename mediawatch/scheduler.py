"""APScheduler jobs: the crawl of whichever sources are due, the digest every morning,
overdue review alerts every quarter hour, the watchlists' spike alerts every hour, and the
review steps' missing audit entries and claims every few minutes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from mediawatch.config import Settings

log = structlog.get_logger("mediawatch.scheduler")

CRAWL_TICK_S = 60
OVERDUE_TICK_MINUTES = 15


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """A failing job is logged and tried again next time; it never stops the scheduler."""

    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("job failed", job=name)

    return run


def build_scheduler(
    settings: Settings,
    crawl_due: Callable[[], object],
    digest: Callable[[], object],
    crawl_now: bool = False,
    overdue: Callable[[], object] | None = None,
    spike_alerts: Callable[[], object] | None = None,
    reconcile: Callable[[], object] | None = None,
) -> BackgroundScheduler:
    """Every minute, the sources due then crawl together: one crawl process, one polite
    engine. Which are due is the crawl state's call (schedules, adaptive intervals)."""
    zone = ZoneInfo(settings.timezone)
    scheduler = BackgroundScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
        executors={
            "default": {"type": "threadpool", "max_workers": 2},
            "digest": {"type": "threadpool", "max_workers": 1},  # never queued behind crawls
        },
    )
    scheduler.add_job(
        _guarded("crawl", crawl_due),
        trigger=IntervalTrigger(seconds=CRAWL_TICK_S, timezone=zone),
        id="crawl",
        name="crawl the sources that are due",
        next_run_time=datetime.now(zone) if crawl_now else None,
    )
    hour, minute = (int(part) for part in settings.digest.send_at.split(":"))
    scheduler.add_job(
        _guarded("digest", digest),
        trigger=CronTrigger(hour=hour, minute=minute, timezone=zone),
        id="digest",
        name=f"digest at {settings.digest.send_at}",
        executor="digest",
        misfire_grace_time=3 * 3600,
    )
    if overdue is not None:
        scheduler.add_job(
            _guarded("overdue", overdue),
            trigger=IntervalTrigger(minutes=OVERDUE_TICK_MINUTES, timezone=zone),
            id="overdue",
            name="alert newly overdue review items",
            executor="digest",
        )
    if spike_alerts is not None:
        scheduler.add_job(
            _guarded("spike-alerts", spike_alerts),
            trigger=CronTrigger(minute=5, timezone=zone),  # just after each whole hour closes
            id="spike-alerts",
            name="spike alerts for watchlists, hourly",
            executor="digest",
        )
    if reconcile is not None:
        scheduler.add_job(
            _guarded("review-reconcile", reconcile),
            trigger=IntervalTrigger(minutes=settings.review.reconcile_minutes, timezone=zone),
            id="review-reconcile",
            name="audit entries and claims of review steps left unwritten",
            executor="digest",
        )
    return scheduler
