"""Watchlists over real loopback HTTP, and their spike alerts through a real SMTP server."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import httpx
import pytest

from mediawatch.accounts import Accounts
from mediawatch.alerts import send_spike_alerts
from mediawatch.audit import AuditLog
from mediawatch.model import Role, SourceTier
from mediawatch.watchlists import WatchlistInput, Watchlists
from tests.conftest import ADMIN_TOKEN, OTHER_TOKEN, free_port
from tests.factories import make_document

NOW = datetime(2026, 11, 20, 9, 40, tzinfo=UTC)


def client(live_api, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=live_api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_each_person_manages_only_their_own_watchlists(live_api, api_client, settings):
    body = {"name": "Đất đai Bảo Lộc", "topics": ["land"], "places": ["bao-loc"]}
    created = api_client.post("/api/watchlists", json=body)
    assert created.status_code == 201
    watchlist = created.json()
    assert watchlist["owner"] == "reviewer1" and watchlist["tiers"] == []
    with client(live_api, OTHER_TOKEN) as other, client(live_api, ADMIN_TOKEN) as admin:
        assert other.get("/api/watchlists").json() == []
        path = f"/api/watchlists/{watchlist['id']}"
        assert other.get(path).status_code == 403
        assert other.put(path, json=body | {"name": "x"}).status_code == 403
        assert other.delete(path).status_code == 403
        assert [w["id"] for w in admin.get("/api/watchlists").json()] == [watchlist["id"]]
        assert admin.get(path).json()["name"] == "Đất đai Bảo Lộc"
        assert admin.delete(path).status_code == 403  # reading is not owning
    updated = api_client.put(
        f"/api/watchlists/{watchlist['id']}", json=body | {"notify_email": "a@lamdong.gov.vn"}
    )
    assert updated.json()["notify_email"] == "a@lamdong.gov.vn"
    assert api_client.delete(f"/api/watchlists/{watchlist['id']}").status_code == 204
    missing = api_client.delete(f"/api/watchlists/{watchlist['id']}")
    assert missing.status_code == 404 and "no such watchlist" in missing.json()["detail"]
    actions = [entry.action for entry in AuditLog(settings.audit_path).entries()]
    assert actions.count("watchlist.create") == 1
    assert actions.count("watchlist.update") == 1
    assert actions.count("watchlist.delete") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x", "notify_email": "not-an-address"},
        {"name": "x", "tiers": ["tv"]},
        {"name": "x", "owner": "someone-else"},
        {"name": "Bảo Lộc\r\nBcc: ai-do@example.com"},  # would forge the alert's headers
        {"name": "Bảo\u2028Lộc"},
        {"name": "Bảo\x00Lộc"},
    ],
)
def test_bad_watchlists_are_refused_with_reasons(api_client, body):
    response = api_client.post("/api/watchlists", json=body)
    assert response.status_code == 422
    assert "invalid request" in response.json()["detail"]


def test_watchlists_need_a_caller(live_api):
    assert httpx.get(f"{live_api.url}/api/watchlists").status_code == 401


def burst(store):
    """One land item a day in Bảo Lộc for two weeks, then eight in the last day, which are
    about fires as well."""
    documents = [
        make_document(
            f"https://a.vn/base-{day}",
            f"Tin {day}",
            "Đất đai Bảo Lộc",
            topics=("land",),
            published_at=NOW - timedelta(days=day, hours=2),
        )
        for day in range(1, 15)
    ]
    documents += [
        make_document(
            f"https://a.vn/burst-{n}",
            f"Tin nóng {n}",
            "Thu hồi đất Bảo Lộc",
            topics=("land", "fire"),
            published_at=NOW - timedelta(hours=3, minutes=n),
        )
        for n in range(8)
    ]
    store.upsert(d.model_copy(update={"places": ["tp-bao-loc"]}) for d in documents)


def test_spike_alerts_go_once_to_the_watchlists_in_scope(store, settings, smtp_server):
    burst(store)
    watchlists = Watchlists(settings.watchlists_path)
    watchlists.create(
        "analyst1",
        WatchlistInput(
            name="Bảo Lộc", topics=["land"], places=["tp-bao-loc"], notify_email="a@lamdong.gov.vn"
        ),
    )
    watchlists.create(  # the burst is in the press: a social-only watchlist hears nothing
        "reviewer2",
        WatchlistInput(name="MXH", tiers=[SourceTier.SOCIAL], notify_email="b@lamdong.gov.vn"),
    )
    watchlists.create("analyst3", WatchlistInput(name="Không email", places=["tp-bao-loc"]))

    assert send_spike_alerts(store, settings, watchlists, now=NOW) == 1
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["a@lamdong.gov.vn"]]
    message = smtp_server.messages[0]
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "[mediawatch] Đột biến trong «Bảo Lộc»: Đất đai, thành phố Bảo Lộc"
    body = message.get_payload(decode=True).decode("utf-8")
    assert "Địa bàn thành phố Bảo Lộc: 8 tin trong 24 giờ qua" in body
    assert "Chủ đề Đất đai: 8 tin" in body
    assert "16:00 20/11/2026" in body  # the window's end, in Vietnam
    assert "fire" not in body  # a topic the watchlist does not name

    # the next hour the spike is still there, but it was already told
    assert send_spike_alerts(store, settings, watchlists, now=NOW + timedelta(hours=1)) == 0
    assert len(smtp_server.messages) == 1


def test_an_alert_that_could_not_be_sent_is_tried_again(store, settings, smtp_server):
    burst(store)
    watchlists = Watchlists(settings.watchlists_path)
    watchlists.create(
        "analyst1", WatchlistInput(name="Bảo Lộc", places=["tp-bao-loc"], notify_email="a@x.vn")
    )
    working = settings.smtp.port
    settings.smtp.port = free_port()  # nobody listens there
    assert send_spike_alerts(store, settings, watchlists, now=NOW) == 0
    settings.smtp.port = working
    assert send_spike_alerts(store, settings, watchlists, now=NOW) == 1
    assert len(smtp_server.messages) == 1


def alerted(settings) -> set[int]:
    with sqlite3.connect(settings.watchlists_path) as connection:
        return {row[0] for row in connection.execute("SELECT watchlist_id FROM alerts_sent")}


def test_alerts_go_only_to_owners_still_allowed_watchlists(store, settings, smtp_server):
    burst(store)
    accounts = Accounts(settings.accounts_path)
    watchlists = Watchlists(settings.watchlists_path)
    for owner in ("analyst1", "reviewer2", "viewer1", "left-long-ago"):
        scope = WatchlistInput(name=owner, places=["tp-bao-loc"], notify_email=f"{owner}@x.vn")
        watchlists.create(owner, scope)
    accounts.update("analyst1", disabled=True)
    accounts.update("reviewer2", role=Role.VIEWER)  # a viewer has no watchlists

    assert send_spike_alerts(store, settings, watchlists, now=NOW) == 0
    assert smtp_server.messages == [] and alerted(settings) == set()

    accounts.update("analyst1", disabled=False)  # back: the spike is still news to them
    assert send_spike_alerts(store, settings, watchlists, now=NOW) == 1
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["analyst1@x.vn"]]


def test_a_name_no_email_can_carry_does_not_stop_the_run(store, settings, smtp_server):
    burst(store)
    watchlists = Watchlists(settings.watchlists_path)
    # saved before names were checked: the line break cannot go into a Subject header
    broken = watchlists.create(
        "analyst1",
        WatchlistInput.model_construct(
            name="Bảo Lộc\r\nBcc: ai-do@example.com", places=["tp-bao-loc"], notify_email="a@x.vn"
        ),
    )
    assert watchlists.list()[0].id == broken.id  # it still loads, and comes first
    fine = watchlists.create(
        "admin", WatchlistInput(name="Bảo Lộc", places=["tp-bao-loc"], notify_email="b@x.vn")
    )

    assert send_spike_alerts(store, settings, watchlists, now=NOW) == 1
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["b@x.vn"]]
    assert alerted(settings) == {fine.id}  # the one not sent is not marked as sent
