"""The stories benchmark, small: it runs the product's propose-then-record path, so it cannot
rot (it used StoryIndex.assign, which only it called)."""

from __future__ import annotations

from bench.stories_throughput import documents, measure
from mediawatch.stories import StoryIndex
from tests.conftest import shared_path


def test_the_benchmark_proposes_and_records_and_stories_form(tmp_path):
    shared_path("data/vntc/train.jsonl.gz")
    docs = documents(300)
    result = measure(docs, tmp_path)
    assert result.documents == 300
    assert result.stories < 300  # every tenth document copies an earlier one
    with StoryIndex(tmp_path / "stories.db") as index:  # every batch recorded, none pending
        members = index._db.execute("SELECT count(*) FROM story_items").fetchone()[0]
        pending = index._db.execute("SELECT count(*) FROM story_pending").fetchone()[0]
    assert (members, pending) == (300, 0)
