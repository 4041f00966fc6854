from datetime import UTC, date, datetime, timedelta

import pytest

from index.query import QueueQuery, SearchQuery
from index.store import InvalidCursor
from mediawatch.config import ReviewSettings
from mediawatch.model import ReviewOutcome, ReviewState, Sentiment
from tests.conftest import API_TOKEN, LiveServer
from tests.factories import decide, make_document

NOW = datetime.now(UTC).replace(microsecond=0)
RULES = ReviewSettings()


@pytest.fixture
def items():
    return [
        make_document(
            "https://a.vn/1",
            "Thu hồi đất ở Lạc Dương",
            "Người dân xã Lạc Dương lo thu hồi đất đai.",
            risk=0.9,
            topics=("land",),
            sentiment=Sentiment.NEGATIVE,
            published_at=NOW - timedelta(hours=1),
        ),
        make_document(
            "https://a.vn/2",
            "Giá cà phê tăng",
            "Giá cà phê Di Linh tăng kỷ lục, nông dân phấn khởi.",
            risk=0.2,
            topics=("agriculture",),
            sentiment=Sentiment.POSITIVE,
            published_at=NOW - timedelta(hours=2),
            source_id="other-source",
        ),
        make_document(
            "https://a.vn/3",
            "Quy hoạch đất đai Đà Lạt",
            "Công bố quy hoạch sử dụng đất đai mới.",
            risk=0.6,
            topics=("land", "planning_construction"),
            published_at=NOW - timedelta(days=3),
        ),
    ]


def test_upsert_is_idempotent_and_counts_what_changed(store, items):
    first = store.upsert(items)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    again = store.upsert(items)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    edited = items[0].model_copy(update={"title": "Thu hồi đất ở Lạc Dương (cập nhật)"})
    third = store.upsert([edited])
    assert (third.inserted, third.updated) == (0, 1)
    assert store.search(SearchQuery()).total == 3
    assert store.get(items[0].id).title.endswith("(cập nhật)")


def test_recrawl_keeps_the_review_decision(store, items):
    store.upsert(items)
    decide(store, items[0].id, ReviewOutcome.FALSE, "reviewer1")
    store.upsert([items[0].model_copy(update={"text": items[0].text + " Thêm một câu."})])
    kept = store.get(items[0].id)
    assert kept.review.state is ReviewState.DECIDED
    assert kept.review.outcome is ReviewOutcome.FALSE
    # The judged text stays; the re-crawled one waits beside it for the reviewers.
    assert kept.text == items[0].text
    assert kept.content_versions[-1].changes[0].after.endswith("Thêm một câu.")


def test_search_without_diacritics_finds_accented_text_and_highlights_the_original(store, items):
    store.upsert(items)
    page = store.search(SearchQuery(text="dat dai", sort="relevance"))
    assert {hit.document.id for hit in page.hits} == {items[0].id, items[2].id}
    assert page.total == 2
    assert any("<mark>đất đai</mark>" in hit.snippet for hit in page.hits)


def test_search_quoted_phrase_and_operators_are_safe(store, items):
    store.upsert(items)
    assert store.search(SearchQuery(text='"lac duong"')).total == 1
    assert store.search(SearchQuery(text='NEAR( OR * " ) -')).total == 0


def test_filters_combine_and_totals_match_the_lists(store, items):
    store.upsert(items)
    cases = [
        (SearchQuery(topics=["land"]), {items[0].id, items[2].id}),
        (SearchQuery(sentiments=[Sentiment.POSITIVE]), {items[1].id}),
        (SearchQuery(source_ids=["other-source"]), {items[1].id}),
        (SearchQuery(min_risk=0.5), {items[0].id, items[2].id}),
        (SearchQuery(since=NOW - timedelta(days=1)), {items[0].id, items[1].id}),
        (SearchQuery(topics=["land"], min_risk=0.7, text="lac duong"), {items[0].id}),
    ]
    for query, expected in cases:
        page = store.search(query)
        assert {hit.document.id for hit in page.hits} == expected, query
        assert page.total == len(expected), query


def test_sorting_and_paging(store, items):
    store.upsert(items)
    by_risk = store.search(SearchQuery(sort="risk"))
    assert [h.document.id for h in by_risk.hits] == [items[0].id, items[2].id, items[1].id]
    newest = store.search(SearchQuery(sort="newest", limit=2, offset=1))
    assert [h.document.id for h in newest.hits] == [items[1].id, items[2].id]
    assert newest.total == 3


