"""Overdue items: alerted once per state and deadline over real SMTP, counted in the digest."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header

from classifier.taxonomy import Taxonomy
from mediawatch.digest import build_digest, render_digest
from mediawatch.model import utc_now
from mediawatch.overdue import alert_overdue
from mediawatch.scheduler import OVERDUE_TICK_MINUTES, build_scheduler
from tests.factories import make_document, review


def test_newly_overdue_items_are_emailed_once_per_state(store, settings, smtp_server):
    settings.digest.recipients = ["theodoi@lamdong.gov.vn"]
    now = utc_now()
    waiting = make_document("https://a.vn/1", "Tin đồn chờ lâu", "Nội dung", risk=0.9)
    fresh = make_document("https://a.vn/2", "Tin mới", "Nội dung khác", risk=0.9)
    store.upsert([waiting.model_copy(update={"fetched_at": now - timedelta(hours=3)}), fresh])

    assert alert_overdue(store, settings, now) == 1
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert str(make_header(decode_header(message["Subject"]))) == "[mediawatch] 1 tin quá hạn xử lý"
    assert message["To"] == "theodoi@lamdong.gov.vn"
    body = message.get_payload(decode=True).decode()
    assert "Tin đồn chờ lâu" in body and "Chờ xem xét" in body and "Tin mới" not in body

    assert alert_overdue(store, settings, now + timedelta(minutes=15)) == 0  # already told
    assert len(smtp_server.messages) == 1

    # Claimed and left undecided past the decision target: a new state, a new alert.
    review(store, waiting.id, "claim", "an", now=now)
    later = now + timedelta(minutes=settings.review.deadlines.decision + 1)
    assert alert_overdue(store, settings, later) == 2  # and the fresh one is now late too
    assert "Đang xem xét · an" in smtp_server.messages[1].get_payload(decode=True).decode()


def test_alert_recipients_override_the_digest_and_nobody_means_no_mail(
    store, settings, smtp_server
):
    now = utc_now()
    late = make_document("https://a.vn/1", "Tin", "Nội dung", risk=0.9)
    store.upsert([late.model_copy(update={"fetched_at": now - timedelta(hours=3)})])
    assert alert_overdue(store, settings, now) == 0  # nobody to tell: kept for later
    settings.review.alert_recipients = ["canhbao@lamdong.gov.vn"]
    assert alert_overdue(store, settings, now) == 1
    assert smtp_server.envelopes[0].rcpt_tos == ["canhbao@lamdong.gov.vn"]


def test_the_digest_counts_overdue_items_and_the_scheduler_checks_every_quarter_hour(
    store, settings
):
    now = utc_now()
    late = make_document("https://a.vn/1", "Tin", "Nội dung", risk=0.9)
    store.upsert([late.model_copy(update={"fetched_at": now - timedelta(hours=3)})])
    digest = build_digest(store, settings, Taxonomy.load().labels_vi, now=now)
    plain = render_digest(digest, settings).get_body(("plain",)).get_content()
    assert "Quá hạn: 1 (chờ xem xét 1 · đang xem xét 0" in plain

    scheduler = build_scheduler(
        settings, crawl_due=lambda: None, digest=lambda: None, overdue=lambda: None
    )
    job = scheduler.get_job("overdue")
    assert job.trigger.interval.total_seconds() == OVERDUE_TICK_MINUTES * 60
