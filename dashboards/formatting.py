"""How numbers, dates and labels read for Vietnamese civil servants."""

from __future__ import annotations

import difflib
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment
from markupsafe import Markup, escape

from mediawatch.clock import local_time
from mediawatch.model import web_url

SENTIMENT_VI = {"negative": "Tiêu cực", "neutral": "Trung tính", "positive": "Tích cực"}
# VNTC's ten newspaper sections, as the papers name them.
SECTION_VI = {
    "politics_society": "Chính trị – Xã hội",
    "lifestyle": "Đời sống",
    "science": "Khoa học",
    "business": "Kinh doanh",
    "law": "Pháp luật",
    "health": "Sức khỏe",
    "world": "Thế giới",
    "sports": "Thể thao",
    "culture": "Văn hóa",
    "computing": "Vi tính",
}
OUTCOME_VI = {
    "false": "Sai sự thật",
    "misleading": "Gây hiểu lầm",
    "unverified": "Chưa kiểm chứng được",
    "accurate": "Chính xác",
    "not_relevant": "Không liên quan",
}
STATE_VI = {
    "new": "Chờ xem xét",
    "in_review": "Đang xem xét",
    "decided": "Đã kết luận",
    "escalated": "Đã chuyển cơ quan chức năng",
    "responded": "Đã có phản hồi chính thức",
}
ACTION_VI = {
    "claim": "Nhận xử lý",
    "release": "Trả lại hàng chờ",
    "decide": "Kết luận",
    "escalate": "Chuyển cơ quan chức năng",
    "respond": "Ghi nhận phản hồi chính thức",
    "reopen": "Mở lại",
}
DATE_PROBLEM_VI = {
    "unrepresentable": "ngày không đọc được thành giờ chuẩn (no UTC time)",
    "too_early": "ngày trước năm 1990 (before 1990)",
    "in_future": "ngày ở tương lai (in the future)",
}
CONTENT_FIELD_VI = {
    "title": "Tiêu đề",
    "text": "Nội dung",
    "source_tier": "Mức tin cậy nguồn",
    "source_id": "Nguồn",
    "url": "Địa chỉ",
    "authors": "Tác giả",
    "published_at": "Ngày đăng",
    "language": "Ngôn ngữ",
}
TIER_VI = {
    "official": "Chính thống",
    "press": "Báo chí",
    "social": "Mạng xã hội",
    "unknown": "Chưa rõ",
}


def vn_number(value: float | int, decimals: int = 0) -> str:
    """1234567.8 → "1.234.567,8": dots group thousands, a comma marks decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def vn_percent(value: float) -> str:
    return vn_number(value * 100, 0) + "%"


def text_diff(before: str | None, after: str | None) -> str:
    """What a new version changed in a text, line by line ("-" judged, "+" arrived)."""
    lines = difflib.unified_diff(
        (before or "").splitlines(), (after or "").splitlines(), lineterm="", n=1
    )
    return "\n".join(line for line in lines if not line.startswith(("---", "+++")))


def content_value(value: object) -> str:
    """A content field's JSON value as a person reads it: lists joined, none as "—"."""
    if value is None or value == []:
        return "—"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def make_vn_datetime(timezone: str):  # noqa: ANN201 - returns a Jinja filter
    zone = ZoneInfo(timezone)

    def vn_datetime(value: datetime | None, with_time: bool = True) -> str:
        """Total: a moment with no local time (year 9999, year 1) prints as written."""
        if value is None:
            return "không rõ"
        local = local_time(value, zone)
        if local is None:
            return value.isoformat()
        return local.strftime("%H:%M %d/%m/%Y" if with_time else "%d/%m/%Y")

    return vn_datetime


def make_vn_datetime_text(timezone: str):  # noqa: ANN201 - returns a Jinja filter
    """The same for ISO text (the review log's times)."""
    vn_datetime = make_vn_datetime(timezone)

    def vn_datetime_text(value: str | None) -> str:
        try:
            moment = datetime.fromisoformat(value) if value else None
        except ValueError:
            return str(value)
        return vn_datetime(moment)

    return vn_datetime_text


def link(url: str, label: str | None = None) -> Markup:
    """A link, opening in a new tab, for an http(s) URL; anything else (javascript:, data:,
    text) as plain text, so nothing stored can make a page run script when clicked."""
    try:
        target = web_url(url)
    except ValueError:
        return escape(url)
    return Markup('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>').format(
        target, label or url
    )


def install_filters(environment: Environment, timezone: str) -> None:
    environment.filters["vn_number"] = vn_number
    environment.filters["link"] = link
    environment.filters["vn_percent"] = vn_percent
    environment.filters["text_diff"] = text_diff
    environment.filters["content_value"] = content_value
    environment.filters["vn_datetime"] = make_vn_datetime(timezone)
    environment.filters["vn_datetime_text"] = make_vn_datetime_text(timezone)
    environment.globals["SENTIMENT_VI"] = SENTIMENT_VI
    environment.globals["SECTION_VI"] = SECTION_VI
    environment.globals["OUTCOME_VI"] = OUTCOME_VI
    environment.globals["TIER_VI"] = TIER_VI
    environment.globals["DATE_PROBLEM_VI"] = DATE_PROBLEM_VI
    environment.globals["CONTENT_FIELD_VI"] = CONTENT_FIELD_VI
    environment.globals["STATE_VI"] = STATE_VI
    environment.globals["ACTION_VI"] = ACTION_VI
