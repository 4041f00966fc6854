"""One item travels the whole way: loopback feeds → Scrapy → classifier → SQLite → API →
review decision → the morning digest received by a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import httpx

from classifier.taxonomy import Taxonomy
from mediawatch.demo.site import load_corpus
from mediawatch.digest import deliver_digest
from mediawatch.identity import web_item_id
from tests.conftest import API_TOKEN


def test_feed_to_queue_to_decision_to_digest(pipeline, settings, demo_site, live_api, smtp_server):
    report = pipeline.crawl(demo_site.site.sources())
    corpus = load_corpus()
    assert report.stored == len(corpus.items)

    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=live_api.url, headers=headers, timeout=30) as api:
        queue = api.get("/api/review/queue", params={"limit": 100}).json()
        assert queue["total"] >= 5
        first, second = queue["hits"][0]["document"], queue["hits"][1]["document"]
        assert first["classification"]["reasons"]

        found = api.get("/api/items", params={"text": "thu hoi dat"}).json()
        assert found["total"] >= 1

        decided = api.post(
            f"/api/items/{first['id']}/review",
            json={"action": "decide", "outcome": "false", "note": "Sở TT&TT đã bác bỏ"},
        )
        assert decided.status_code == 200
        remaining = api.get("/api/review/queue", params={"limit": 100}).json()
        assert remaining["total"] == queue["total"] - 1
        assert first["id"] not in {h["document"]["id"] for h in remaining["hits"]}

    settings.digest.recipients = ["canbo@sotttt.lamdong.gov.vn"]
    settings.digest.sender = "mediawatch@lamdong.gov.vn"
    # The digest covers "yesterday" in Vietnam: look from the day after the newest item.
    now_tomorrow = pipeline.store.get(second["id"]).fetched_at + timedelta(days=1)
    from mediawatch.digest import build_digest, render_digest, send_email

    digest = build_digest(pipeline.store, settings, Taxonomy.load().labels_vi, now_tomorrow)
    send_email(render_digest(digest, settings), settings.smtp)

    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert smtp_server.envelopes[0].rcpt_tos == ["canbo@sotttt.lamdong.gov.vn"]
    assert "Bản tin ngày" in str(message["Subject"]) or "B" in str(message["Subject"])
    plain = message.get_payload()[0].get_payload(decode=True).decode("utf-8")
    html = message.get_payload()[1].get_payload(decode=True).decode("utf-8")
    assert second["title"] in plain
    assert second["title"] in html
    assert f"{settings.base_url}/items/" in plain
    assert first["title"] not in plain  # decided: no longer awaiting review
    assert "TIN CHỜ XEM XÉT" in plain


def test_digest_without_recipients_is_kept_in_the_outbox(pipeline, settings, demo_site):
    pipeline.crawl(demo_site.site.sources()[:1])
    path = deliver_digest(pipeline.store, settings, Taxonomy.load().labels_vi)
    assert path is not None and path.exists()
    assert b"Content-Type: multipart/alternative" in path.read_bytes()


def test_item_ids_match_the_canonical_page_url(pipeline, demo_site):
    pipeline.crawl(demo_site.site.sources()[:1])
    outlet = demo_site.site.corpus.outlets[0]
    item = next(i for i in demo_site.site.corpus.items if i.outlet == outlet.slug)
    document = pipeline.store.get(
        web_item_id(f"{demo_site.base_url}/{outlet.slug}/{item.slug}.html")
    )
    assert document is not None
    assert document.title == item.title
