from datetime import datetime
from zoneinfo import ZoneInfo

from mediawatch.model import Source, SourceKind, SourceTier
from mediawatch.scheduler import build_scheduler

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def make_source(source_id: str, schedule: str, enabled: bool = True) -> Source:
    return Source(
        id=source_id,
        name=source_id,
        kind=SourceKind.FEED,
        url=f"https://{source_id}.vn/rss",
        tier=SourceTier.PRESS,
        schedule=schedule,
        enabled=enabled,
    )


def test_sources_sharing_a_schedule_crawl_together_and_the_digest_runs_at_seven(settings):
    sources = [
        make_source("src-a", "every 30m"),
        make_source("src-b", "every 30m"),
        make_source("src-c", "*/20 * * * *"),
        make_source("off", "every 1h", enabled=False),
    ]
    crawled: list[list[str]] = []
    scheduler = build_scheduler(
        settings,
        sources,
        crawl=lambda group: crawled.append([s.id for s in group]),
        digest=lambda: None,
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl:every 30m", "crawl:*/20 * * * *", "digest"}
    morning = jobs["digest"].trigger.get_next_fire_time(
        None, datetime(2026, 11, 26, 7, 30, tzinfo=VIETNAM)
    )
    assert morning == datetime(2026, 11, 27, 7, 0, tzinfo=VIETNAM)
    jobs["crawl:every 30m"].func()
    assert crawled == [["src-a", "src-b"]]


def test_a_failing_job_is_logged_not_raised(settings):
    def broken() -> None:
        raise RuntimeError("SMTP server away")

    scheduler = build_scheduler(settings, [], crawl=lambda group: None, digest=broken)
    scheduler.get_job("digest").func()  # must not raise


def test_crawl_now_starts_the_first_crawl_at_once(settings):
    scheduler = build_scheduler(
        settings,
        [make_source("src-a", "every 2h")],
        crawl=lambda group: None,
        digest=lambda: None,
        crawl_now=True,
    )
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("crawl:every 2h")
        assert (job.next_run_time - datetime.now(VIETNAM)).total_seconds() < 5
    finally:
        scheduler.shutdown(wait=False)
