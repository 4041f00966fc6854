"""Writing a known item again, on both stores: a new item takes the new content and records
the change; an item a reviewer has taken up keeps the content that was judged, and what
arrived waits beside it as a version."""

from __future__ import annotations

import httpx

from index.query import SearchQuery
from mediawatch.audit import AuditLog
from mediawatch.identity import web_item_id
from mediawatch.model import ReviewOutcome, ReviewState, SourceTier
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    ANALYST_TOKEN,
    API_TOKEN,
    OTHER_TOKEN,
    login,
    token_client,
)
from tests.factories import decide, make_document, review

URL = "https://a.vn/tin-don"
TITLE, TEXT = "Tin đồn thu hồi đất", "Nghe nói tỉnh sắp thu hồi đất ở Lạc Dương."


def _again(**changes: object):
    document = make_document(URL, TITLE, TEXT, risk=0.9, tier=SourceTier.SOCIAL)
    return document.model_copy(update=changes)


def test_a_new_item_takes_new_content_and_records_what_changed(store):
    assert store.upsert([_again()]).outcomes == {_again().id: "inserted"}
    result = store.upsert([_again(title="Tin đồn đã sửa tiêu đề", sent_by="reviewer1")])
    assert (result.updated, result.versioned, result.outcomes) == (1, 0, {_again().id: "updated"})
    stored = store.get(_again().id)
    assert stored.title == "Tin đồn đã sửa tiêu đề"
    (version,) = stored.content_versions
    assert version.applied and version.sent_by == "reviewer1"
    assert [(c.field, c.before, c.after) for c in version.changes] == [
        ("title", TITLE, "Tin đồn đã sửa tiêu đề")
    ]


def test_a_judged_item_keeps_its_judged_content_whoever_sends_a_new_one(store):
    item_id = _again().id
    store.upsert([_again()])
    review(store, item_id, "claim", "an")
    rewritten = _again(
        title="Tỉnh bác bỏ", text="Nội dung đã bị thay.", source_tier=SourceTier.OFFICIAL
    )
    result = store.upsert([rewritten])
    assert (result.updated, result.versioned) == (0, 1)
    assert result.outcomes == {item_id: "versioned"}
    kept = store.get(item_id)
    assert (kept.title, kept.text, kept.source_tier) == (TITLE, TEXT, SourceTier.SOCIAL)
    assert kept.review.state is ReviewState.IN_REVIEW and kept.review.assignee == "an"
    (pending,) = kept.content_versions
    assert not pending.applied
    assert {c.field: (c.before, c.after) for c in pending.changes} == {
        "title": (None, "Tỉnh bác bỏ"),  # the judged side is the item itself
        "text": (None, "Nội dung đã bị thay."),
        "source_tier": (None, "official"),
    }
    # The same arrival again adds nothing; a decision keeps the judged content too.
    assert store.upsert([rewritten]).outcomes == {item_id: "unchanged"}
    decide(store, item_id, ReviewOutcome.FALSE, "an")
    assert store.upsert([rewritten]).unchanged == 1
    other = store.upsert([_again(text="Một bản khác nữa.")])
    assert other.versioned == 1
    judged = store.get(item_id)
    assert (judged.title, judged.text, judged.source_tier) == (TITLE, TEXT, SourceTier.SOCIAL)
    assert judged.review.outcome is ReviewOutcome.FALSE
    assert [v.applied for v in judged.content_versions] == [False, False]
    # Search finds the judged text, not what arrived after.
    assert store.search(SearchQuery(text="bi thay")).total == 0
    assert store.search(SearchQuery(text="lac duong")).total == 1


def test_versions_of_a_long_judged_text_do_not_each_keep_a_copy_of_it(store):
    """20 arrivals of a 150,000-character text: the judged text is stored once (the item),
    not once more per version, which made an item 41 × 150k characters."""
    filler = " ".join(["Nghe nói tỉnh sắp thu hồi đất ở Lạc Dương."] * 3500)  # ~150k
    judged = "BẢN-ĐÃ-XÉT " + filler
    item_id = _again(text=judged).id
    store.upsert([_again(text=judged)])
    review(store, item_id, "claim", "an")
    for i in range(20):
        assert store.upsert([_again(text=f"Bản sửa {i}. {filler}")]).versioned == 1
    kept = store.get(item_id)
    assert kept.text == judged and len(kept.content_versions) == 20
    stored = kept.model_dump_json()
    assert stored.count("BẢN-ĐÃ-XÉT") == 1
    assert len(stored) < 22 * len(judged)  # the item and 20 arrivals; it was 41 copies


