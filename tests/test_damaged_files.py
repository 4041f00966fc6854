"""A corrupt or truncated SQLite file stops the start with one sentence naming it and what to
do (exit 2), instead of a traceback or a service that answers 500."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from api.app import create_app
from index.sqlite import SQLiteStore
from mediawatch import sqlite_files
from mediawatch.config import Settings
from mediawatch.sqlite_files import DamagedFile
from tests.conftest import REPO

# Every SQLite file the service opens at start, relative to the data folder.
FILES = [
    "mediawatch.db",
    "accounts.db",
    "audit.db",
    "claims.db",
    "watchlists.db",
    "stories.db",
    "crawl-state.db",
    "topic-labels.db",
    "exports/jobs.db",
]

BUILD = "from api.app import create_app; from index.sqlite import SQLiteStore; from mediawatch.config import Settings; s = Settings(); create_app(s, SQLiteStore(s.database_path))"  # noqa: E501


@pytest.fixture(scope="module")
def sound_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every file made by the real code, in a process that then exits (its WAL checkpointed)."""
    data_dir = tmp_path_factory.mktemp("sound")
    subprocess.run(
        [sys.executable, "-c", BUILD],
        env=os.environ | {"MEDIAWATCH_DATA_DIR": str(data_dir)},
        check=True,
        timeout=120,
    )
    for name in FILES:
        assert (data_dir / name).stat().st_size > 100, name
    return data_dir


def damaged_copy(sound: Path, target: Path, name: str, how: str) -> Path:
    """A copy of the data folder with one file truncated (a full disk) or garbled."""
    subprocess.run(["cp", "-r", str(sound), str(target)], check=True)
    path = target / name
    if how == "truncated":
        os.truncate(path, 50)
    else:
        with path.open("r+b") as file:
            file.write(b"this is not a SQLite file at all")
    return path


@pytest.mark.parametrize("name", FILES)
def test_run_names_a_damaged_file_and_exits_2(tmp_path, sound_data_dir, name):
    how = "truncated" if FILES.index(name) % 2 else "garbled"
    path = damaged_copy(sound_data_dir, tmp_path / "data", name, how)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("mediawatch")), "run", "--port", "0"],
        cwd=REPO,
        env=os.environ | {"MEDIAWATCH_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert str(path) in result.stdout and "bản sao lưu" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["mediawatch.db", "accounts.db", "claims.db"])
def test_the_api_does_not_build_on_a_damaged_file(tmp_path, sound_data_dir, name):
    path = damaged_copy(sound_data_dir, tmp_path / "data", name, "garbled")
    settings = Settings(data_dir=tmp_path / "data")
    with pytest.raises(DamagedFile, match="file is not a database") as raised:
        create_app(settings, SQLiteStore(settings.database_path))
    assert raised.value.path == path
    assert path.read_bytes().startswith(b"this is not")  # nothing replaced: it may be recovered


@pytest.mark.parametrize("name", ["mediawatch.db", "audit.db", "claims.db"])
def test_a_big_file_is_checked_by_its_structure_and_damage_still_found(
    tmp_path, sound_data_dir, name, monkeypatch
):
    """Above FULL_CHECK_MAX_BYTES a start no longer reads every page (a 1 GB store took
    ~21 s cold): the header, its page count against the file's size and the schema are
    what is checked, and they still find a garbled file and one cut short by a full disk."""
    monkeypatch.setattr(sqlite_files, "FULL_CHECK_MAX_BYTES", 0)  # every file counts as big
    sound = tmp_path / "sound"
    subprocess.run(["cp", "-r", str(sound_data_dir), str(sound)], check=True)
    sqlite_files.check(sound / name)  # a sound file passes

    garbled = damaged_copy(sound_data_dir, tmp_path / "garbled", name, "garbled")
    with pytest.raises(DamagedFile, match="file is not a database"):
        sqlite_files.check(garbled)
    cut = damaged_copy(sound_data_dir, tmp_path / "cut", name, "truncated")
    with pytest.raises(DamagedFile, match="file is not a database"):
        sqlite_files.check(cut)
    halved = tmp_path / "halved" / name
    halved.parent.mkdir(parents=True)
    content = (sound_data_dir / name).read_bytes()
    halved.write_bytes(content[: len(content) // 2])  # the header intact, the rest lost
    with pytest.raises(DamagedFile) as raised:  # shorter than its header says: read all
        sqlite_files.check(halved)
    assert raised.value.path == halved and halved.stat().st_size == len(content) // 2


def test_a_big_file_is_not_read_page_by_page_at_start(tmp_path, monkeypatch):
    """What the structural check gives up, by design: a page damaged in the middle of a big
    file (which only reading every page finds) is left to the request that reads it."""
    monkeypatch.setattr(sqlite_files, "FULL_CHECK_MAX_BYTES", 0)
    path = tmp_path / "big.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, text TEXT)")
        rows = [(i, f"Tin số {i} về Lâm Đồng. " * 40) for i in range(400)]
        connection.executemany("INSERT INTO documents VALUES (?, ?)", rows)
        connection.commit()
    size = path.stat().st_size
    with path.open("r+b") as file:  # a page in the middle, header and first page intact
        file.seek(size // 2 // 4096 * 4096)
        file.write(b"\xff" * 4096)
    sqlite_files.check(path)  # the start does not read that page…
    with closing(sqlite3.connect(path)) as connection, pytest.raises(sqlite3.DatabaseError):
        connection.execute("SELECT max(length(text)) FROM documents").fetchall()  # …a read does
