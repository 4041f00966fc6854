"""APScheduler jobs: the crawl of whichever sources are due, the digest every morning (and
its retry every quarter hour until the mail server accepts it), overdue review alerts every
quarter hour, the watchlists' spike alerts every hour, and the review steps' missing audit
entries and claims every few minutes."""

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
DIGEST_RETRY_MINUTES = 15


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
    digest_retry: Callable[[], object] | None = None,
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
    # On the digest's executor, one at a time: a digest retry never races the digest itself.
    optional_jobs = [
        (
            "digest-retry",
            digest_retry,
            IntervalTrigger(minutes=DIGEST_RETRY_MINUTES, timezone=zone),
            "send digests the mail server has not accepted yet",
        ),
        (
            "overdue",
            overdue,
            IntervalTrigger(minutes=OVERDUE_TICK_MINUTES, timezone=zone),
            "alert newly overdue review items",
        ),
        (
            "spike-alerts",
            spike_alerts,
            CronTrigger(minute=5, timezone=zone),  # just after each whole hour closes
            "spike alerts for watchlists, hourly",
        ),
        (
            "review-reconcile",
            reconcile,
            IntervalTrigger(minutes=settings.review.reconcile_minutes, timezone=zone),
            "audit entries and claims of review steps left unwritten",
        ),
    ]
    for job_id, job, trigger, name in optional_jobs:
        if job is not None:
            scheduler.add_job(
                _guarded(job_id, job), trigger=trigger, id=job_id, name=name, executor="digest"
            )
    return scheduler
