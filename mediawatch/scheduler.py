"""APScheduler jobs: each group of sources on its schedule, the digest every morning."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from mediawatch.config import Settings
from mediawatch.model import Source
from mediawatch.schedule import parse_schedule

log = structlog.get_logger("mediawatch.scheduler")


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
    sources: list[Source],
    crawl: Callable[[list[Source]], object],
    digest: Callable[[], object],
    crawl_now: bool = False,
) -> BackgroundScheduler:
    """Sources sharing a schedule crawl together: one crawl process, one polite engine."""
    zone = ZoneInfo(settings.timezone)
    scheduler = BackgroundScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
        executors={
            "default": {"type": "threadpool", "max_workers": 2},
            "digest": {"type": "threadpool", "max_workers": 1},  # never queued behind crawls
        },
    )
    groups: dict[str, list[Source]] = defaultdict(list)
    for source in sources:
        if source.enabled:
            groups[source.schedule].append(source)
    for schedule, group in groups.items():
        scheduler.add_job(
            _guarded(f"crawl {schedule}", lambda group=group: crawl(group)),
            trigger=parse_schedule(schedule, settings.timezone),
            id=f"crawl:{schedule}",
            name=f"crawl {len(group)} source(s) {schedule}",
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
    return scheduler
