from datetime import UTC, datetime

import pytest

from crawlers.dates import parse_vietnamese_date
from crawlers.feeds import parse_feed


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("9/14/2026 6:44:00 PM", datetime(2026, 9, 14, 11, 44, tzinfo=UTC)),
        ("9/14/2026 12:05:00 AM", datetime(2026, 9, 13, 17, 5, tzinfo=UTC)),
        ("13/9/2026 08:00", datetime(2026, 9, 13, 1, 0, tzinfo=UTC)),
        ("Mon, 14 Sep 2026 19:46:22 +07", datetime(2026, 9, 14, 12, 46, 22, tzinfo=UTC)),
        ("Tue, 15 Sep 2026 09:02:15 GMT+7", datetime(2026, 9, 15, 2, 2, 15, tzinfo=UTC)),
    ],
)
def test_vietnamese_date_forms(raw, utc):
    parsed = parse_vietnamese_date(raw)
    assert parsed is not None
    assert datetime(*parsed[:6], tzinfo=UTC) == utc


@pytest.mark.parametrize(
    "raw",
    ["hôm qua", "Mon, 14 Sep 2026 19:46:22 +0700", "2/30/2026 10:00:00 AM", "", "14/14/2026 1:00"],
)
def test_other_forms_are_left_to_feedparser_or_refused(raw):
    assert parse_vietnamese_date(raw) is None


def test_an_unreadable_date_is_no_date_not_a_guess():
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><item><title>Tin</title>'
        "<link>https://bao.vn/a</link><pubDate>sáng nay</pubDate></item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(body, "https://bao.vn/rss").entries
    assert entry.published is None
