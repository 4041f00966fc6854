import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from mediawatch.scheduler import CRAWL_TICK_S, build_scheduler

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_crawl_ticks_every_minute_and_the_digest_runs_at_seven(settings):
    ticks: list[str] = []
    scheduler = build_scheduler(
        settings, crawl_due=lambda: ticks.append("tick"), digest=lambda: None
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl", "digest"}
    morning = jobs["digest"].trigger.get_next_fire_time(
        None, datetime(2026, 11, 26, 7, 30, tzinfo=VIETNAM)
    )
    assert morning == datetime(2026, 11, 27, 7, 0, tzinfo=VIETNAM)
    assert jobs["crawl"].trigger.interval.total_seconds() == CRAWL_TICK_S
    assert jobs["digest"].executor == "digest"  # never queued behind a long crawl
    jobs["crawl"].func()
    assert ticks == ["tick"]


def test_a_failing_job_is_logged_not_raised(settings):
    def broken() -> None:
        raise RuntimeError("SMTP server away")

    scheduler = build_scheduler(settings, crawl_due=lambda: None, digest=broken)
    scheduler.get_job("digest").func()  # must not raise


def test_crawl_now_starts_the_first_crawl_at_once(settings):
    scheduler = build_scheduler(
        settings, crawl_due=lambda: None, digest=lambda: None, crawl_now=True
    )
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("crawl")
        assert (job.next_run_time - datetime.now(VIETNAM)).total_seconds() < 5
    finally:
        scheduler.shutdown(wait=False)


def test_spike_alerts_run_hourly_just_after_the_hour(settings):
    scheduler = build_scheduler(
        settings, crawl_due=lambda: None, digest=lambda: None, spike_alerts=lambda: None
    )
    job = scheduler.get_job("spike-alerts")
    after = datetime(2026, 11, 20, 9, 40, tzinfo=VIETNAM)
    assert job.trigger.get_next_fire_time(None, after) == datetime(
        2026, 11, 20, 10, 5, tzinfo=VIETNAM
    )
    assert job.executor == "alerts"  # mail: never ahead of the reconciler or behind a crawl


def test_review_steps_are_reconciled_every_few_minutes(settings):
    settings.review.reconcile_minutes = 7
    ran: list[str] = []
    scheduler = build_scheduler(
        settings, crawl_due=lambda: None, digest=lambda: None, reconcile=lambda: ran.append("x")
    )
    job = scheduler.get_job("review-reconcile")
    assert job.trigger.interval.total_seconds() == 7 * 60
    job.func()
    assert ran == ["x"]


def test_a_digest_stuck_on_a_slow_mail_server_does_not_hold_up_the_reconciler(settings):
    settings.review.reconcile_minutes = 0.01  # 0.6 s
    mail_answers, reconciled = threading.Event(), threading.Event()
    scheduler = build_scheduler(
        settings,
        crawl_due=lambda: None,
        digest=lambda: mail_answers.wait(60),
        digest_retry=lambda: None,
        overdue=lambda: mail_answers.wait(60),
        spike_alerts=lambda: None,
        reconcile=reconciled.set,
    )
    jobs = {job.id: job.executor for job in scheduler.get_jobs()}
    assert jobs["digest-retry"] == jobs["digest"]  # a retry never races the digest itself
    scheduler.start()
    try:
        now = datetime.now(VIETNAM)
        scheduler.modify_job("digest", next_run_time=now)
        scheduler.modify_job("overdue", next_run_time=now)
        assert reconciled.wait(10)
    finally:
        mail_answers.set()
        scheduler.stop()
