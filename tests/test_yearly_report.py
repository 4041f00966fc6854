"""The yearly report read back with openpyxl: its figures are the items we stored."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.reports import yearly_tables
from mediawatch.cli import app
from mediawatch.model import Review, ReviewOutcome, ReviewState, SourceTier
from tests.factories import make_document

FETCHED = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _restore_logging():
    """The command points structlog at the runner's stream, closed once the run is over."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def decided(document, outcome, hours, reviewer="reviewer1", **review):
    return document.model_copy(
        update={
            "fetched_at": FETCHED,
            "review": Review(
                state=review.pop("state", ReviewState.DECIDED),
                outcome=outcome,
                reviewer=reviewer,
                decided_at=FETCHED + timedelta(hours=hours),
                version=1,
                **review,
            ),
        }
    )


@pytest.fixture
def period_items():
    at = datetime(2026, 3, 10, 1, tzinfo=UTC)
    land = [
        make_document(
            f"https://a.vn/land-{n}",
            f"Đất {n}",
            "Thu hồi đất",
            risk=0.9,
            topics=("land",),
            published_at=at,
        )
        for n in range(3)
    ]
    social = make_document(
        "https://fb.com/p/1",
        "Bài đăng",
        "Giá vé",
        risk=0.2,
        topics=("tourism",),
        published_at=at,
        tier=SourceTier.SOCIAL,
    )
    outside = make_document(
        "https://a.vn/old",
        "Cũ",
        "Năm trước",
        risk=0.9,
        topics=("land",),
        published_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return [
        decided(land[0], ReviewOutcome.FALSE, 2),
        decided(land[1], ReviewOutcome.MISLEADING, 6),
        land[2],
        decided(social, ReviewOutcome.NOT_RELEVANT, 1),
        outside,
    ]


def sheets(content) -> dict[str, list[tuple]]:
    workbook = load_workbook(content)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook}


def test_the_report_counts_what_the_store_holds(api_client, store, period_items):
    store.import_documents(period_items)
    response = api_client.get(
        "/api/reports/yearly.xlsx", params={"since": "2025-12-01", "until": "2026-11-30"}
    )
    assert response.status_code == 200
    book = sheets(io.BytesIO(response.content))
    assert list(book) == ["Tổng quan", "Theo chủ đề", "Theo cơ quan", "Quyết định"]
    overview = dict(book["Tổng quan"][1:])
    assert overview["Tin thu thập"] == 4  # the item of 2025 is outside the period
    assert overview["Tin thu thập – Báo chí"] == 3
    assert overview["Tin thu thập – Mạng xã hội"] == 1
    assert overview["Tin vào hàng chờ xem xét"] == 4  # three risky, one picked up and decided
    assert overview["Kết luận – Sai sự thật"] == 1
    assert overview["Kết luận – Gây hiểu lầm"] == 1
    assert overview["Kết luận – Không liên quan"] == 1
    assert overview["Từ"] == datetime(2025, 12, 1)  # local midnight
    topics = {row[0]: row[1:] for row in book["Theo chủ đề"][1:]}
    land_label = next(name for name in topics if topics[name][0] == 3)
    assert topics[land_label] == (3, 2, 2, 4.0, None)  # median of 2 h and 6 h
    decisions = book["Quyết định"][1:]
    assert [row[6] for row in decisions] == [1.0, 2.0, 6.0]  # earliest decision first
    assert decisions[0][4] == datetime(2026, 3, 10, 9, 0)  # fetched 02:00 UTC, 09:00 in Vietnam
    bad = api_client.get(
        "/api/reports/yearly.xlsx", params={"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert bad.status_code == 422


def test_response_times_per_agency(period_items):
    asked = FETCHED + timedelta(hours=3)
    escalated = [
        decided(
            period_items[n],
            ReviewOutcome.FALSE,
            2,
            escalated_to=agency,
            escalated_at=asked,
            responded_at=asked + timedelta(hours=hours) if hours else None,
        )
        for n, (agency, hours) in enumerate(
            [("Công an tỉnh", 10), ("Công an tỉnh", 20), ("Sở Y tế", None)]
        )
    ]
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    tables = {t.title: list(t.rows) for t in yearly_tables(escalated, since, until, 0.5, {})}
    assert tables["Theo cơ quan"] == [
        ["Công an tỉnh", 2, 2, 15.0, 19.0, 0],
        ["Sở Y tế", 1, 0, None, None, 1],
    ]
    overview = dict(tables["Tổng quan"])
    assert overview["Chuyển cơ quan chức năng"] == 3
    assert overview["Có phản hồi chính thức"] == 2


def test_the_report_from_the_command_line(settings, store, period_items, tmp_path):
    store.import_documents(period_items)
    out = tmp_path / "bao-cao.xlsx"
    result = CliRunner().invoke(
        app,
        ["report", "yearly", "--since", "2025-12-01", "--until", "2026-11-30", "--out", str(out)],
        env={"MEDIAWATCH_DATA_DIR": str(settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "4 tin" in result.output
    assert dict(sheets(out)["Tổng quan"][1:])["Tin thu thập"] == 4
    wrong = CliRunner().invoke(
        app, ["report", "yearly", "--since", "2026-13-01", "--until", "2026-11-30", "--out", "x"]
    )
    assert wrong.exit_code == 2
