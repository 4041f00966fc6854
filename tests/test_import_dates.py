"""``mediawatch import`` takes dates through the same bound as ingest and the crawl: a row
dated at the calendar's ends is imported with its date recorded as unknown, never refused."""

from __future__ import annotations

import json

import pytest
import structlog
from typer.testing import CliRunner

from index.sqlite import SQLiteStore
from mediawatch.cli import app
from mediawatch.config import Settings
from mediawatch.identity import web_item_id
from mediawatch.model import DateProblem

ROWS = [
    ("https://baolamdong.vn/nam-9999", "9999-12-31T23:59:59+07:00", DateProblem.IN_FUTURE),
    ("https://baolamdong.vn/nam-1", "0001-01-01T00:00:00+01:00", DateProblem.UNREPRESENTABLE),
    ("https://baolamdong.vn/nam-1975", "1975-04-30T11:30:00+07:00", DateProblem.TOO_EARLY),
]


@pytest.fixture(autouse=True)
def _restore_logging():
    """The command points structlog at the runner's stream, closed once the run is over."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_rows_dated_out_of_range_are_imported_undated_with_the_reason(tmp_path):
    data = tmp_path / "tin.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {"url": url, "title": f"Tin {n}", "text": "Nội dung.", "source_id": "vendor-a"}
                | {"published_at": written}
            )
            + "\n"
            for n, (url, written, _problem) in enumerate(ROWS)
        ),
        encoding="utf-8",
    )
    env = {"MEDIAWATCH_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(app, ["import", str(data)], env=env)
    assert result.exit_code == 0, result.output
    store = SQLiteStore(Settings(data_dir=tmp_path / "data").database_path)
    for url, written, problem in ROWS:
        item = store.get(web_item_id(url))
        assert item.published_at is None
        assert (item.date_rejected.written, item.date_rejected.problem) == (written, problem)
    assert not (tmp_path / "tin.jsonl.rejects.jsonl").exists()
