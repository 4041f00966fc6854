"""The workflow's pure rules: what each state offers, and when each target time runs out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from classifier.reviews import reviewed_labels
from index.store import InvalidTransition, ReviewConflict
from index.workflow import due_at, next_review, valid_actions
from mediawatch.config import ReviewSettings
from mediawatch.model import Review, ReviewCommand, ReviewOutcome, ReviewState
from tests.factories import make_document

RULES = ReviewSettings()
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def step(review: Review, actor: str = "an", at: datetime = NOW, **command) -> Review:
    return next_review("web:1", review, ReviewCommand(**command), actor, at, 0.9, NOW, RULES).review


def test_first_look_is_shorter_for_high_risk_and_counts_from_entering_the_queue():
    entered = NOW - timedelta(hours=1)
    assert due_at(ReviewState.NEW, 0.9, entered, NOW, RULES) == entered + timedelta(hours=2)
    assert due_at(ReviewState.NEW, 0.5, entered, NOW, RULES) == entered + timedelta(hours=24)
    assert due_at(ReviewState.IN_REVIEW, 0.9, entered, NOW, RULES) == NOW + timedelta(hours=24)
    assert due_at(ReviewState.ESCALATED, 0.9, entered, NOW, RULES) == NOW + timedelta(hours=72)
    assert due_at(ReviewState.DECIDED, 0.9, entered, NOW, RULES) is None


def test_each_state_offers_only_its_actions():
    new = Review()
    assert valid_actions(new, "an", NOW, RULES) == ["claim", "decide"]
    held = step(new, action="claim")
    assert valid_actions(held, "an", NOW, RULES) == ["release", "decide"]
    assert valid_actions(held, "binh", NOW, RULES) == []
    expired = NOW + timedelta(minutes=RULES.claim_expiry_minutes)
    assert valid_actions(held, "binh", expired, RULES) == ["claim", "decide"]
    decided = step(held, action="decide", outcome=ReviewOutcome.FALSE)
    assert valid_actions(decided, "binh", NOW, RULES) == ["escalate", "reopen"]
    escalated = step(decided, action="escalate", agency="Sở TT&TT")
    assert valid_actions(escalated, "an", NOW, RULES) == ["respond", "reopen"]


def test_a_claim_is_held_until_the_expiry_minute():
    held = step(Review(), action="claim")
    almost = NOW + timedelta(minutes=RULES.claim_expiry_minutes - 1)
    with pytest.raises(ReviewConflict):
        step(held, "binh", almost, action="claim")
    taken = next_review(
        "web:1",
        held,
        ReviewCommand(action="claim"),
        "binh",
        NOW + timedelta(minutes=RULES.claim_expiry_minutes),
        0.9,
        NOW,
        RULES,
    )
    assert taken.review.assignee == "binh" and taken.entry["taken_from"] == "an"


def test_refusals_name_the_state_and_who_decided():
    decided = step(Review(), action="decide", outcome=ReviewOutcome.ACCURATE)
    with pytest.raises(InvalidTransition, match="đã kết luận") as refused:
        step(decided, "binh", action="claim")
    assert "an" in str(refused.value) and "mở lại" in str(refused.value)
    with pytest.raises(InvalidTransition, match="cannot respond in state new"):
        step(Review(), action="respond", response={"url": "https://x.vn", "agency": "Sở"})


def test_escalated_and_answered_items_still_teach_their_outcome():
    decided = step(Review(), action="decide", outcome=ReviewOutcome.FALSE)
    escalated = step(decided, action="escalate", agency="Công an tỉnh Lâm Đồng")
    reopened = step(escalated, action="reopen", reason="Sai sót")
    documents = [
        make_document(f"https://a.vn/{i}", "Tin", "Nội dung").model_copy(update={"review": r})
        for i, r in enumerate([decided, escalated, reopened])
    ]
    labels = reviewed_labels(documents, {})
    assert [e.label for e in labels.reliability] == ["unreliable", "unreliable"]
