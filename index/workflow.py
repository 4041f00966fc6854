"""The review workflow as one pure function: the current review and a command in, the next
review and its log entry out, or a refusal. Both stores apply it inside their compare-and-set,
so the rules are written once and cannot drift between SQLite and Elasticsearch.

Refusals come in three kinds, each with a Vietnamese message a reviewer can act on:
``ReviewConflict`` (someone else holds or changed the item: HTTP 409), ``InvalidTransition``
(the item's state does not allow the action, e.g. a decided item is locked: HTTP 409, because
the same request would be right on an item in another state), and ``IncompleteCommand`` (the
command lacks what its action needs, whatever the item's state: HTTP 422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from index.store import IncompleteCommand, InvalidTransition, ReviewConflict
from mediawatch.config import ReviewSettings
from mediawatch.model import (
    CLOSED_STATES,
    Document,
    Review,
    ReviewAction,
    ReviewCommand,
    ReviewState,
)

# Which states each action starts from.
_FROM: dict[ReviewAction, frozenset[ReviewState]] = {
    ReviewAction.CLAIM: frozenset({ReviewState.NEW, ReviewState.IN_REVIEW}),
    ReviewAction.RELEASE: frozenset({ReviewState.IN_REVIEW}),
    ReviewAction.DECIDE: frozenset({ReviewState.NEW, ReviewState.IN_REVIEW}),
    ReviewAction.ESCALATE: frozenset({ReviewState.DECIDED}),
    ReviewAction.RESPOND: frozenset({ReviewState.ESCALATED}),
    ReviewAction.REOPEN: CLOSED_STATES,
}
_STATE_VI = {
    ReviewState.NEW: "chờ xem xét",
    ReviewState.IN_REVIEW: "đang xem xét",
    ReviewState.DECIDED: "đã kết luận",
    ReviewState.ESCALATED: "đã chuyển cơ quan chức năng",
    ReviewState.RESPONDED: "đã có phản hồi chính thức",
}


@dataclass(frozen=True, slots=True)
class Transition:
    review: Review
    entry: dict[str, Any]  # the review-log entry, as both stores keep it


def _when(moment: datetime | None) -> str:
    return f"{moment:%d/%m/%Y %H:%M} UTC" if moment else "?"


def first_look_minutes(risk: float, rules: ReviewSettings) -> int:
    deadlines = rules.deadlines
    return deadlines.first_look_high_risk if risk >= rules.high_risk else deadlines.first_look


def due_at(
    state: ReviewState, risk: float, entered: datetime, now: datetime, rules: ReviewSettings
) -> datetime | None:
    """The target time of ``state``: a first look counts from when the item entered the
    queue, a decision from the claim, an official response from the escalation."""
    minutes = {
        ReviewState.NEW: first_look_minutes(risk, rules),
        ReviewState.IN_REVIEW: rules.deadlines.decision,
        ReviewState.ESCALATED: rules.deadlines.official_response,
    }.get(state)
    if minutes is None:
        return None
    start = entered if state is ReviewState.NEW else now
    return start + timedelta(minutes=minutes)


def effective_due(document: Document, rules: ReviewSettings) -> datetime | None:
    """The item's due time; an item nobody touched yet is due a first look from when we
    first saw it (the stores' overdue queries use the same rule)."""
    review = document.review
    if review.due_at is not None or review.state is not ReviewState.NEW:
        return review.due_at
    risk = document.classification.risk if document.classification else 0.0
    return due_at(ReviewState.NEW, risk, document.fetched_at, document.fetched_at, rules)


def is_overdue(document: Document, rules: ReviewSettings, now: datetime) -> bool:
    due = effective_due(document, rules)
    return due is not None and due < now


def check_command(command: ReviewCommand, rules: ReviewSettings) -> None:
    """What the action needs, whatever the item's state (HTTP 422 when it is missing)."""
    action = command.action
    if action is ReviewAction.DECIDE and command.outcome is None:
        raise IncompleteCommand("Cần chọn kết luận (outcome is required to decide)")
    if action is ReviewAction.ESCALATE and not (command.agency or "").strip():
        agencies = ", ".join(rules.agencies)
        raise IncompleteCommand(
            f"Cần chọn cơ quan nhận chuyển, ví dụ: {agencies} (agency is required to escalate)"
        )
    if action is ReviewAction.RESPOND and command.response is None:
        raise IncompleteCommand(
            "Cần đường dẫn phản hồi chính thức (response is required to respond)"
        )
    if action is ReviewAction.REOPEN and not (command.reason or "").strip():
        raise IncompleteCommand("Cần nêu lý do mở lại (reason is required to reopen)")


def _not_now(item_id: str, current: Review, action: ReviewAction) -> str:
    """Why ``action`` is refused in the item's state, naming who brought it there."""
    message = f"Tin '{item_id}' {_STATE_VI[current.state]}"
    if current.state in CLOSED_STATES:
        message += (
            f" (bởi {current.reviewer}, lúc {_when(current.decided_at)}); muốn sửa kết luận "
            "thì mở lại với lý do"
        )
    english = f"cannot {action.value} in state {current.state.value}"
    return f"{message}: không thể '{action.value}' ({english})"


def _claim_expired(review: Review, now: datetime, rules: ReviewSettings) -> bool:
    if review.claimed_at is None:
        return True
    return now - review.claimed_at >= timedelta(minutes=rules.claim_expiry_minutes)


def valid_actions(review: Review, actor: str, now: datetime, rules: ReviewSettings) -> list[str]:
    """The actions ``actor`` may take now: what the item page offers."""
    held_by_other = (
        review.state is ReviewState.IN_REVIEW
        and review.assignee != actor
        and not _claim_expired(review, now, rules)
    )
    actions = []
    for action, states in _FROM.items():
        if review.state not in states:
            continue
        if action in (ReviewAction.CLAIM, ReviewAction.DECIDE) and held_by_other:
            continue
        if action is ReviewAction.CLAIM and review.assignee == actor:
            continue
        if action is ReviewAction.RELEASE and review.assignee != actor:
            continue
        actions.append(action.value)
    return actions


def next_review(
    item_id: str,
    current: Review,
    command: ReviewCommand,
    actor: str,
    now: datetime,
    risk: float,
    entered: datetime,
    rules: ReviewSettings,
    override: bool = False,
) -> Transition:
    """Apply ``command`` by ``actor`` at ``now``; ``entered`` is when the item entered the
    queue (first seen), ``override`` lets an admin release someone else's claim."""
    check_command(command, rules)
    action = command.action
    if command.expected_version is not None and command.expected_version != current.version:
        holder = current.assignee or current.reviewer
        raise ReviewConflict(
            f"Tin '{item_id}' đã thay đổi từ phiên bản {command.expected_version} "
            f"(nay là {current.version}, người xử lý gần nhất: {holder or 'không có'}); "
            f"hãy tải lại (changed since version {command.expected_version})"
        )
    if current.state not in _FROM[action]:
        raise InvalidTransition(_not_now(item_id, current, action))
    taken_from = None
    if current.state is ReviewState.IN_REVIEW and current.assignee != actor:
        expired = _claim_expired(current, now, rules)
        if action is ReviewAction.RELEASE and not override:
            raise ReviewConflict(
                f"Tin '{item_id}' do {current.assignee} giữ; chỉ người giữ hoặc quản trị viên "
                f"mới trả lại được (held by {current.assignee})"
            )
        if action in (ReviewAction.CLAIM, ReviewAction.DECIDE):
            if not expired:
                raise ReviewConflict(
                    f"Tin '{item_id}' đang do {current.assignee} xử lý từ "
                    f"{_when(current.claimed_at)} (held by {current.assignee})"
                )
            taken_from = current.assignee
    if action is ReviewAction.CLAIM and current.assignee == actor:
        raise InvalidTransition(f"Bạn đã nhận tin '{item_id}' rồi (already yours)")

    review = _apply(current, command, actor, now)
    review.due_at = due_at(
        review.state, risk, entered if action is not ReviewAction.REOPEN else now, now, rules
    )
    review.version = current.version + 1
    entry = {
        "item_id": item_id,
        "at": now,
        "reviewer": actor,
        "action": action.value,
        "state": review.state.value,
        "outcome": review.outcome.value
        if action is ReviewAction.DECIDE and review.outcome
        else None,
        "note": command.note,
        "evidence": list(command.evidence),
        "reason": command.reason,
        "agency": command.agency if action is ReviewAction.ESCALATE else None,
        "response": review.response.model_dump(mode="json")
        if action is ReviewAction.RESPOND and review.response
        else None,
        "taken_from": taken_from if taken_from != actor else None,
        "version": review.version,
    }
    return Transition(review, entry)


def _apply(current: Review, command: ReviewCommand, actor: str, now: datetime) -> Review:
    """The next review's fields; the caller has checked the action is allowed."""
    action = command.action
    review = current.model_copy(deep=True)
    if action is ReviewAction.CLAIM:
        review.state, review.assignee, review.claimed_at = ReviewState.IN_REVIEW, actor, now
    elif action is ReviewAction.RELEASE:
        review.state, review.assignee, review.claimed_at = ReviewState.NEW, None, None
    elif action is ReviewAction.DECIDE:
        review.state, review.outcome = ReviewState.DECIDED, command.outcome
        review.reviewer, review.decided_at = actor, now
        review.note, review.evidence = command.note, list(command.evidence)
        review.assignee, review.claimed_at = None, None
    elif action is ReviewAction.ESCALATE:
        review.state, review.escalated_to, review.escalated_at = (
            ReviewState.ESCALATED,
            (command.agency or "").strip(),
            now,
        )
    elif action is ReviewAction.RESPOND:
        review.state, review.response, review.responded_at = (
            ReviewState.RESPONDED,
            command.response,
            now,
        )
    else:  # reopen: the lock is lifted and the item waits for a fresh look
        review = Review(version=current.version)
    return review
