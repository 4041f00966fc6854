"""A new claim finds the recent items that repeat it on either store (phrase searches)."""

from __future__ import annotations

from api.claims_feed import ClaimsFeed
from api.security import Principal
from index.claims import ClaimRegister
from mediawatch.audit import AuditLog
from mediawatch.model import ReviewAction, ReviewCommand, ReviewOutcome, Role
from tests.factories import make_document


def test_a_judged_item_becomes_a_claim_that_suggests_its_repeats(store, settings):
    judged = make_document(
        "https://fb.example/p/1",
        "Bệnh viện Đa khoa Lâm Đồng ngừng khám chữa bệnh bảo hiểm y tế từ ngày 1 tháng 7",
        "Thông báo khẩn, mọi người chuẩn bị tiền khi đi khám.",
    )
    repeat = make_document(
        "https://forum.example/t/2",
        "Thong bao",
        "Benh vien Da khoa Lam Dong ngung kham chua benh bao hiem y te tu ngay 1 thang 7 nha.",
    )
    unrelated = make_document(
        "https://press.example/a/3",
        "Bệnh viện Đa khoa Lâm Đồng có máy chụp mới",
        "Bệnh viện tiếp nhận máy chụp cộng hưởng từ, giảm thời gian chờ cho người bệnh.",
    )
    store.upsert([judged, repeat, unrelated])
    feed = ClaimsFeed(
        ClaimRegister(settings.claims_path), store, settings, AuditLog(settings.audit_path)
    )
    reviewer = Principal("reviewer1", Role.REVIEWER, "token")
    decide = ReviewCommand(action=ReviewAction.DECIDE, outcome=ReviewOutcome.FALSE)
    feed(judged, decide, reviewer, f"{judged.id}:1")
    (claim_id,) = feed.register.claims_of_item(judged.id)
    claim = feed.register.get(claim_id)
    assert [s.item_id for s in claim.suggestions] == [repeat.id]
    assert claim.suggestions[0].similarity >= settings.claims.link_threshold
