"""The README's first command: `mediawatch demo` starts, serves its URL, its queue is not empty."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mediawatch.cli import DEMO_MARKER
from tests.conftest import REPO, login


def read_until(process: subprocess.Popen, pattern: str, timeout: float) -> tuple[re.Match, str]:
    """Read output lines in a thread, so a silent process cannot hang the test."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen += lines.get(timeout=1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        found = re.search(pattern, seen, re.DOTALL)
        if found:
            return found, seen
    raise AssertionError(f"no {pattern!r} in demo output:\n{seen}")


def test_demo_serves_a_dashboard_with_a_non_empty_queue(tmp_path):
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    command = Path(sys.executable).with_name("mediawatch")  # the installed console script
    process = subprocess.Popen(
        [str(command), "demo", "--port", "0", "--data-dir", str(tmp_path / "demo")],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        found, output = read_until(
            process,
            r"mediawatch đang chạy:\s*(http://127\.0\.0\.1:\d+)/"
            r".*?Đăng nhập \(login\): (\S+) / (\S+)"
            r".*?API token: (\S+)",
            timeout=180,
        )
        url, username, password, token = found.groups()
        assert "Đã lưu" in output
        assert "[admin]" in output  # each login says its role (rich must not eat it as markup)
        with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as client:
            for _ in range(100):
                try:
                    first = client.get("/")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert first.status_code == 303 and first.headers["location"].startswith("/login")
            bad = login(client, username, "wrong-password")
            assert bad.status_code == 401
            assert login(client, username, password).status_code == 303
            queue_page = client.get("/")
            assert queue_page.status_code == 200
            assert queue_page.text.count('class="item-link"') >= 5
            api = client.get("/api/review/queue", headers={"Authorization": f"Bearer {token}"})
            assert api.json()["total"] >= 5
        # The audit key goes with the demo's data, which the next demo wipes: none is left
        # beside it to read the next, empty log as one cut short.
        assert (tmp_path / "demo" / "audit-keys" / "audit.key").is_file()
        assert not (tmp_path / "demo-audit-keys").exists()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def mediawatch(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The installed console script in a subprocess, with its data in ``data_dir``."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("mediawatch")), *args],
        cwd=REPO,
        env=os.environ | {"MEDIAWATCH_DATA_DIR": str(data_dir), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program holds (listening), as a second demo would find it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        yield held.getsockname()[1]


def test_a_busy_port_stops_the_demo_before_it_deletes_anything(tmp_path, busy_port):
    data_dir = tmp_path / "demo"  # an earlier demo's folder: the demo may wipe it, not yet
    data_dir.mkdir()
    (data_dir / DEMO_MARKER).write_text("")
    (data_dir / "accounts.db").write_bytes(b"accounts of the running demo")
    result = mediawatch(
        "demo", "--port", str(busy_port), "--data-dir", str(data_dir), data_dir=data_dir
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"127.0.0.1:{busy_port}" in result.stdout and "--port" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert (data_dir / "accounts.db").read_bytes() == b"accounts of the running demo"


def test_the_demo_refuses_to_wipe_a_folder_it_did_not_make(tmp_path):
    data_dir = tmp_path / "real"
    data_dir.mkdir()
    (data_dir / "accounts.db").write_bytes(b"real accounts")
    (data_dir / "audit.db").write_bytes(b"real audit log")
    result = mediawatch("demo", "--port", "0", "--data-dir", str(data_dir), data_dir=data_dir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "not a demo folder" in result.stdout and str(data_dir) in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert (data_dir / "accounts.db").read_bytes() == b"real accounts"
    assert (data_dir / "audit.db").read_bytes() == b"real audit log"


def test_run_on_a_busy_port_says_so_in_one_sentence(tmp_path, busy_port):
    data_dir = tmp_path / "data"
    result = mediawatch("run", "--port", str(busy_port), data_dir=data_dir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"127.0.0.1:{busy_port}" in result.stdout and "--port" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not (data_dir / "accounts.db").exists()  # nobody created before the port was checked
