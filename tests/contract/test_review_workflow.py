"""The review workflow on both stores: states, locks, deadlines, the queue and concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest

from index.query import QueueQuery
from index.store import IncompleteCommand, InvalidTransition, ItemNotFound, ReviewConflict
from mediawatch.config import ReviewSettings
from mediawatch.model import (
    ClaimLink,
    ClaimLinkStatus,
    OfficialResponse,
    ReviewOutcome,
    ReviewState,
)
from tests.factories import decide, make_document, review

RULES = ReviewSettings()
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def item(store):
    document = make_document("https://a.vn/1", "Tin đồn thu hồi đất", "Nội dung tin đồn", risk=0.9)
    store.upsert([document])
    return document


def test_a_full_day_of_one_item_keeps_every_field_and_logs_every_step(store, item):
    claimed = review(store, item.id, "claim", "an", now=NOW)
    assert (claimed.review.state, claimed.review.assignee) == (ReviewState.IN_REVIEW, "an")
    assert claimed.review.due_at == NOW + timedelta(minutes=RULES.deadlines.decision)
    decided = decide(
        store,
        item.id,
        ReviewOutcome.FALSE,
        "an",
        note="Đã có văn bản bác bỏ",
        evidence=["https://lamdong.gov.vn/a"],
        now=NOW + timedelta(minutes=5),
    )
    assert decided.review.due_at is None and decided.review.assignee is None
    escalated = review(
        store, item.id, "escalate", "an", agency="Công an tỉnh Lâm Đồng", now=NOW + timedelta(1)
    )
    assert escalated.review.due_at == NOW + timedelta(
        days=1, minutes=RULES.deadlines.official_response
    )
    response = OfficialResponse(
        url="https://lamdong.gov.vn/bac-bo", agency="Công an tỉnh Lâm Đồng", published_at=NOW
    )
    responded = review(
        store, item.id, "respond", "binh", response=response, now=NOW + timedelta(days=2)
    )
    kept = store.get(item.id).review
    assert kept == responded.review
    assert (kept.state, kept.outcome, kept.reviewer) == (
        ReviewState.RESPONDED,
        ReviewOutcome.FALSE,
        "an",
    )
    assert kept.decided_at == NOW + timedelta(minutes=5)
    assert kept.escalated_at == NOW + timedelta(days=1)
    assert kept.responded_at == NOW + timedelta(days=2)
    assert kept.response == response and kept.evidence == ["https://lamdong.gov.vn/a"]
    assert kept.version == 4
    log = store.review_log(item.id)
    assert [(e["action"], e["reviewer"], e["state"], e["version"]) for e in log] == [
        ("claim", "an", "in_review", 1),
        ("decide", "an", "decided", 2),
        ("escalate", "an", "escalated", 3),
        ("respond", "binh", "responded", 4),
    ]
    assert log[1]["outcome"] == "false" and log[1]["evidence"] == ["https://lamdong.gov.vn/a"]
    assert log[2]["agency"] == "Công an tỉnh Lâm Đồng"
    assert log[3]["response"]["url"] == "https://lamdong.gov.vn/bac-bo"


def test_a_decided_item_is_locked_until_reopened_with_a_reason(store, item):
    decide(store, item.id, ReviewOutcome.MISLEADING, "an")
    with pytest.raises(InvalidTransition, match=r"đã kết luận \(bởi an"):
        decide(store, item.id, ReviewOutcome.ACCURATE, "binh")
    with pytest.raises(InvalidTransition):
        review(store, item.id, "claim", "binh")
    with pytest.raises(IncompleteCommand, match="lý do"):
        review(store, item.id, "reopen", "binh")
    reopened = review(store, item.id, "reopen", "binh", reason="Có thông tin mới", now=NOW)
    assert reopened.review.state is ReviewState.NEW and reopened.review.outcome is None
    assert reopened.review.due_at == NOW + timedelta(minutes=RULES.deadlines.first_look_high_risk)
    decide(store, item.id, ReviewOutcome.ACCURATE, "binh", expected_version=2)
    assert [e["action"] for e in store.review_log(item.id)] == ["decide", "reopen", "decide"]
    assert store.review_log(item.id)[1]["reason"] == "Có thông tin mới"


def test_claims_belong_to_their_holder_until_they_expire(store, item):
    review(store, item.id, "claim", "an", now=NOW)
    with pytest.raises(ReviewConflict, match="đang do an xử lý"):
        review(store, item.id, "claim", "binh", now=NOW + timedelta(minutes=1))
    with pytest.raises(ReviewConflict, match="held by an"):
        decide(store, item.id, ReviewOutcome.FALSE, "binh", now=NOW + timedelta(minutes=1))
    with pytest.raises(ReviewConflict, match="held by an"):
        review(store, item.id, "release", "binh")
    released = review(store, item.id, "release", "admin", override=True)
    assert released.review.state is ReviewState.NEW and released.review.assignee is None
    review(store, item.id, "claim", "an", now=NOW)
    later = NOW + timedelta(minutes=RULES.claim_expiry_minutes)
    taken = review(store, item.id, "claim", "binh", now=later)
    assert taken.review.assignee == "binh"
    assert store.review_log(item.id)[-1]["taken_from"] == "an"


def test_stale_versions_and_incomplete_commands_are_refused(store, item):
    with pytest.raises(IncompleteCommand, match="outcome"):
        review(store, item.id, "decide")
    review(store, item.id, "claim", "an")
    with pytest.raises(ReviewConflict, match="phiên bản 0"):
        decide(store, item.id, ReviewOutcome.FALSE, "an", expected_version=0)
    with pytest.raises(InvalidTransition):
        review(store, item.id, "escalate", "an", agency="Sở TT&TT")
    with pytest.raises(ItemNotFound):
        review(store, "web:nope", "claim")
    assert [e["action"] for e in store.review_log(item.id)] == ["claim"]


def _race(store, item_id: str, step, reviewers: list[str]) -> list[str]:
    """Run ``step(reviewer)`` for every reviewer at the same moment; ok or the refusal's kind."""
    barrier = Barrier(len(reviewers))

    def run(reviewer: str) -> str:
        barrier.wait()
        try:
            step(reviewer)
        except (ReviewConflict, InvalidTransition) as error:
            return type(error).__name__
        return "ok"

    with ThreadPoolExecutor(len(reviewers)) as pool:
        return list(pool.map(run, reviewers))


