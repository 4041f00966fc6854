"""Exports over real loopback HTTP: CSV with a BOM, XLSX read back, background jobs."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

import api.routers.exports as exports_router
from api.app import create_app
from api.export_jobs import INTERRUPTED, ExportJobs
from mediawatch.accounts import Accounts
from mediawatch.audit import AuditLog
from mediawatch.config import ExportSettings
from mediawatch.model import Role, Sentiment
from tests.conftest import ANALYST_TOKEN, OTHER_TOKEN, LiveServer
from tests.factories import make_document

AT = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)  # 01:30 on the 21st in Vietnam


@pytest.fixture
def stored(store):
    documents = [
        make_document(
            f"https://a.vn/{n}",
            f"Thu hồi đất số {n}",
            "Người dân Đà Lạt lo lắng về đất đai",
            topics=("land",),
            sentiment=Sentiment.NEGATIVE,
            published_at=AT - timedelta(minutes=n),
        ).model_copy(update={"authors": ["Nguyễn Văn A"], "places": ["da-lat"]})
        for n in range(3)
    ]
    store.upsert(documents)
    return documents


def rows_of_csv(response: httpx.Response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_search_exports_as_csv_in_vietnamese(api_client, stored, settings):
    response = api_client.get("/api/exports/items.csv", params={"text": "dat dai", "limit": 1})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header, *rows = rows_of_csv(response)
    assert header[:5] == ["Mã tin", "Thời điểm", "Nguồn", "Loại nguồn", "Tiêu đề"]
    assert len(rows) == 3  # the whole search, not one page
    assert rows[0][1] == "21/11/2026 01:30" and rows[0][3] == "Báo chí"
    assert rows[0][8] == "Tiêu cực" and rows[0][-1] == "Nguyễn Văn A"
    exports = AuditLog(settings.audit_path).entries(action="export")
    assert [(e.actor, e.detail["rows"], e.detail["query"]) for e in exports] == [
        ("reviewer1", 3, {"text": "dat dai", "limit": 1})
    ]
    assert AuditLog(settings.audit_path).entries(action="author.view")


def test_authors_are_left_out_for_roles_that_need_not_see_them(api_client, stored, settings):
    settings.security.author_roles = [Role.ADMIN]
    header, *rows = rows_of_csv(api_client.get("/api/exports/items.csv"))
    assert header[-1] == "Tác giả" and {row[-1] for row in rows} == {""}
    assert not AuditLog(settings.audit_path).entries(action="author.view")


def test_a_search_exports_as_xlsx_with_real_dates(api_client, stored):
    response = api_client.get("/api/exports/items.xlsx", params={"topics": "land"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Mã tin" and len(rows) == 4
    assert rows[1][1] == datetime(2026, 11, 21, 1, 30)  # local time, as Excel shows it
    assert rows[1][7] == "da-lat"


def test_a_trend_exports_with_local_days(api_client, stored):
    params = {
        "since": "2026-11-19T00:00:00Z",
        "until": "2026-11-23T00:00:00Z",
        "dimension": "sentiment",
    }
    assert rows_of_csv(api_client.get("/api/exports/trends.csv", params=params)) == [
        ["Bắt đầu", "Sắc thái", "Số tin"],
        ["21/11/2026 00:00", "negative", "3"],
    ]
    sheet = load_workbook(
        io.BytesIO(api_client.get("/api/exports/trends.xlsx", params=params).content)
    ).active
    assert list(sheet.iter_rows(values_only=True))[1] == (datetime(2026, 11, 21), "negative", 3)
    bad = api_client.get("/api/exports/trends.csv", params=params | {"dimension": "colour"})
    assert bad.status_code == 422
    assert api_client.get("/api/exports/items.pdf").status_code == 422


def test_too_large_for_a_direct_export_says_what_to_do(api_client, stored, monkeypatch):
    monkeypatch.setattr(exports_router, "MAX_DIRECT_ROWS", 2)
    response = api_client.get("/api/exports/items.csv")
    assert response.status_code == 413
    assert "POST /api/exports" in response.json()["detail"]


def wait_for(client: httpx.Client, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while (job := client.get(f"/api/exports/{job_id}").json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_a_large_export_runs_in_the_background_and_misses_nothing(
    live_api, api_client, store, settings
):
    documents = [
        make_document(f"https://b.vn/{n}", f"Tin {n}", "Nội dung", published_at=AT)
        for n in range(250)  # same time: only the cursor's tie-break keeps the order
    ]
    documents[7] = documents[7].model_copy(update={"authors": ["Trần Thị B"]})
    store.upsert(documents)
    started = api_client.post("/api/exports", json={"format": "csv", "search": {}})
    assert started.status_code == 202
    job = wait_for(api_client, started.json()["id"])
    assert (job["state"], job["rows"], job["total"]) == ("done", 250, 250)
    download = api_client.get(f"/api/exports/{job['id']}/download")
    rows = rows_of_csv(download)[1:]
    assert sorted(row[0] for row in rows) == sorted(d.id for d in documents)
    assert [row[-1] for row in rows if row[-1]] == ["Trần Thị B"]
    with httpx.Client(
        base_url=live_api.url, headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
    ) as other:
        assert other.get(f"/api/exports/{job['id']}").status_code == 403
        assert other.get(f"/api/exports/{job['id']}/download").status_code == 403
    assert api_client.get("/api/exports/nope").status_code == 404
    both = api_client.post("/api/exports", json={"format": "csv"})
    assert both.status_code == 422
    audit = AuditLog(settings.audit_path)
    assert [e.detail["rows"] for e in audit.entries(action="export")] == [250]
    assert len(audit.entries(action="export.download")) == 1
    (shown,) = audit.entries(action="author.view")  # the gate ran in the background too
    assert shown.actor == "reviewer1" and shown.target == documents[7].id


def test_a_failed_job_records_its_error_and_keeps_no_file(tmp_path):
    jobs = ExportJobs(tmp_path / "exports")

    def broken(out, progress):
        out.write(b"half a file")
        raise ValueError("the store went away")

    job = jobs.submit("analyst1", "items", "csv", "{}", broken)
    jobs.shutdown()
    failed = jobs.get(job.id)
    assert failed.state == "failed" and failed.error == "ValueError: the store went away"
    assert not jobs.file(failed).exists()
    assert ExportJobs(tmp_path / "exports").get(job.id).state == "failed"


def test_hostile_titles_are_text_not_formulas(api_client, store):
    titles = ['=HYPERLINK("http://lua-dao.example","Bấm vào")', "@SUM(1+1)", "- Tin vắn"]
    store.upsert(
        make_document(f"https://c.vn/{n}", title, "Nội dung", published_at=AT - timedelta(hours=n))
        for n, title in enumerate(titles)
    )
    rows = rows_of_csv(api_client.get("/api/exports/items.csv"))[1:]
    assert [row[4] for row in rows] == ["'" + title for title in titles]
    content = api_client.get("/api/exports/items.xlsx").content
    sheet = load_workbook(io.BytesIO(content)).active
    cells = [row[4] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in cells] == titles
    assert {cell.data_type for cell in cells} == {"s"}


def test_a_trend_exports_in_the_background_too(api_client, stored):
    body = {
        "format": "xlsx",
        "trend": {"since": "2026-11-19T00:00:00Z", "until": "2026-11-23T00:00:00Z"},
    }
    job = wait_for(api_client, api_client.post("/api/exports", json=body).json()["id"])
    assert (job["state"], job["kind"], job["rows"]) == ("done", "trends", 1)
    sheet = load_workbook(
        io.BytesIO(api_client.get(f"/api/exports/{job['id']}/download").content)
    ).active
    assert list(sheet.iter_rows(values_only=True)) == [
        ("Bắt đầu", "Chủ đề", "Số tin"),
        (datetime(2026, 11, 21), "land", 3),
    ]


def test_old_export_files_are_deleted_and_their_jobs_say_so(tmp_path):
    jobs = ExportJobs(tmp_path / "exports")
    job = jobs.submit("analyst1", "items", "csv", "{}", lambda out, progress: out.write(b"x"))
    jobs.shutdown()
    assert jobs.file(job).exists()
    assert jobs.expire(datetime.now(UTC) - timedelta(days=1)) == 0  # too recent
    ExportJobs(tmp_path / "exports", ExportSettings(keep_days=0))  # a restart a week later
    assert jobs.get(job.id).state == "expired"
    assert not jobs.file(job).exists()


@contextmanager
def analyst_api(settings, store) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """The API served with ``settings`` as the test changed them, and the analyst's client."""
    headers = {"Authorization": f"Bearer {ANALYST_TOKEN}"}
    with (
        LiveServer(create_app(settings, store)) as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=30) as analyst,
    ):
        yield server, analyst


