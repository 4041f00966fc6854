"""What the start-up check of a SQLite file costs on a big store: ``PRAGMA quick_check``
(what every start ran on every file) against ``sqlite_files.check`` (structure only above
FULL_CHECK_MAX_BYTES), each with the file out of the page cache, as after a reboot.

    python -m bench.sqlite_start_check [SIZE_MB]   # default 1024; needs that much free disk
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from mediawatch import sqlite_files

WORDS = "Nghe nói tỉnh sắp thu hồi đất ở Lạc Dương Đà Lạt Bảo Lộc du lịch nông nghiệp".split()


def build(path: Path, size_bytes: int) -> None:
    """Rows shaped like stored items (an id, a source, a date, ~600 words), with an index."""
    rng = random.Random(1)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE items (id TEXT PRIMARY KEY, source TEXT, at TEXT, body TEXT)")
        db.execute("CREATE INDEX items_source ON items (source, at)")
        n = 0
        while path.stat().st_size < size_bytes:
            rows = [
                (f"web:{n + i:012d}", f"src-{rng.randrange(300)}", "2026-01-01", body)
                for i, body in enumerate(" ".join(rng.choices(WORDS, k=600)) for _ in range(2000))
            ]
            n += len(rows)
            db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", rows)
            db.commit()
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def cold(path: Path, run: Callable[[], object]) -> float:
    """Seconds ``run`` takes with the file's pages dropped from the page cache first."""
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.db"
        build(path, size_mb * 1024 * 1024)
        full = cold(path, lambda: sqlite_files._quick_check(path))
        now = cold(path, lambda: sqlite_files.check(path))
        print(
            f"{path.stat().st_size / 1e9:.2f} GB: PRAGMA quick_check {full:.2f} s; "
            f"check at start {now * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
