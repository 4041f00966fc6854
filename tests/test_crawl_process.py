"""The crawl child's events are read on a thread: the child never waits for the caller, and
a dead child, a bad line or an early stop still ends cleanly (error raised, process reaped)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from crawlers.events import SourceDoneEvent
from crawlers.process import QUEUE_EVENTS, CrawlProcessError, read_events

# A child that prints ``count`` events (the first names its pid) and then does ``then``.
CHILD = """
import os, signal, sys, time
count, then, padding = int(sys.argv[1]), sys.argv[2], sys.argv[3]
job = sys.stdin.read()
for i in range(count):
    source = str(os.getpid()) if i == 0 else f"s{i}"
    line = f'{{"event":"source_done","source_id":"{source}","entries":{i},'
    sys.stdout.write(line + f'"skipped_known":0,"warning":"{padding}"}}\\n')
sys.stdout.flush()
if then == "done":
    open(job, "w").close()
elif then == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
elif then == "garbage":
    sys.stdout.write("not json\\n")
    sys.stdout.flush()
    time.sleep(60)
elif then == "undecodable":
    sys.stdout.buffer.write(b"\\xff\\xfe\\n")
    sys.stdout.flush()
    time.sleep(60)
elif then == "hang":
    time.sleep(60)
"""


def child(count: int, then: str, padding: int = 0) -> list[str]:
    return [sys.executable, "-c", CHILD, str(count), then, "x" * padding]


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "crawl-events"]


def assert_reaped(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # a zombie would still answer
    assert not reader_threads()


def test_the_child_keeps_writing_while_the_caller_holds_an_event(tmp_path: Path):
    done = tmp_path / "child-finished"
    # 400 events of 1 kB: several times what a pipe holds.
    events = read_events(child(400, "done", padding=1000), str(done), tmp_path / "log")
    first = next(events)
    deadline = time.monotonic() + 20
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done.exists(), "the child waited for the caller instead of writing on"
    rest = list(events)
    assert [e.entries for e in [first, *rest]] == list(range(400))
    assert_reaped(int(first.source_id))


def test_a_child_killed_mid_stream_raises_after_its_events(tmp_path: Path):
    received: list[SourceDoneEvent] = []
    with pytest.raises(CrawlProcessError, match="exited with -9"):
        for event in read_events(child(5, "kill"), "", tmp_path / "log"):
            received.append(event)
    assert [e.entries for e in received] == list(range(5))
    assert_reaped(int(received[0].source_id))


@pytest.mark.parametrize("then", ["garbage", "undecodable"])
def test_an_unreadable_line_raises_and_stops_the_child(tmp_path: Path, then: str):
    received: list[SourceDoneEvent] = []
    with pytest.raises(CrawlProcessError, match="unreadable crawl"):
        for event in read_events(child(3, then), "", tmp_path / "log"):
            received.append(event)
    assert len(received) == 3
    assert_reaped(int(received[0].source_id))


def test_closing_early_stops_a_child_with_a_full_queue_and_pipe(tmp_path: Path):
    events = read_events(child(3 * QUEUE_EVENTS, "hang", padding=100), "", tmp_path / "log")
    first = next(events)
    time.sleep(0.5)  # let the queue and the pipe fill up
    started = time.monotonic()
    events.close()
    assert time.monotonic() - started < 10
    assert_reaped(int(first.source_id))