def test_trends_count_per_vietnamese_calendar_day(store):
    late_evening_utc = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)  # 01:30 on the 21st in Vietnam
    store.upsert(
        [
            make_document(
                "https://a.vn/x",
                "Tin một",
                "Nội dung",
                topics=("land",),
                published_at=late_evening_utc,
            ),
            make_document(
                "https://a.vn/y",
                "Tin hai",
                "Nội dung khác",
                topics=("land", "tourism"),
                sentiment=Sentiment.POSITIVE,
                published_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
            ),
        ]
    )
    trends = store.trends(
        datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC), "Asia/Ho_Chi_Minh"
    )
    totals = {(r.day, r.count) for r in trends.total_per_day}
    assert totals == {(date(2026, 11, 20), 1), (date(2026, 11, 21), 1)}
    topics = {(r.day, r.key, r.count) for r in trends.by_topic}
    assert topics == {
        (date(2026, 11, 20), "land", 1),
        (date(2026, 11, 20), "tourism", 1),
        (date(2026, 11, 21), "land", 1),
    }
    assert {(r.day, r.key) for r in trends.by_sentiment} == {
        (date(2026, 11, 20), "positive"),
        (date(2026, 11, 21), "neutral"),
    }


def test_source_day_counts_follow_collection_time_per_vietnamese_day(store):
    def collected(url: str, source_id: str, at: datetime):
        document = make_document(url, "Tin", f"Nội dung {url}", source_id=source_id)
        return document.model_copy(update={"fetched_at": at})

    store.upsert(
        [
            collected("https://a.vn/1", "a", datetime(2026, 11, 20, 18, 30, tzinfo=UTC)),
            collected("https://a.vn/2", "a", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
            collected("https://b.vn/1", "b", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
            collected("https://b.vn/old", "b", datetime(2026, 10, 1, tzinfo=UTC)),
        ]
    )
    counts = store.source_day_counts(
        datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC), "Asia/Ho_Chi_Minh"
    )
    assert {(c.day, c.key, c.count) for c in counts} == {
        (date(2026, 11, 20), "a", 1),
        (date(2026, 11, 21), "a", 1),
        (date(2026, 11, 20), "b", 1),
    }


def test_places_story_and_date_source_are_kept(store):
    document = make_document("https://a.vn/p", "Đà Lạt", "Tin về Đà Lạt và Bảo Lộc").model_copy(
        update={"places": ["da-lat", "bao-loc"], "story_id": "story:1", "date_source": "json-ld"}
    )
    store.upsert([document])
    kept = store.get(document.id)
    assert (kept.places, kept.story_id, kept.date_source) == (
        ["da-lat", "bao-loc"],
        "story:1",
        "json-ld",
    )


def test_review_queue_holds_undecided_risky_originals_riskiest_first(store, items):
    copy = make_document("https://copy.vn/1", items[0].title, items[0].text, risk=0.95)
    copy = copy.model_copy(update={"duplicate_of": items[0].id})
    store.upsert([*items, copy])
    queue = store.review_queue(QueueQuery(threshold=0.5), NOW, RULES)
    assert [h.document.id for h in queue.hits] == [items[0].id, items[2].id]
    assert queue.total == 2
    decide(store, items[0].id, ReviewOutcome.FALSE, "reviewer1")
    assert [h.document.id for h in store.review_queue(QueueQuery(), NOW, RULES).hits] == [
        items[2].id
    ]


def test_decided_items_are_found_by_their_outcome(store, items):
    store.upsert(items)
    decide(store, items[0].id, ReviewOutcome.FALSE, "reviewer1")
    decide(store, items[1].id, ReviewOutcome.ACCURATE, "reviewer1")
    decide(store, items[2].id, ReviewOutcome.MISLEADING, "r2")
    judged = store.search(
        SearchQuery(review_outcomes=[ReviewOutcome.FALSE, ReviewOutcome.MISLEADING], limit=10)
    )
    assert {h.document.id for h in judged.hits} == {items[0].id, items[2].id}
    assert judged.total == 2
    accurate = store.search(SearchQuery(review_outcomes=[ReviewOutcome.ACCURATE]))
    assert [h.document.id for h in accurate.hits] == [items[1].id]


def test_content_hash_and_known_ids(store, items):
    store.upsert(items)
    assert store.find_by_content_hash(items[1].content_hash) == items[1].id
    assert store.find_by_content_hash("0" * 64) is None
    assert store.known_ids(["other-source"], NOW - timedelta(days=1)) == {items[1].id}
    assert store.known_ids([], NOW) == set()


def test_the_original_of_copies_stored_in_one_second_stays_the_original(store):
    same_second = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    first = make_document("https://z.vn/original", "Tin", "Cùng một nội dung tin đồn")
    copy = make_document("https://a.vn/copy", "Tin", "Cùng một nội dung tin đồn")
    assert copy.id < first.id  # the copy would win on id alone
    store.upsert(
        [
            first.model_copy(update={"fetched_at": same_second}),
            copy.model_copy(update={"fetched_at": same_second, "duplicate_of": first.id}),
        ]
    )
    assert store.find_by_content_hash(first.content_hash) == first.id


def test_items_with_only_their_feed_summary_are_fetched_again(store, items):
    summary_only = items[1].model_copy(update={"extractor": "feed-summary"})
    store.upsert([items[0], summary_only])
    assert store.known_ids(["test-source", "other-source"], NOW - timedelta(days=1)) == {
        items[0].id
    }


def test_decomposed_unicode_queries_find_the_same_items(store, items):
    import unicodedata

    store.upsert(items)
    decomposed = unicodedata.normalize("NFD", "đất đai")
    assert store.search(SearchQuery(text=decomposed)).total == 2


@pytest.mark.parametrize("sort", ["newest", "risk"])
def test_cursor_walks_every_item_once_past_the_offset_limit(store, sort):
    documents = [
        make_document(
            f"https://a.vn/{i}",
            f"Tin {i}",
            "Nội dung",
            risk=round((i % 7) / 7, 3),
            published_at=NOW - timedelta(minutes=i % 13),
        )
        for i in range(230)
    ]
    store.upsert(documents)
    seen: list[str] = []
    cursor = "*"
    pages = 0
    while cursor:
        page = store.search(SearchQuery(sort=sort, limit=50, cursor=cursor))
        assert page.total == 230
        seen += [hit.document.id for hit in page.hits]
        cursor = page.next_cursor
        pages += 1
    assert pages == 5
    assert sorted(seen) == sorted(d.id for d in documents)
    by_offset = [h.document.id for h in store.search(SearchQuery(sort=sort, limit=100)).hits]
    assert seen[:100] == by_offset


def test_bad_cursors_are_refused():
    with pytest.raises(ValueError, match="should match pattern"):
        SearchQuery(cursor="garbage!")  # not even base64url
    with pytest.raises(ValueError, match="needs sort"):
        SearchQuery(cursor="*", sort="relevance")
    with pytest.raises(ValueError, match="either offset or cursor"):
        SearchQuery(cursor="*", offset=20)


TAMPERED_AFTER = [
    [],  # no position at all
    ["2026-11-01T00:00:00+00:00"],  # too few values
    ["2026-11-01T00:00:00+00:00", "id", "extra", 4],  # too many
    [1e30, "id"],  # a time out of any range
    ["not-a-time", "id"],  # a string where the time goes
    [1764547200000, 7],  # a number where the id goes
    [None, "id"],
    [["nested"], {"x": 1}],
    [True, "id"],
]


@pytest.mark.parametrize("sort", ["newest", "risk"])
def test_tampered_cursors_are_a_400_on_every_store(store, settings, sort):
    """A cursor is the client's to hold, so it may come back forged: whatever it says, the
    answer is a 400 naming the cursor, never a 500, and the same on both stores."""
    import base64
    import json

    import httpx

    from api.app import create_app

    store.upsert([make_document(f"https://a.vn/{i}", "Tin", "Nội dung") for i in range(3)])
    forged = [
        base64.urlsafe_b64encode(json.dumps({"after": after, "snapshot": "x"}).encode()).decode()
        for after in [*TAMPERED_AFTER, [1e30, "2026-11-01T00:00:00+00:00", "id"]]
    ] + ["Z2FyYmFnZQ"]  # base64 of no JSON at all
    with (
        LiveServer(create_app(settings, store)) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {API_TOKEN}"}) as api,
    ):
        first = api.get("/api/items", params={"cursor": "*", "limit": 2, "sort": sort})
        assert first.status_code == 200 and first.json()["next_cursor"]  # the real ones work
        for cursor in forged:
            answer = api.get("/api/items", params={"cursor": cursor, "sort": sort})
            assert answer.status_code == 400, (cursor, answer.text)
            assert "cursor" in answer.json()["detail"]
        with pytest.raises(InvalidCursor):
            store.search(SearchQuery(cursor=forged[0], sort=sort))
