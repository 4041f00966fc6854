"""The Telegram connector against a loopback copy of a channel's web preview (t.me/s/...)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crawlers.events import FailureEvent, ItemEvent, SourceDoneEvent
from crawlers.social import collect
from mediawatch.config import Settings
from mediawatch.model import Source
from tests.crawling import LOOPBACK
from tests.http_site import Route, RouteSite

CHANNEL = "tinlamdong"


def message(number: int, when: str, body: str | None, reply: str | None = None) -> str:
    """One message as t.me renders it; ``body`` None is a photo without caption."""
    quoted = (
        '<a class="tgme_widget_message_reply" href="https://t.me/tinlamdong/1">'
        f'<div class="tgme_widget_message_text js-message_reply_text">{reply}</div></a>'
        if reply
        else ""
    )
    text = (
        f'<div class="tgme_widget_message_text js-message_text" dir="auto">{body}</div>'
        if body is not None
        else '<a class="tgme_widget_message_photo_wrap" style="width:800px"></a>'
    )
    return f"""
<div class="tgme_widget_message_wrap js-widget_message_wrap">
  <div class="tgme_widget_message text_not_supported_wrap js-widget_message"
       data-post="{CHANNEL}/{number}" data-view="eyJjIjotMTAwMTIzfQ">
    <div class="tgme_widget_message_user"><a href="https://t.me/{CHANNEL}"></a></div>
    <div class="tgme_widget_message_bubble">
      <div class="tgme_widget_message_author accent_color">
        <a class="tgme_widget_message_owner_name" href="https://t.me/{CHANNEL}">
          <span dir="auto">Tin Lâm Đồng 24h</span></a>
      </div>
      {quoted}
      {text}
      <div class="tgme_widget_message_footer compact js-message_footer">
        <div class="tgme_widget_message_info short js-message_info">
          <span class="tgme_widget_message_views">1.2K</span>
          <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date"
            href="https://t.me/{CHANNEL}/{number}"><time datetime="{when}"
            class="time">09:00</time></a></span>
        </div>
      </div>
    </div>
  </div>
</div>"""


def page(messages: list[str], prev: str | None) -> Route:
    link = f'<link rel="prev" href="/s/{CHANNEL}?before={prev}">' if prev else ""
    html = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Tin Lâm Đồng 24h – Telegram</title>{link}</head>
<body class="widget_frame_base tgme_webpreview">
<div class="tgme_channel_info"><div class="tgme_channel_info_header_title">
<span dir="auto">Tin Lâm Đồng 24h</span></div></div>
<section class="tgme_channel_history js-message_history">{"".join(messages)}</section>
</body></html>"""
    return Route(html.encode())


NEWEST = page(
    [
        message(101, "2025-06-03T01:00:00+00:00", None),
        message(
            102,
            "2025-06-03T02:00:00+00:00",
            "Nóng: sạt lở đèo Prenn!<br/>Người dân hạn chế lưu thông &amp; theo dõi thông báo.",
            reply="Tin cũ được trích dẫn",
        ),
        message(103, "2025-06-03T03:30:00+00:00", "Giá sầu riêng ở Đạ Huoai tăng mạnh."),
    ],
    prev="101",
)
OLDER = page(
    [
        message(99, "2025-05-20T02:00:00+00:00", "Tin tháng năm."),
        message(100, "2025-06-01T02:00:00+00:00", "Lâm Đồng sáp nhập: 124 xã, phường."),
    ],
    prev="99",
)
OLDEST = page([], prev=None)


def channel_source(site: RouteSite) -> Source:
    return Source(
        id="tg-tinlamdong",
        name="Tin Lâm Đồng 24h (Telegram)",
        kind="telegram",
        url=f"{site.base_url}/s/{CHANNEL}",
        tier="social",
        account=CHANNEL,
    )


def settings_for(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path)
    settings.crawl.retries = 0
    settings.crawl.allowed_internal_hosts = LOOPBACK
    return settings


def routes() -> dict:
    return {
        f"/s/{CHANNEL}": NEWEST,
        f"/s/{CHANNEL}?before=101": OLDER,
        f"/s/{CHANNEL}?before=99": OLDEST,
    }


def test_channel_pages_back_newest_first_skipping_media_only(tmp_path):
    with RouteSite(routes()) as site:
        events = list(collect([channel_source(site)], settings_for(tmp_path)))
    documents = [e.document for e in events if isinstance(e, ItemEvent)]
    assert [d.url for d in documents] == [
        f"https://t.me/{CHANNEL}/{n}" for n in (103, 102, 100, 99)
    ]
    alarm = documents[1]
    assert alarm.id == f"telegram:{CHANNEL}:102"
    assert alarm.text == (
        "Nóng: sạt lở đèo Prenn!\nNgười dân hạn chế lưu thông & theo dõi thông báo."
    )  # the quoted reply is not part of the message
    assert alarm.title == "Nóng: sạt lở đèo Prenn!"
    assert alarm.published_at == datetime(2025, 6, 3, 2, tzinfo=UTC)
    assert alarm.authors == ["Tin Lâm Đồng 24h"]
    assert (alarm.extractor, alarm.date_source) == ("telegram-web", "page")
    done = events[-1]
    assert isinstance(done, SourceDoneEvent)
    assert (done.entries, done.skipped_empty) == (4, 1)  # entries: posts with text
    assert site.requested == list(routes())


def test_since_stops_paging(tmp_path):
    since = {"tg-tinlamdong": datetime(2025, 6, 2, tzinfo=UTC)}
    with RouteSite(routes()) as site:
        events = list(collect([channel_source(site)], settings_for(tmp_path), since))
    urls = [e.document.url for e in events if isinstance(e, ItemEvent)]
    assert urls == [f"https://t.me/{CHANNEL}/103", f"https://t.me/{CHANNEL}/102"]
    assert f"/s/{CHANNEL}?before=99" not in site.requested


def test_unknown_channel_is_a_failure(tmp_path):
    landing = Route(b"<html><body><div class='tgme_page'>Telegram</div></body></html>")
    with RouteSite({f"/s/{CHANNEL}": landing}) as site:
        (failure,) = collect([channel_source(site)], settings_for(tmp_path))
    assert isinstance(failure, FailureEvent)
    assert (failure.reason, failure.source_id) == ("not_found", "tg-tinlamdong")