def test_each_person_may_have_few_exports_open_and_few_a_day(settings, store, stored):
    """150 background exports in a row by one analyst (all kept a week) are not possible:
    2 open at once and 20 a day by default; past them 429, saying when to try again."""
    settings.exports.max_per_day = 3
    body = {"format": "csv", "search": {"text": "dat dai"}}
    release = threading.Event()
    with analyst_api(settings, store) as (server, analyst):
        jobs = server._server.config.app.state.export_jobs
        waiting = [
            jobs.submit("analyst1", "items", "csv", "{}", lambda out, _p: release.wait(30) and 0)
            for _ in range(2)
        ]
        busy = analyst.post("/api/exports", json=body)
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "30"
        assert "chưa xong" in busy.json()["detail"]
        release.set()
        for job in waiting:
            wait_for(analyst, job.id)
        third = analyst.post("/api/exports", json=body)
        assert third.status_code == 202
        wait_for(analyst, third.json()["id"])
        refused = analyst.post("/api/exports", json=body)
        assert refused.status_code == 429
        assert "24 giờ" in refused.json()["detail"]
        assert 86_000 < int(refused.headers["Retry-After"]) <= 86_401
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
        ) as other:
            assert other.post("/api/exports", json=body).status_code == 202  # their own count


def test_expired_files_are_deleted_while_the_api_runs(settings, store, stored):
    settings.exports.sweep_minutes = 0.01
    with analyst_api(settings, store) as (_server, analyst):
        started = analyst.post("/api/exports", json={"format": "csv", "search": {}})
        job = wait_for(analyst, started.json()["id"])
        path = settings.exports_dir / f"{job['id']}.csv"
        assert job["state"] == "done" and path.exists()
        week_ago = (datetime.now(UTC) - timedelta(days=7, minutes=1)).isoformat()
        with sqlite3.connect(settings.exports_dir / "jobs.db") as jobs_db:  # it aged a week
            jobs_db.execute("UPDATE export_jobs SET finished_at = ?", (week_ago,))
        deadline = time.monotonic() + 10
        while path.exists():
            assert time.monotonic() < deadline, "not swept"
            time.sleep(0.1)
        assert analyst.get(f"/api/exports/{job['id']}").json()["state"] == "expired"


