"""A scripted day on each store, through the real API, as the people who use it would go.

Claims judged elsewhere are imported; items arrive; one repeats an imported claim, a short post
only resembles it; reviewers claim and decide (one loses a race), one decision is escalated to
the police and answered. The audit log and the queue figures must show exactly that day.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from api.app import create_app
from tests.conftest import (
    ADMIN_TOKEN,
    ANALYST_TOKEN,
    API_TOKEN,
    OTHER_TOKEN,
    LiveServer,
)

CLAIMREVIEW = Path(__file__).resolve().parent.parent / "data" / "claimreview_sample.jsonld"
POLICE = "Công an tỉnh Lâm Đồng"
REPEAT = (
    "Nóng: tỉnh sẽ thu hồi toàn bộ đất nông nghiệp ở Lạc Dương",
    "Bà con ơi, tỉnh Lâm Đồng sẽ thu hồi toàn bộ đất nông nghiệp của người dân huyện Lạc Dương "
    "để làm sân golf. Chia sẻ ngay cho mọi người cùng biết!!!",
)
# Under the 8 words a text needs to be linked (title and text together).
SHORT = ("Lạc Dương?", "Thu hồi đất làm golf")
RUMOUR = (
    "Tin đồn: Đà Lạt cấm xe máy vào trung tâm từ tuần sau",
    "Nghe nói từ tuần sau Đà Lạt cấm toàn bộ xe máy vào trung tâm thành phố, ai vi phạm bị "
    "phạt mười triệu đồng. Chưa thấy văn bản nào nhưng mọi người chia sẻ gấp!!!",
)
FESTIVAL = (
    "Festival Hoa Đà Lạt thu hút đông du khách",
    "Lễ hội hoa Đà Lạt năm nay thu hút hàng chục nghìn lượt du khách đến tham quan, "
    "các khách sạn kín phòng trong những ngày cuối tuần.",
)


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


@pytest.fixture
def day(settings, store) -> Iterator[dict[str, httpx.Client]]:
    settings.review_threshold = 0.6
    with LiveServer(create_app(settings, store)) as server:
        clients = {
            "admin": _client(server.url, ADMIN_TOKEN),
            "reviewer1": _client(server.url, API_TOKEN),
            "reviewer2": _client(server.url, OTHER_TOKEN),
            "analyst1": _client(server.url, ANALYST_TOKEN),
        }
        yield clients
        for client in clients.values():
            client.close()


def _review(client: httpx.Client, item_id: str, **command) -> httpx.Response:
    return client.post(f"/api/items/{quote(item_id, safe='')}/review", json=command)


def test_a_day_of_monitoring_is_what_the_audit_log_and_the_figures_show(day):
    admin, first, second, analyst = (
        day["admin"],
        day["reviewer1"],
        day["reviewer2"],
        day["analyst1"],
    )

    imported = admin.post(
        "/api/claims/import",
        content=CLAIMREVIEW.read_bytes(),
        headers={"Content-Type": "application/ld+json"},
    )
    assert imported.status_code == 200, imported.text
    land_claim = next(
        c for c in admin.get("/api/claims", params={"q": "thu hoi dat"}).json()["claims"]
    )

    items = [
        {
            "url": f"https://social.example/p/{n}",
            "title": t,
            "text": x,
            "source_id": "fb-group",
            "source_tier": "social",
        }
        for n, (t, x) in enumerate((REPEAT, SHORT, RUMOUR, FESTIVAL))
    ]
    sent = admin.post("/api/ingest", json={"items": items})
    assert sent.status_code == 200, sent.text
    repeat_id, short_id, rumour_id, festival_id = sent.json()["ids"]

    # The repeat is linked to the imported claim; the short post is only suggested.
    repeat = admin.get(f"/api/items/{quote(repeat_id, safe='')}").json()
    assert [(m["claim_id"], m["status"]) for m in repeat["claim_matches"]] == [
        (land_claim["id"], "linked")
    ]
    short = admin.get(f"/api/items/{quote(short_id, safe='')}").json()
    assert {m["status"] for m in short["claim_matches"]} == {"suggested"}

    # The queue: risk at or above the threshold, or a claim match.
    risks = {
        item_id: admin.get(f"/api/items/{quote(item_id, safe='')}").json()["classification"]["risk"]
        for item_id in (repeat_id, short_id, rumour_id, festival_id)
    }
    expected_queue = {repeat_id, short_id} | {i for i, r in risks.items() if r >= 0.6}
    queue = analyst.get("/api/review/queue", params={"limit": 100}).json()
    assert {hit["document"]["id"] for hit in queue["hits"]} == expected_queue

    # Two reviewers reach for the rumour: the second gets a conflict naming the first.
    assert _review(first, rumour_id, action="claim").status_code == 200
    lost = _review(second, rumour_id, action="claim")
    assert lost.status_code == 409 and "reviewer1" in lost.json()["detail"]
    assert _review(analyst, rumour_id, action="decide", outcome="false").status_code == 403
    decided = _review(
        first,
        rumour_id,
        action="decide",
        outcome="false",
        note="UBND thành phố chưa ban hành quyết định nào về việc cấm xe máy.",
        evidence=["https://dalat.example.gov.vn/thong-bao"],
    )
    assert decided.status_code == 200, decided.text

    # The festival article is cleared in bulk; the repeat is decided, escalated and answered.
    bulk = second.post(
        "/api/review/bulk", json={"item_ids": [festival_id], "outcome": "not_relevant"}
    )
    assert bulk.status_code == 200, bulk.text
    assert _review(second, repeat_id, action="decide", outcome="false").status_code == 200
    escalated = _review(second, repeat_id, action="escalate", agency=POLICE)
    assert escalated.status_code == 200, escalated.text
    response = {
        "url": "https://lamdong.example.gov.vn/bac-bo-tin-thu-hoi-dat",
        "agency": POLICE,
    }
    answered = _review(first, repeat_id, action="respond", response=response)
    assert answered.status_code == 200, answered.text
    assert answered.json()["review"]["state"] == "responded"

    # The register learnt from the day: a new claim for the rumour; the rebuttal on the old one.
    land = admin.get(f"/api/claims/{land_claim['id']}").json()
    assert land["rebuttal"]["url"] == response["url"]
    assert repeat_id in {item["item_id"] for item in land["items"]}
    rumour_claims = admin.get("/api/claims", params={"q": "cam xe may"}).json()["claims"]
    assert [c["origin"] for c in rumour_claims] == ["ours"]

    # The audit log holds exactly the day's review steps, in order, with who did them.
    log = admin.get("/api/audit", params={"action": "review.", "limit": 100}).json()
    steps = [(e["actor"], e["action"], e["target"]) for e in log["entries"]]
    assert steps == [
        ("reviewer1", "review.claim", rumour_id),
        ("reviewer1", "review.decide", rumour_id),
        ("reviewer2", "review.decide", festival_id),
        ("reviewer2", "review.decide", repeat_id),
        ("reviewer2", "review.escalate", repeat_id),
        ("reviewer1", "review.respond", repeat_id),
    ]
    claim_actions = admin.get("/api/audit", params={"action": "claim.", "limit": 100}).json()
    assert {e["action"] for e in claim_actions["entries"]} >= {"claim.import", "claim.create"}

    # The queue's figures: what is left open is the short post and anything risky untouched.
    stats = analyst.get("/api/review/stats").json()
    left = expected_queue - {rumour_id, festival_id, repeat_id}
    open_now = stats["by_state"].get("new", 0) + stats["by_state"].get("in_review", 0)
    assert open_now == len(left)

    # The yearly report an analyst downloads counts the same day, the escalation included.
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    report = analyst.get("/api/reports/yearly.xlsx", params={"since": today, "until": today})
    assert report.status_code == 200, report.text
    book = load_workbook(io.BytesIO(report.content))
    overview = dict(book["Tổng quan"].iter_rows(min_row=2, values_only=True))
    assert overview["Tin thu thập"] == 4
    reviewed = {rumour_id, festival_id, repeat_id}  # the festival item only by hand, in bulk
    assert overview["Tin vào hàng chờ xem xét"] == len(expected_queue | reviewed)
    assert overview["Kết luận – Sai sự thật"] == 2
    assert overview["Kết luận – Không liên quan"] == 1
    assert overview["Chuyển cơ quan chức năng"] == 1
    assert overview["Có phản hồi chính thức"] == 1
    agencies = list(book["Theo cơ quan"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[2], row[5]) for row in agencies] == [(POLICE, 1, 1, 0)]
    assert 0 <= agencies[0][3] < 1  # hours from escalation to the response: minutes here
    decisions = list(book["Quyết định"].iter_rows(min_row=2, values_only=True))
    assert {row[0] for row in decisions} == reviewed
    exports = admin.get("/api/audit", params={"action": "export"}).json()["entries"]
    assert [(e["actor"], e["detail"]["kind"]) for e in exports] == [("analyst1", "yearly-report")]
