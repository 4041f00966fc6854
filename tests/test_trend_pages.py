"""The trends and watchlists pages, logged in through the form over real loopback HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from mediawatch.model import Sentiment, utc_now
from mediawatch.watchlists import Watchlists
from tests.conftest import ADMIN_PASSWORD, login
from tests.factories import make_document


@pytest.fixture
def browser(live_api):
    with httpx.Client(base_url=live_api.url, timeout=30, follow_redirects=True) as client:
        assert login(client, "admin", ADMIN_PASSWORD).status_code in (200, 303)
        yield client


@pytest.fixture
def stored(store):
    now = utc_now()
    documents = [
        make_document(
            f"https://a.vn/{n}",
            f"Thu hồi đất số {n}",
            "Đất đai Bảo Lộc",
            topics=("land",),
            sentiment=Sentiment.NEGATIVE,
            published_at=now - timedelta(hours=n + 1),
        ).model_copy(update={"places": ["tp-bao-loc"], "story_id": "s1"})
        for n in range(3)
    ]
    store.upsert(documents)


def test_the_trends_page_splits_by_place_with_shares_stories_and_exports(browser, stored):
    page = browser.get("/trends", params={"days": 7, "dimension": "place", "topic": "land"})
    assert page.status_code == 200
    html = page.text
    assert html.count("Địa bàn: tổng số tin") == 1
    assert "thành phố Bảo Lộc" in html and "3 (100%)" in html  # the place's name, not its id
    assert "Tỷ lệ sắc thái" in html and "Tiêu cực: 3 (100%)" in html
    assert "Thu hồi đất số 2" in html  # the story's first item
    assert "Đột biến hiện tại" in html
    link = re.search(r'href="(/api/exports/trends\.csv\?[^"]+)"', html).group(1)
    export = browser.get(link.replace("&amp;", "&"))
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbf")
    assert browser.get("/trends", params={"interval": "hour", "days": 30}).status_code == 200
    assert browser.get("/trends", params={"dimension": "colour"}).status_code == 422


def test_watchlists_are_managed_from_their_page(browser, settings):
    page = browser.get("/watchlists")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {
        "csrf": csrf,
        "name": "Đất đai Bảo Lộc",
        "topics": "land, ",
        "places": "bao-loc",
        "tiers": ["press", "social"],
        "notify_email": "canbo@lamdong.gov.vn",
    }
    saved = browser.post("/watchlists", data=form)
    assert "Đã lưu danh sách «Đất đai Bảo Lộc»" in saved.text
    (watchlist,) = Watchlists(settings.watchlists_path).list("admin")
    assert (watchlist.topics, watchlist.places, [t.value for t in watchlist.tiers]) == (
        ["land"],
        ["bao-loc"],
        ["press", "social"],
    )
    refused = browser.post("/watchlists", data=form | {"notify_email": "not-an-address"})
    assert "Chưa lưu" in refused.text and "notify_email" in refused.text
    forged = browser.post(f"/watchlists/{watchlist.id}/delete", data={"csrf": "forged"})
    assert forged.status_code == 403
    deleted = browser.post(f"/watchlists/{watchlist.id}/delete", data={"csrf": csrf})
    assert "Đã xoá danh sách." in deleted.text
    assert Watchlists(settings.watchlists_path).list() == []


def test_the_pages_need_a_login(live_api):
    for path in ("/trends", "/watchlists"):
        response = httpx.get(live_api.url + path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
