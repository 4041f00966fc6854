"""Tables of items and trends as CSV and XLSX files people open in Excel.

CSV is UTF-8 with a byte-order mark, or Excel shows Vietnamese as mojibake; XLSX is written
in openpyxl's write-only mode, so a large export never holds the whole sheet in memory.
Times are shown in the display time zone: as text in CSV, as real dates in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from dashboards.formatting import OUTCOME_VI, SENTIMENT_VI, TIER_VI
from index.query import SearchQuery, TrendBucket
from index.store import Store
from mediawatch.clock import local_time
from mediawatch.model import Document
from mediawatch.text import spreadsheet_safe

ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DATE_FORMAT = "dd/mm/yyyy hh:mm"
REVIEW_STATE_VI = {
    "new": "Mới",
    "in_review": "Đang xem xét",
    "decided": "Đã kết luận",
    "escalated": "Đã chuyển cơ quan",
    "responded": "Đã có phản hồi",
}
DIMENSION_VI = {
    "topic": "Chủ đề",
    "sentiment": "Sắc thái",
    "place": "Địa bàn",
    "tier": "Loại nguồn",
    "source": "Nguồn",
}
ITEM_HEADERS = [
    "Mã tin",
    "Thời điểm",
    "Nguồn",
    "Loại nguồn",
    "Tiêu đề",
    "Đường dẫn",
    "Chủ đề",
    "Địa bàn",
    "Sắc thái",
    "Điểm rủi ro",
    "Trạng thái xử lý",
    "Kết luận",
    "Tác giả",
]


@dataclass(frozen=True)
class Table:
    """A sheet: its title, Vietnamese headers and rows of plain values (datetimes aware)."""

    title: str
    headers: list[str]
    rows: Iterable[list[Any]]


def item_row(document: Document) -> list[Any]:
    classification = document.classification
    return [
        document.id,
        document.event_time,
        document.source_id,
        TIER_VI.get(document.source_tier.value, document.source_tier.value),
        document.title,
        document.url,
        ", ".join(t.id for t in classification.topics) if classification else "",
        ", ".join(document.places),
        SENTIMENT_VI.get(classification.sentiment.value, "") if classification else "",
        round(classification.risk, 3) if classification else None,
        REVIEW_STATE_VI.get(document.review.state.value, document.review.state.value),
        OUTCOME_VI.get(document.review.outcome.value, "") if document.review.outcome else "",
        ", ".join(document.authors),
    ]


def item_table(
    pages: Iterable[tuple[int, list[Document]]],
    present: Callable[[list[Document]], list[Document]],
    progress: Callable[[int, int], None] | None = None,
) -> Table:
    """Items page by page, each page through ``present`` (authors as the caller may see
    them); ``progress(done, total)`` after each page."""

    def rows() -> Iterator[list[Any]]:
        done = 0
        for total, documents in pages:
            yield from (item_row(document) for document in present(documents))
            done += len(documents)
            if progress:
                progress(done, total)

    return Table("Tin", ITEM_HEADERS, rows())


def trend_table(dimension: str, buckets: Iterable[TrendBucket]) -> Table:
    return Table(
        "Xu hướng",
        ["Bắt đầu", DIMENSION_VI[dimension], "Số tin"],
        ([bucket.start, bucket.key, bucket.count] for bucket in buckets),
    )


def walk(
    store: Store, query: SearchQuery, page_size: int = 100
) -> Iterator[tuple[int, list[Document]]]:
    """Every matching item, a page at a time with the page's total, through the store's
    cursor: nothing skipped or repeated however large the result."""
    sort = "newest" if query.sort == "relevance" else query.sort
    query = query.model_copy(update={"cursor": "*", "limit": page_size, "offset": 0, "sort": sort})
    while True:
        page = store.search(query)
        yield page.total, [hit.document for hit in page.hits]
        if page.next_cursor is None:
            return
        query = query.model_copy(update={"cursor": page.next_cursor})


def _csv_value(value: Any, zone: ZoneInfo) -> Any:
    """Times as "dd/mm/yyyy HH:MM"; text a spreadsheet would run as a formula defused."""
    if isinstance(value, datetime):
        local = local_time(value, zone)
        return local.strftime("%d/%m/%Y %H:%M") if local else value.isoformat()
    return spreadsheet_safe(value) if isinstance(value, str) else value


def write_csv(table: Table, out: IO[bytes], timezone: str) -> int:
    """Rows written; times as "dd/mm/yyyy HH:MM" in ``timezone``."""
    zone = ZoneInfo(timezone)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(table.headers)
    count = 0
    for row in table.rows:
        writer.writerow([_csv_value(value, zone) for value in row])
        count += 1
    text.detach()
    return count


def add_sheet(workbook: Workbook, table: Table, timezone: str) -> int:
    """Append ``table`` to a write-only workbook; rows written. Times become Excel dates
    (local, without zone, as Excel has none)."""
    zone = ZoneInfo(timezone)
    sheet = workbook.create_sheet(table.title[:31])
    header = []
    for title in table.headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in table.rows:
        cells = []
        for value in row:
            local = local_time(value, zone) if isinstance(value, datetime) else None
            if local is not None:
                cell = WriteOnlyCell(sheet, value=local.replace(tzinfo=None))
                cell.number_format = DATE_FORMAT
                cells.append(cell)
            elif isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # openpyxl would store it as a formula
                cells.append(cell)
            elif isinstance(value, datetime):  # no local time (year 9999): as written, as text
                cells.append(value.isoformat())
            else:
                cells.append(value)
        sheet.append(cells)
        count += 1
    return count


def write_xlsx(tables: Iterable[Table], out: IO[bytes] | str, timezone: str) -> int:
    """Rows written over all sheets."""
    workbook = Workbook(write_only=True)
    count = sum(add_sheet(workbook, table, timezone) for table in tables)
    workbook.save(out)
    return count


def write(table: Table, fmt: ExportFormat, out: IO[bytes], timezone: str) -> int:
    if fmt == "csv":
        return write_csv(table, out, timezone)
    return write_xlsx([table], out, timezone)