RUMOUR = {
    "url": "https://www.facebook.com/groups/lacduong/posts/901",
    "title": TITLE,
    "text": TEXT + " Mọi người chia sẻ gấp!!!",
    "source_id": "staff-submitted",
    "source_tier": "social",
    "authors": ["Người gửi A"],
}


def test_resending_a_claimed_item_keeps_the_judged_version_shows_the_new_one_and_is_audited(
    live_api, settings
):
    rewritten = RUMOUR | {
        "title": "Tỉnh xác nhận thu hồi đất",
        "text": "Văn bản đã bị sửa sau khi cán bộ xem xét.",
        "authors": ["Người sửa B"],
    }
    with (
        token_client(live_api.url, API_TOKEN) as first,
        token_client(live_api.url, OTHER_TOKEN) as second,
    ):
        sent = first.post("/api/ingest", json={"items": [RUMOUR]})
        assert sent.status_code == 200, sent.text
        (item_id,) = sent.json()["ids"]
        claimed = first.post(f"/api/items/{item_id}/review", json={"action": "claim"})
        assert claimed.status_code == 200, claimed.text
        again = second.post("/api/ingest", json={"items": [rewritten]})
        assert again.status_code == 200, again.text
        assert (again.json()["updated"], again.json()["versioned"]) == (0, 1)
        kept = first.get(f"/api/items/{item_id}").json()
    assert (kept["title"], kept["authors"]) == (TITLE, ["Người gửi A"])
    assert kept["review"]["state"] == "in_review"
    (pending,) = kept["content_versions"]
    assert (pending["applied"], pending["sent_by"]) == (False, "reviewer2")
    changed = {c["field"]: c["after"] for c in pending["changes"]}
    assert changed["title"] == "Tỉnh xác nhận thu hồi đất"
    assert changed["authors"] == ["Người sửa B"]

    with httpx.Client(base_url=live_api.url, timeout=60) as browser:
        assert login(browser, "reviewer1", ADMIN_PASSWORD).status_code == 303
        page = browser.get(f"/items/{item_id}").text
    assert "Nội dung đã thay đổi sau khi xem xét" in page
    assert "Tỉnh xác nhận thu hồi đất" in page
    assert "+Văn bản đã bị sửa sau khi cán bộ xem xét." in page  # the text's diff
    assert f"-{RUMOUR['text']}" in page  # against the judged text, the item's own
    assert "người gửi reviewer2" in page

    # Roles that may not see authors do not see them in a version either (Decree 13).
    with token_client(live_api.url, ANALYST_TOKEN) as analyst:
        seen = analyst.get(f"/api/items/{item_id}").json()
    assert "Người sửa B" not in str(seen) and "Người gửi A" not in str(seen)

    ingests = AuditLog(settings.audit_path).entries(action="item.ingest")
    assert [(e.actor, e.target, e.detail["outcomes"]) for e in ingests] == [
        ("reviewer1", item_id, {item_id: "inserted"}),
        ("reviewer2", item_id, {item_id: "versioned"}),
    ]


def test_a_sender_cannot_set_a_tier_above_its_role(live_api, settings, store):
    official = RUMOUR | {"source_tier": "official"}
    with token_client(live_api.url, API_TOKEN) as reviewer:
        for tier in ("official", "press"):
            refused = reviewer.post(
                "/api/ingest", json={"items": [RUMOUR, RUMOUR | {"source_tier": tier}]}
            )
            assert refused.status_code == 403
            assert f"mức tin cậy '{tier}' (tin số 1)" in refused.json()["detail"]
    item_id = web_item_id(RUMOUR["url"])
    assert store.get(item_id) is None  # the whole batch was refused
    refusals = AuditLog(settings.audit_path).entries(action="item.ingest_refused")
    assert [(e.actor, e.detail["tier"]) for e in refusals] == [
        ("reviewer1", "official"),
        ("reviewer1", "press"),
    ]
    with token_client(live_api.url, ADMIN_TOKEN) as admin:
        assert admin.post("/api/ingest", json={"items": [official]}).status_code == 200
    assert store.get(item_id).source_tier is SourceTier.OFFICIAL
