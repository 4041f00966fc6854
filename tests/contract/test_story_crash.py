"""A story counts only stored items, even when the process writing them is killed (kill -9)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from classifier.service import Classifier
from index.elastic import ElasticStore
from index.store import Store
from mediawatch.config import Settings
from mediawatch.pipeline import Pipeline
from mediawatch.stories import StoryIndex
from tests.conftest import REPO

ITEMS = 600
RUMOURS = [
    f"Tin đồn số {n}: tỉnh Lâm Đồng sắp thu hồi toàn bộ đất nông nghiệp chưa có sổ đỏ ở "
    f"huyện thứ {n} để giao cho một tập đoàn làm sân golf, người dân chỉ được bồi thường "
    f"mười phần trăm giá thị trường và phải ký giấy trước cuối tuần thứ {n}."
    for n in range(30)
]


def rumour_file(path: Path) -> Path:
    """Copies of 30 rumours, each with its own ending: many stories of many items."""
    with path.open("w", encoding="utf-8") as stream:
        for n in range(ITEMS):
            row = {
                "url": f"https://mxh.example.vn/bai/{n}",
                "title": f"Chia sẻ số {n}",
                "text": f"{RUMOURS[n % len(RUMOURS)]} Người chia sẻ thứ {n} đề nghị lan truyền.",
                "source_id": f"nhom-{n % 7}",
                "published_at": "2026-11-20T08:00:00+07:00",
            }
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def environment(settings: Settings, store: Store) -> dict[str, str]:
    env = os.environ | {"MEDIAWATCH_DATA_DIR": str(settings.data_dir)}
    if isinstance(store, ElasticStore):
        elastic = store.settings
        env |= {
            "MEDIAWATCH_STORE": "elasticsearch",
            "MEDIAWATCH_ELASTICSEARCH__URLS": json.dumps(elastic.urls),
            "MEDIAWATCH_ELASTICSEARCH__INDEX_PREFIX": elastic.index_prefix,
            "MEDIAWATCH_ELASTICSEARCH__REFRESH_WRITES": "true",
        }
    return env


def members(stories: Path) -> set[str]:
    with sqlite3.connect(stories) as db:
        return {row[0] for row in db.execute("SELECT item_id FROM story_items")}


def kill_while_writing(command: list[str], env: dict[str, str], stories: Path) -> None:
    """Start the import; once 150 items have stories, kill it -9 at the next write to the
    story file: between a batch's stories and its store write, if ever."""
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wal = stories.with_name(stories.name + "-wal")
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if stories.exists() and len(members(stories)) >= 150:
                break
            time.sleep(0.05)
        last = wal.stat().st_mtime_ns if wal.exists() else 0
        while time.monotonic() < deadline and process.poll() is None:
            if wal.exists() and wal.stat().st_mtime_ns != last:
                break
            time.sleep(0.005)
        assert process.poll() is None, "the import ended before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def test_a_killed_import_leaves_no_story_counting_unstored_items(
    tmp_path, settings: Settings, store: Store, classifier: Classifier
):
    source = rumour_file(tmp_path / "chia-se.jsonl")
    command = [sys.executable, "-m", "mediawatch.cli", "import", str(source)]
    kill_while_writing(command, environment(settings, store), settings.stories_path)

    stored = {d.id: d for d in store.export_documents()}
    assert 0 < len(stored) < ITEMS
    counted = members(settings.stories_path)
    assert counted <= set(stored), f"{len(counted - set(stored))} story members never stored"

    # The next start settles what the kill left half done: every stored item is counted once.
    with StoryIndex(settings.stories_path) as stories:
        Pipeline(store, classifier, settings, stories=stories)
        with_story = {item_id for item_id, d in stored.items() if d.story_id}
        assert members(settings.stories_path) == with_story
        story_ids = {d.story_id for d in stored.values() if d.story_id}
        sizes = stories.stats_for(story_ids)
        assert sum(s.size for s in sizes.values()) == len(with_story)
        assert max(s.size for s in sizes.values()) > 1  # copies did join their stories
