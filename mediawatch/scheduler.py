"""APScheduler jobs: the crawl of whichever sources are due, the digest every morning (and
its retry every quarter hour until the mail server accepts it), overdue review alerts every
quarter hour, the watchlists' spike alerts every hour, and the review steps' missing audit
entries and claims every few minutes.

Each kind runs on a pool of its own, so none waits behind another: crawls (long), the digest
and its retry (one at a time, never racing), the alerts (mail, slow when the SMTP server is),
and the reconciler (a locked file, never a slow mail server, delays it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from mediawatch.config import Settings

log = structlog.get_logger("mediawatch.scheduler")

CRAWL_TICK_S = 60
OVERDUE_TICK_MINUTES = 15
DIGEST_RETRY_MINUTES = 15


class Scheduler(BackgroundScheduler):
    """The service's scheduler; ``stop`` waits for the short jobs only."""

    def __init__(self, short: list[str], **options: object) -> None:
        self._short = {alias: ThreadPoolExecutor(max_workers=1) for alias in short}
        executors = {"default": ThreadPoolExecutor(max_workers=2)} | self._short
        super().__init__(executors=executors, **options)

    def stop(self) -> None:
        """Stop starting jobs; let a running digest, alert or reconcile finish (a digest cut
        off is sent again, a reconcile writes into files closed next) but not a crawl, which
        can run for many minutes: Ctrl-C must not hang on it (what it stored stays stored,
        the rest is fetched again next time)."""
        self.shutdown(wait=False)
        for executor in self._short.values():
            executor.shutdown(wait=True)


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
) -> Scheduler:
    """Every minute, the sources due then crawl together: one crawl process, one polite
    engine. Which are due is the crawl state's call (schedules, adaptive intervals)."""
    zone = ZoneInfo(settings.timezone)
    scheduler = Scheduler(
        ["digest", "alerts", "reconcile"],
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
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
    optional_jobs = [
        (
            "digest-retry",
            digest_retry,
            IntervalTrigger(minutes=DIGEST_RETRY_MINUTES, timezone=zone),
            "send digests the mail server has not accepted yet",
            "digest",  # one at a time with the digest: a retry never races the digest itself
        ),
        (
            "overdue",
            overdue,
            IntervalTrigger(minutes=OVERDUE_TICK_MINUTES, timezone=zone),
            "alert newly overdue review items",
            "alerts",
        ),
        (
            "spike-alerts",
            spike_alerts,
            CronTrigger(minute=5, timezone=zone),  # just after each whole hour closes
            "spike alerts for watchlists, hourly",
            "alerts",
        ),
        (
            "review-reconcile",
            reconcile,
            IntervalTrigger(minutes=settings.review.reconcile_minutes, timezone=zone),
            "audit entries and claims of review steps left unwritten",
            "reconcile",
        ),
    ]
    for job_id, job, trigger, name, executor in optional_jobs:
        if job is not None:
            scheduler.add_job(
                _guarded(job_id, job), trigger=trigger, id=job_id, name=name, executor=executor
            )
    return scheduler
