"""Trends for analysts: the same buckets, stories and shares from both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from index.query import TrendQuery, shares
from index.spikes import current_spikes
from mediawatch.config import SpikeSettings
from mediawatch.model import Document, Sentiment, SourceTier
from tests.factories import make_document

ZONE = "Asia/Ho_Chi_Minh"
VN = ZoneInfo(ZONE)
DAY = datetime(2026, 11, 20, tzinfo=UTC)


def item(
    n: int,
    at: datetime,
    *,
    topics: tuple[str, ...] = ("land",),
    places: tuple[str, ...] = (),
    tier: SourceTier = SourceTier.PRESS,
    sentiment: Sentiment = Sentiment.NEUTRAL,
    story: str | None = None,
    source: str = "baolamdong",
    title: str | None = None,
) -> Document:
    document = make_document(
        f"https://a.vn/{n}",
        title or f"Tin số {n}",
        f"Nội dung tin số {n} về đất đai ở Đà Lạt",
        topics=topics,
        sentiment=sentiment,
        published_at=at,
        source_id=source,
        tier=tier,
    )
    return document.model_copy(update={"places": list(places), "story_id": story})


@pytest.fixture
def corpus(store):
    documents = [
        # 18:30 UTC on the 20th is 01:30 on the 21st in Vietnam
        item(1, DAY + timedelta(hours=18, minutes=30), places=("da-lat",), story="s1"),
        item(
            2,
            DAY + timedelta(hours=10),
            topics=("land", "tourism"),
            places=("da-lat", "bao-loc"),
            sentiment=Sentiment.NEGATIVE,
            story="s1",
            source="vnexpress",
            title="Đầu tiên",
        ),
        item(
            3,
            DAY + timedelta(hours=10, minutes=20),
            topics=("tourism",),
            tier=SourceTier.SOCIAL,
            sentiment=Sentiment.POSITIVE,
            story="s2",
            source="facebook",
        ),
        item(
            4,
            DAY + timedelta(hours=11),
            topics=(),
            places=("bao-loc",),
            sentiment=Sentiment.NEGATIVE,
            story="s1",
        ),
    ]
    store.upsert(documents)
    return documents


def window(**changes) -> TrendQuery:
    return TrendQuery(since=DAY - timedelta(days=1), until=DAY + timedelta(days=3), **changes)


def counts(store, query):
    return [(b.start, b.key, b.count) for b in store.trend_counts(query, ZONE)]


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VN)


def test_daily_counts_by_topic_fall_on_vietnamese_days(store, corpus):
    assert counts(store, window(dimension="topic")) == [
        (local(2026, 11, 20), "land", 1),
        (local(2026, 11, 20), "tourism", 2),
        (local(2026, 11, 21), "land", 1),
    ]


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("place", [("bao-loc", 2), ("da-lat", 1), ("da-lat", 1)]),
        ("tier", [("press", 2), ("social", 1), ("press", 1)]),
        ("source", [("baolamdong", 1), ("facebook", 1), ("vnexpress", 1), ("baolamdong", 1)]),
        ("sentiment", [("negative", 2), ("positive", 1), ("neutral", 1)]),
    ],
)
def test_every_dimension_gives_the_same_numbers(store, corpus, dimension, expected):
    assert [(key, n) for _, key, n in counts(store, window(dimension=dimension))] == expected


def test_hourly_buckets_start_on_local_hours(store, corpus):
    rows = counts(store, window(interval="hour", dimension="tier"))
    assert rows == [
        (local(2026, 11, 20, 17), "press", 1),
        (local(2026, 11, 20, 17), "social", 1),
        (local(2026, 11, 20, 18), "press", 1),
        (local(2026, 11, 21, 1), "press", 1),
    ]


def test_filters_combine(store, corpus):
    query = window(dimension="sentiment", places=["bao-loc"], tiers=[SourceTier.PRESS])
    assert [(k, n) for _, k, n in counts(store, query)] == [("negative", 2)]
    assert counts(store, window(dimension="topic", source_ids=["facebook"])) == [
        (local(2026, 11, 20), "tourism", 1)
    ]
    assert [k for _, k, _ in counts(store, window(dimension="source", text="số 3"))] == ["facebook"]
    assert counts(store, window(sentiments=[Sentiment.POSITIVE], topics=["land"])) == []


def test_top_stories_and_sentiment_share(store, corpus):
    stories = store.top_stories(window(), limit=5)
    assert [(s.story_id, s.items, s.sources) for s in stories] == [("s1", 3, 2), ("s2", 1, 1)]
    assert stories[0].title == "Đầu tiên"
    assert stories[0].first_seen == DAY + timedelta(hours=10)
    assert stories[0].last_seen == DAY + timedelta(hours=18, minutes=30)
    assert store.top_stories(window(), limit=1)[0].story_id == "s1"
    share = shares(store.trend_counts(window(dimension="sentiment"), ZONE))
    assert [(s.key, s.count, s.fraction) for s in share] == [
        ("negative", 2, 0.5),
        ("neutral", 1, 0.25),
        ("positive", 1, 0.25),
    ]


def test_a_window_with_nothing_is_empty(store, corpus):
    empty = TrendQuery(since=DAY - timedelta(days=9), until=DAY - timedelta(days=8))
    assert store.trend_counts(empty, ZONE) == []
    assert store.top_stories(empty) == []


def test_current_spikes_against_each_keys_own_baseline(store):
    """A topic at one item a day stays quiet; one that jumps from nothing to eight items in
    the last day spikes; five social posts in the last hour spike by the hour as well."""
    now = datetime(2026, 11, 20, 9, 40, tzinfo=UTC)
    documents = [item(day, now - timedelta(days=day, hours=2)) for day in range(1, 15)]
    documents += [
        item(100 + n, now - timedelta(hours=3), topics=("tourism",), places=("bao-loc",))
        for n in range(8)
    ]
    documents += [
        item(200 + n, now - timedelta(minutes=45 + n), topics=("fire",), tier=SourceTier.SOCIAL)
        for n in range(5)
    ]
    store.upsert(documents)
    spikes = current_spikes(store, SpikeSettings(), ZONE, now=now)
    found = {(s.window, s.dimension, s.key, s.count) for s in spikes}
    assert found == {
        ("day", "topic", "tourism", 8),
        ("day", "place", "bao-loc", 8),
        ("day", "topic", "fire", 5),
        ("hour", "topic", "fire", 5),
    }
    assert all(s.window_end == datetime(2026, 11, 20, 9, tzinfo=UTC) for s in spikes)
    scoped = TrendQuery(since=now - timedelta(days=1), until=now, tiers=[SourceTier.PRESS])
    in_press = current_spikes(store, SpikeSettings(), ZONE, scope=scoped, now=now)
    assert {(s.window, s.key) for s in in_press} == {("day", "tourism"), ("day", "bao-loc")}


def test_more_buckets_than_one_aggregation_page_are_all_counted(store):
    """1,100 sources in one hour: Elasticsearch pages its composite aggregation."""
    at = DAY + timedelta(hours=3)
    store.upsert(item(n, at, source=f"nguon-{n:04d}") for n in range(1100))
    buckets = store.trend_counts(window(interval="hour", dimension="source"), ZONE)
    assert len(buckets) == 1100
    assert {b.count for b in buckets} == {1}
    assert [b.key for b in buckets] == sorted(b.key for b in buckets)