def test_two_reviewers_claiming_at_once_one_holds_it(store, item):
    results = _race(store, item.id, lambda r: review(store, item.id, "claim", r), ["an", "binh"])
    assert sorted(results) == ["ReviewConflict", "ok"]
    winner = ["an", "binh"][results.index("ok")]
    assert store.get(item.id).review.assignee == winner
    assert [(e["action"], e["reviewer"]) for e in store.review_log(item.id)] == [("claim", winner)]


def test_reviewers_deciding_at_once_one_decision_one_log_entry(store, item):
    def step(reviewer: str) -> None:
        decide(store, item.id, ReviewOutcome.FALSE, reviewer, expected_version=0)

    results = _race(store, item.id, step, ["r1", "r2", "r3"])
    assert sorted(results) == ["ReviewConflict", "ReviewConflict", "ok"]
    assert len(store.review_log(item.id)) == 1
    # Without expected_version the loser learns the item was decided meanwhile, and by whom.
    other = make_document("https://a.vn/2", "Tin khác", "Nội dung khác", risk=0.9)
    store.upsert([other])
    results = _race(
        store, other.id, lambda r: decide(store, other.id, ReviewOutcome.FALSE, r), ["r1", "r2"]
    )
    assert sorted(results) == ["InvalidTransition", "ok"]
    assert len(store.review_log(other.id)) == 1


def test_the_queue_orders_filters_and_marks_overdue(store):
    old = NOW - timedelta(hours=3)
    risky = make_document("https://a.vn/r", "Rủi ro", "Tin rủi ro", risk=0.9, topics=("land",))
    spreading = make_document("https://a.vn/s", "Lan", "Tin lan nhanh", risk=0.9)
    spreading.classification.signals["story_growth"] = 0.8
    calm = make_document("https://a.vn/c", "Êm", "Tin bình thường", risk=0.1)
    matched = make_document("https://a.vn/m", "Lặp", "Tin lặp lại", risk=0.1).model_copy(
        update={
            "claim_matches": [
                ClaimLink(claim_id="claim:1", similarity=0.9, status=ClaimLinkStatus.LINKED)
            ],
            "places": ["da-lat"],
        }
    )
    store.upsert(
        [
            risky.model_copy(update={"fetched_at": old}),
            spreading,
            calm,
            matched.model_copy(update={"fetched_at": old}),
        ]
    )
    page = store.review_queue(QueueQuery(threshold=0.5), NOW, RULES)
    # Risk first, then reach, then the longest waiting; the low-risk item is there for its claim.
    assert [h.document.id for h in page.hits] == [spreading.id, risky.id, matched.id]
    overdue = store.review_queue(QueueQuery(overdue=True), NOW, RULES)
    assert [h.document.id for h in overdue.hits] == [risky.id]  # 2 h target for high risk
    assert [
        h.document.id for h in store.review_queue(QueueQuery(places=["da-lat"]), NOW, RULES).hits
    ] == [matched.id]
    assert [
        h.document.id for h in store.review_queue(QueueQuery(topics=["land"]), NOW, RULES).hits
    ] == [risky.id]
    review(store, spreading.id, "claim", "an", now=NOW - timedelta(days=2))
    mine = store.review_queue(QueueQuery(assignee="an"), NOW, RULES)
    assert [h.document.id for h in mine.hits] == [spreading.id]
    decide(store, risky.id, ReviewOutcome.FALSE, "binh")
    decided = store.review_queue(QueueQuery(states=[ReviewState.DECIDED]), NOW, RULES)
    assert [h.document.id for h in decided.hits] == [risky.id]
    stats = store.queue_stats(0.5, NOW, RULES)
    assert stats.by_state == {ReviewState.NEW: 1, ReviewState.IN_REVIEW: 1, ReviewState.DECIDED: 1}
    assert stats.overdue == {ReviewState.IN_REVIEW: 1}  # claimed two days ago, 24 h target
    assert stats.oldest_waiting == matched.model_copy(update={"fetched_at": old}).fetched_at
