"""feedparser's own corpus of well-formed, ill-formed and mis-encoded feeds: every file is
read into entries or refused with a reason; nothing else ever escapes."""

from __future__ import annotations

import re

from crawlers.feeds import FeedError, parse_feed
from tests.conftest import shared_path

_HEADER = re.compile(rb"^\s*Header:\s*content-type:\s*(.+?)\s*$", re.I | re.M)


def test_every_corpus_file_is_parsed_or_refused_with_a_reason():
    folder = shared_path("fixtures/feedparser-tests")
    files = sorted(
        p for p in folder.rglob("*") if p.suffix in (".xml", ".json") and p.name != "manifest.json"
    )
    assert len(files) > 2000
    parsed = refused = 0
    for path in files:
        body = path.read_bytes()
        declared = _HEADER.search(body[:2000])
        content_type = declared.group(1).decode("latin-1") if declared else None
        try:
            feed = parse_feed(body, f"http://example.org/{path.name}", content_type)
        except FeedError as error:
            assert "not a usable feed" in str(error), path
            refused += 1
        else:
            assert all(e.link.startswith(("http://", "https://")) for e in feed.entries), path
            parsed += 1
    assert parsed > 1500  # refused: broken XML (undefined entities, unclosed tags), not feeds
    assert parsed + refused == len(files)
