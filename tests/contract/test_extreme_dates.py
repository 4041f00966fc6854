"""Dates at the calendar's ends, on each store, through the real API: an item dated 9999 or
0001-01-01+01:00 is kept with its date recorded as unknown (and why), and nothing that shows
items (search, the item page, exports, a claim's page) answers 500 for it."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from openpyxl import load_workbook

from index.claims import ClaimDraft, ClaimRegister, Verdict
from mediawatch.identity import web_item_id
from mediawatch.model import DateProblem, OfficialResponse
from mediawatch.pipeline import Pipeline
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    ANALYST_TOKEN,
    API_TOKEN,
    login,
    token_client,
)
from tests.crawling import ALLOW_ALL, article, rss, source
from tests.http_site import Route, RouteSite

FAR_FUTURE = "9999-12-31T23:00:00+00:00"
BEFORE_UTC = "0001-01-01T00:00:00+01:00"  # no UTC time: converting it overflows
ITEMS = [
    {
        "url": "https://baolamdong.vn/xa-hoi/tuong-lai-xa.html",
        "title": "Tin ghi ngày năm 9999",
        "text": "Nghe nói sắp thu hồi toàn bộ đất đai ở Lạc Dương, người dân hoang mang.",
        "source_id": "vendor-baochi",
        "published_at": FAR_FUTURE,
    },
    {
        "url": "https://baolamdong.vn/xa-hoi/nam-mot.html",
        "title": "Tin ghi ngày năm 1",
        "text": "Lễ hội hoa Đà Lạt năm nay thu hút hàng chục nghìn lượt du khách.",
        "source_id": "vendor-baochi",
        "published_at": BEFORE_UTC,
    },
]


def test_items_dated_at_the_calendars_ends_are_kept_undated_and_every_view_answers(live_api):
    with token_client(live_api.url, API_TOKEN) as reviewer:
        response = reviewer.post("/api/ingest", json={"items": ITEMS})
        assert response.status_code == 200, response.text
        ids = response.json()["ids"]
        assert response.json()["stored"] == 2
        future, year_one = (reviewer.get(f"/api/items/{i}").json() for i in ids)
    assert future["published_at"] is None
    assert future["date_rejected"] == {"written": FAR_FUTURE, "problem": "in_future"}
    assert year_one["published_at"] is None
    assert year_one["date_rejected"] == {"written": BEFORE_UTC, "problem": "unrepresentable"}

    with token_client(live_api.url, ANALYST_TOKEN) as analyst:
        assert analyst.get("/api/items").status_code == 200
        csv = analyst.get("/api/exports/items.csv")
        assert csv.status_code == 200, csv.text
        assert "Tin ghi ngày năm 9999" in csv.content.decode("utf-8-sig")
        xlsx = analyst.get("/api/exports/items.xlsx")
        assert xlsx.status_code == 200, xlsx.text
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert "Tin ghi ngày năm 1" in {cell.value for row in sheet.iter_rows() for cell in row}

    with httpx.Client(base_url=live_api.url, timeout=60) as browser:
        assert login(browser, "analyst1", ADMIN_PASSWORD).status_code == 303
        assert browser.get("/search").status_code == 200
        page = browser.get(f"/items/{ids[0]}")
        assert page.status_code == 200
        assert f"«{FAR_FUTURE}» không được dùng: ngày ở tương lai" in page.text
        assert "không đọc được thành giờ chuẩn" in browser.get(f"/items/{ids[1]}").text


LAST_MOMENT = "9999-12-31T23:59:59-05:00"  # no UTC time either: it overflows the other way
YEAR_ONE, YEAR_1990 = "0001-01-01T00:00:00Z", "1990-01-01T00:00:00Z"


OUT_OF_RANGE = (
    "Yêu cầu không hợp lệ (invalid request): query.{}: Value error, datetime out of range"
)
AUDIT_OUT_OF_RANGE = "Thời điểm ngoài phạm vi (date out of range)"


@pytest.mark.parametrize(
    ("path", "params", "token", "status", "detail"),
    [
        # 9999-12-31 23:00 UTC is a moment: a bound, nothing after it.
        ("/api/items", {"until": FAR_FUTURE}, ANALYST_TOKEN, 200, None),
        # Moments with no UTC time are refused, naming the parameter.
        ("/api/items", {"since": BEFORE_UTC}, ANALYST_TOKEN, 422, OUT_OF_RANGE.format("since")),
        ("/api/items", {"until": LAST_MOMENT}, ANALYST_TOKEN, 422, OUT_OF_RANGE.format("until")),
        (
            "/api/exports/items.csv",
            {"since": "1990-01-01T00:00:00Z", "until": FAR_FUTURE},
            ANALYST_TOKEN,
            200,
            None,
        ),
        # Representable, but 8,000 years of day buckets: refused for its size.
        (
            "/api/trends/volume",
            {"since": "0001-01-01T00:00:00Z", "until": FAR_FUTURE},
            ANALYST_TOKEN,
            422,
            "at most 2208 day buckets per query",
        ),
        (
            "/api/trends/volume",
            {"since": BEFORE_UTC, "until": LAST_MOMENT},
            ANALYST_TOKEN,
            422,
            OUT_OF_RANGE.format("since"),
        ),
        ("/api/audit", {"since": LAST_MOMENT}, ADMIN_TOKEN, 422, AUDIT_OUT_OF_RANGE),
        ("/api/audit", {"until": BEFORE_UTC}, ADMIN_TOKEN, 422, AUDIT_OUT_OF_RANGE),
    ],
)
def test_query_times_at_the_calendars_ends_answer_as_pinned(
    live_api, path, params, token, status, detail
):
    """Each endpoint's answer, pinned: a moment it can use is used (200), one it cannot is a
    422 saying why, in Vietnamese; never a 500, and never a 200 for a refused bound."""
    with token_client(live_api.url, token) as client:
        response = client.get(path, params=params)
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in response.json()["detail"]


def test_a_response_dated_9999_is_refused_and_one_stored_before_does_not_break_its_claim(
    live_api, settings
):
    with token_client(live_api.url, API_TOKEN) as reviewer:
        item_id = reviewer.post("/api/ingest", json={"items": ITEMS[:1]}).json()["ids"][0]
        far = {
            "url": "https://lamdong.gov.vn/bac-bo",
            "agency": "UBND tỉnh",
            "published_at": FAR_FUTURE,
        }
        refused = reviewer.post(
            f"/api/items/{item_id}/review", json={"action": "respond", "response": far}
        )
        assert refused.status_code == 422
        assert "in_future" in refused.text
        created = reviewer.post(
            "/api/claims",
            json={"statement": "Thu hồi đất Lạc Dương", "verdict": "false", "rebuttal": far},
        )
        assert created.status_code == 422

    # A rebuttal stored before dates were bounded is still read and shown as written.
    register = ClaimRegister(settings.claims_path)
    draft = ClaimDraft(statement="Thu hồi đất Lạc Dương", verdict=Verdict.FALSE)
    claim, _ = register.create(draft, by="reviewer1")
    register.set_rebuttal(claim.id, OfficialResponse.model_validate(far), by="reviewer1")
    with httpx.Client(base_url=live_api.url, timeout=60) as browser:
        assert login(browser, "reviewer1", ADMIN_PASSWORD).status_code == 303
        page = browser.get(f"/claims/{claim.id}")
        assert page.status_code == 200, page.text
        assert "9999-12-31T23:00:00+00:00" in page.text


def _page_dated(title: str, published: str) -> bytes:
    """An article whose JSON-LD carries the date, as most news sites write it."""
    json_ld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        f'"@type": "NewsArticle", "headline": "{title}", "datePublished": "{published}"}}'
        "</script>"
    )
    return article(title).replace(b"</head>", json_ld.encode() + b"</head>")


def test_a_crawled_page_whose_json_ld_says_9999_is_stored_undated(store, settings, classifier):
    undated_feed = re.sub(rb"<pubDate>.*?</pubDate>", b"", rss("/tuong-lai.html", "/nam-mot.html"))
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "/feed.xml": Route(undated_feed, "application/rss+xml"),
        "/tuong-lai.html": Route(_page_dated("Tin năm 9999", "9999-12-31T23:59:59+07:00")),
        "/nam-mot.html": Route(_page_dated("Tin năm 1", BEFORE_UTC)),
    }
    pipeline = Pipeline(store, classifier, settings)
    with RouteSite(routes) as site:
        report = pipeline.crawl([source("hen-ngay", f"{site.base_url}/feed.xml")])
        urls = [f"{site.base_url}/tuong-lai.html", f"{site.base_url}/nam-mot.html"]
    assert (report.stored, report.failure_count("hen-ngay", "article")) == (2, 0)
    future, year_one = (store.get(web_item_id(url)) for url in urls)
    assert future.published_at is None and future.date_source == "json-ld"
    assert future.date_rejected.written == "9999-12-31T23:59:59+07:00"
    assert future.date_rejected.problem is DateProblem.IN_FUTURE
    assert year_one.published_at is None
    assert year_one.date_rejected.problem is DateProblem.UNREPRESENTABLE
