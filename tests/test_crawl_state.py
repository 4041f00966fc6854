"""Crawl state: conditional-GET validators, adaptive intervals and failures survive restarts."""

from datetime import UTC, datetime, timedelta

import pytest

from crawlers.events import FailureEvent, SourceDoneEvent
from crawlers.polling import PollOutcome, next_interval
from crawlers.state import CrawlState
from mediawatch.model import PollBounds, Source, SourceKind, SourceTier

NOON = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 12:00 in Vietnam


def make_source(source_id: str = "src", schedule: str = "every 30m", **extra) -> Source:
    return Source(
        id=source_id,
        name=source_id,
        kind=SourceKind.FEED,
        url=f"https://{source_id}.vn/rss",
        tier=SourceTier.PRESS,
        schedule=schedule,
        **extra,
    )


def done(source_id: str = "src", entries: int = 10, known: int = 0, **extra) -> SourceDoneEvent:
    return SourceDoneEvent(source_id=source_id, entries=entries, skipped_known=known, **extra)


def test_a_source_whose_entries_are_mostly_new_is_read_sooner_down_to_its_floor():
    source = make_source(poll=PollBounds(floor_minutes=10, ceiling_minutes=240))
    interval = None
    seen = []
    for _ in range(4):
        interval = next_interval(source, interval, PollOutcome(entries=20, new_entries=18))
        seen.append(interval)
    assert seen == [
        timedelta(minutes=15),
        timedelta(minutes=10),
        timedelta(minutes=10),
        timedelta(minutes=10),
    ]


def test_a_quiet_source_slows_down_to_its_ceiling_and_failures_back_off_faster():
    source = make_source(poll=PollBounds(floor_minutes=10, ceiling_minutes=120))
    quiet = next_interval(source, None, PollOutcome(entries=20, new_entries=1))
    assert quiet == timedelta(minutes=45)
    unchanged = next_interval(source, quiet, PollOutcome(not_modified=True))
    assert unchanged == timedelta(minutes=67.5)
    assert next_interval(source, unchanged, PollOutcome(failed=True)) == timedelta(minutes=120)
    steady = next_interval(source, quiet, PollOutcome(entries=10, new_entries=3))
    assert steady == quiet


def test_a_schedule_outside_the_bounds_widens_them_instead_of_being_overruled():
    source = make_source(
        schedule="every 12h", poll=PollBounds(floor_minutes=10, ceiling_minutes=60)
    )
    assert next_interval(source, None, PollOutcome(not_modified=True)) == timedelta(hours=12)


def test_crontab_sources_do_not_adapt():
    with pytest.raises(ValueError, match="crontab"):
        next_interval(make_source(schedule="0 7 * * *"), None, PollOutcome())


def test_validators_due_times_and_failures_survive_a_restart(tmp_path):
    path = tmp_path / "state.db"
    busy, broken, fixed = (
        make_source("busy"),
        make_source("broken"),
        make_source("fixed", schedule="0 7 * * *"),
    )
    state = CrawlState(path)
    assert state.due([busy, broken, fixed], NOON) == [busy, broken, fixed]  # never read
    state.record(
        [busy, broken, fixed],
        NOON,
        done={
            "busy": done("busy", entries=20, known=2, etag='"v1"', last_modified="Thu, 26 Nov"),
            "fixed": done("fixed", entries=5, known=5),
        },
        failures=[
            FailureEvent(source_id="broken", url="u", stage="feed", reason="http_503"),
            FailureEvent(source_id="busy", url="u2", stage="article", reason="bot_challenge"),
        ],
    )

    reopened = CrawlState(path)
    validators = reopened.validators(["busy", "broken", "fixed"])
    assert set(validators) == {"busy"}
    assert validators["busy"].etag == '"v1"'
    assert validators["busy"].last_modified == "Thu, 26 Nov"
    states = reopened.states()
    assert states["busy"].next_due_at == NOON + timedelta(minutes=15)  # mostly new: sooner
    assert states["broken"].next_due_at == NOON + timedelta(minutes=60)  # failed: backs off
    assert states["broken"].last_error_cause == "http_503"
    assert states["broken"].consecutive_failures == 1
    assert states["busy"].last_success_at == NOON
    # 07:00 the next morning in Vietnam is 00:00 UTC
    assert states["fixed"].next_due_at == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert reopened.due([busy, broken, fixed], NOON + timedelta(minutes=20)) == [busy]
    assert reopened.failure_counts(NOON - timedelta(days=1)) == {
        "broken": {"feed:http_503": 1},
        "busy": {"article:bot_challenge": 1},
    }


def test_a_not_modified_answer_keeps_the_validators_and_a_silent_source_is_a_failure(tmp_path):
    state = CrawlState(tmp_path / "state.db")
    source, silent = make_source("src"), make_source("silent")
    state.record([source], NOON, done={"src": done(etag='"v1"')}, failures=[])
    later = NOON + timedelta(hours=1)
    state.record(
        [source, silent],
        later,
        done={"src": done(entries=0, not_modified=True)},
        failures=[],
        no_answer_cause="crawl_crashed",
    )
    assert state.validators(["src"])["src"].etag == '"v1"'
    states = state.states()
    assert states["src"].last_success_at == later
    assert states["silent"].last_error_cause == "crawl_crashed"
    assert state.failure_counts(NOON) == {"silent": {"feed:crawl_crashed": 1}}


def test_disabled_sources_are_never_due(tmp_path):
    state = CrawlState(tmp_path / "state.db")
    assert state.due([make_source("off", enabled=False)], NOON) == []


def test_a_source_read_whole_but_for_a_later_page_is_not_a_failed_read(tmp_path):
    state = CrawlState(tmp_path / "state.db")
    listing = make_source("listing")
    state.record(
        [listing],
        NOON,
        done={"listing": done("listing", entries=10, known=0, etag='"v2"')},
        failures=[FailureEvent(source_id="listing", url="p2", stage="feed", reason="http_404")],
    )
    known = state.states()["listing"]
    assert known.consecutive_failures == 0 and known.last_success_at == NOON
    assert known.last_error_cause == "http_404"  # still shown, and counted by cause
    assert known.next_due_at == NOON + timedelta(minutes=15)  # polled as the read went
    assert state.validators(["listing"])["listing"].etag == '"v2"'
    assert state.failure_counts(NOON) == {"listing": {"feed:http_404": 1}}
