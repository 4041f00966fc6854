"""The README's first command: `mediawatch demo` starts, serves its URL, its queue is not empty."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

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
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