ROOT = Path(__file__).resolve().parents[1]


def other_worker(script: str, directory: Path) -> subprocess.CompletedProcess:
    """A second worker: another process on the same exports directory."""
    prelude = "import os, sys\nfrom pathlib import Path\nfrom api.export_jobs import ExportJobs\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + script, str(directory)],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )


def test_a_starting_worker_leaves_the_jobs_of_live_workers_alone(tmp_path):
    directory = tmp_path / "exports"
    jobs = ExportJobs(directory)
    building, release = threading.Event(), threading.Event()

    def slow(out, progress):
        building.set()
        release.wait()
        out.write(b"x")
        return 1

    job = jobs.submit("analyst1", "items", "csv", "{}", slow)
    try:
        assert building.wait(timeout=60)
        started = other_worker("ExportJobs(Path(sys.argv[1])).shutdown()", directory)
        assert started.returncode == 0, started.stderr
        assert jobs.get(job.id).state == "running"
    finally:
        release.set()
        jobs.shutdown()
    assert jobs.get(job.id).state == "done"


def test_a_job_whose_worker_died_is_failed_at_the_next_start(tmp_path):
    directory = tmp_path / "exports"
    crashed = other_worker(
        "def dies(out, progress):\n"
        "    out.write(b'half a file')\n"
        "    out.flush()\n"
        "    os._exit(9)\n"
        "jobs = ExportJobs(Path(sys.argv[1]))\n"
        "jobs.submit('analyst1', 'items', 'csv', '{}', dies)\n"
        "jobs.shutdown()\n",
        directory,
    )
    assert crashed.returncode == 9, crashed.stderr
    jobs = ExportJobs(directory)
    (row,) = sqlite3.connect(directory / "jobs.db").execute("SELECT id FROM export_jobs")
    failed = jobs.get(row[0])
    assert (failed.state, failed.error) == ("failed", INTERRUPTED)
    assert not jobs.file(failed).exists()


