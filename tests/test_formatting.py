"""Printing a time never fails: the calendar's ends (year 1 and 9999, with any offset) print
as written where they have no local time, in pages and in exports."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from openpyxl import Workbook, load_workbook

from api.exports import Table, add_sheet, write_csv
from dashboards.formatting import make_vn_datetime, make_vn_datetime_text

ZONE = "Asia/Ho_Chi_Minh"
PLUS_ONE, MINUS_FIVE = timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))
# Each moment and how it prints: past the calendar's end in Vietnam (+07), as written.
EXTREMES = {
    datetime.max.replace(tzinfo=UTC): "9999-12-31T23:59:59.999999+00:00",
    datetime(9999, 12, 31, 23, tzinfo=UTC): "9999-12-31T23:00:00+00:00",
    datetime.max.replace(tzinfo=MINUS_FIVE): "9999-12-31T23:59:59.999999-05:00",
    datetime.min.replace(tzinfo=PLUS_ONE): "0001-01-01T00:00:00+01:00",
    datetime.min.replace(tzinfo=UTC): "07:06 01/01/1",  # Saigon's mean solar time then
    datetime(9999, 12, 31, 16, tzinfo=UTC): "23:00 31/12/9999",
}


@pytest.mark.parametrize(("moment", "printed"), EXTREMES.items(), ids=str)
def test_the_date_filters_print_every_moment(moment, printed):
    assert make_vn_datetime(ZONE)(moment) == printed
    assert make_vn_datetime_text(ZONE)(moment.isoformat()) == printed


def test_a_normal_time_is_local_and_unreadable_text_prints_as_written():
    assert make_vn_datetime(ZONE)(datetime(2026, 6, 3, 1, tzinfo=UTC)) == "08:00 03/06/2026"
    assert make_vn_datetime_text(ZONE)("không phải ngày") == "không phải ngày"
    assert make_vn_datetime(ZONE)(None) == "không rõ"


def test_exports_write_times_without_a_local_time_as_text():
    table = Table("Tin", ["Thời điểm"], [[moment] for moment in EXTREMES])
    out = io.BytesIO()
    assert write_csv(table, out, ZONE) == len(EXTREMES)
    assert "9999-12-31T23:00:00+00:00" in out.getvalue().decode("utf-8-sig")
    workbook = Workbook(write_only=True)
    assert add_sheet(workbook, table, ZONE) == len(EXTREMES)
    saved = io.BytesIO()
    workbook.save(saved)
    cells = [row[0].value for row in load_workbook(saved).active.iter_rows(min_row=2)]
    assert "9999-12-31T23:00:00+00:00" in cells