def test_jobs_from_before_workers_were_recorded_are_upgraded(tmp_path):
    directory = tmp_path / "exports"
    directory.mkdir()
    with sqlite3.connect(directory / "jobs.db") as old:  # the first release's table
        old.execute(
            "CREATE TABLE export_jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
            "kind TEXT NOT NULL, format TEXT NOT NULL, query TEXT NOT NULL, state TEXT NOT NULL, "
            "rows INTEGER NOT NULL DEFAULT 0, total INTEGER, error TEXT, "
            "created_at TEXT NOT NULL, finished_at TEXT)"
        )
        now = datetime.now(UTC).isoformat()
        old.executemany(
            "INSERT INTO export_jobs (id, owner, kind, format, query, state, created_at, "
            "finished_at) VALUES (?, 'analyst1', ?, 'csv', '{}', ?, ?, ?)",
            [
                ("items", "items", "done", now, now),
                ("trends", "trends", "done", now, now),
                ("lost", "items", "running", now, None),
            ],
        )
    jobs = ExportJobs(directory)
    assert jobs.get("items").authors and not jobs.get("trends").authors  # names possible
    assert jobs.get("lost").state == "failed"  # no worker recorded: nobody builds it


def test_a_built_export_is_not_handed_to_someone_who_may_no_longer_see_authors(
    api_client, stored, settings
):
    def built(body: dict) -> dict:
        return wait_for(api_client, api_client.post("/api/exports", json=body).json()["id"])

    items = built({"format": "csv", "search": {}})
    trend = {"since": "2026-11-19T00:00:00Z", "until": "2026-11-23T00:00:00Z"}
    trends = built({"format": "csv", "trend": trend})
    assert (items["state"], items["authors"], trends["authors"]) == ("done", True, False)

    accounts = Accounts(settings.accounts_path)
    accounts.update("reviewer1", role=Role.ANALYST)  # analysts export, but see no authors
    refused = api_client.get(f"/api/exports/{items['id']}/download")
    assert refused.status_code == 403
    assert "no longer see" in refused.json()["detail"]
    assert api_client.get(f"/api/exports/{trends['id']}/download").status_code == 200

    accounts.update("reviewer1", role=Role.REVIEWER)
    rows = rows_of_csv(api_client.get(f"/api/exports/{items['id']}/download"))[1:]
    assert {row[-1] for row in rows} == {"Nguyễn Văn A"}
    downloads = AuditLog(settings.audit_path).entries(action="export.download")
    assert [entry.detail["authors"] for entry in downloads] == [False, True]
