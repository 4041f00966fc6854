"""`mediawatch users …` and `mediawatch audit …` on the real accounts and audit files."""

from __future__ import annotations

import getpass
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediawatch.accounts import Accounts
from mediawatch.audit import AuditLog
from mediawatch.cli import app
from mediawatch.model import Role
from tests.conftest import API_TOKEN, REPO


@pytest.fixture
def run(settings):
    runner = CliRunner()
    env = {"MEDIAWATCH_DATA_DIR": str(settings.data_dir)}

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(app, list(args), env=env, input=stdin)

    return invoke


def test_users_add_prints_a_generated_password_once(run, settings):
    result = run("users", "add", "canbo5", "--role", "analyst", "--email", "c5@example.gov.vn")
    assert result.exit_code == 0, result.output
    password = re.search(r"Mật khẩu \(password, shown once\): (\S+)", result.output).group(1)
    accounts = Accounts.from_settings(settings)
    assert accounts.authenticate("canbo5", password).ok
    assert accounts.get("canbo5").role == Role.ANALYST
    (entry,) = AuditLog(settings.audit_path).entries(action="user.add")
    assert (entry.actor, entry.via, entry.target) == (getpass.getuser(), "cli", "canbo5")


def test_users_add_reads_the_password_from_stdin_and_applies_the_policy(run, settings):
    weak = run("users", "add", "canbo6", "--role", "viewer", "--password-stdin", stdin="changeme\n")
    assert weak.exit_code == 2 and "Mật khẩu" in weak.output
    made = run(
        "users", "add", "canbo6", "--role", "viewer", "--password-stdin", stdin="mot-mat-khau-dai\n"
    )
    assert made.exit_code == 0 and "shown once" not in made.output
    assert Accounts.from_settings(settings).authenticate("canbo6", "mot-mat-khau-dai").ok
    assert run("users", "add", "canbo6", "--role", "viewer").exit_code == 2  # exists


def test_disable_enable_reset_and_list(run, settings):
    accounts = Accounts.from_settings(settings)
    assert run("users", "disable", "reviewer1").exit_code == 0
    assert accounts.get("reviewer1").disabled
    listed = run("users", "list")
    assert "reviewer1" in listed.output and "đã khóa" in listed.output
    assert run("users", "enable", "reviewer1").exit_code == 0
    assert not accounts.get("reviewer1").disabled
    for _ in range(settings.security.max_failed_logins):
        accounts.authenticate("reviewer1", "sai-mat-khau-roi")
    reset = run("users", "reset", "reviewer1")
    password = re.search(r"shown once\): (\S+)", reset.output).group(1)
    assert accounts.authenticate("reviewer1", password).ok  # unlocked too
    assert "Đã thu hồi 1 API token" in reset.output
    assert accounts.identify(API_TOKEN) is None
    assert run("users", "reset", "nobody").exit_code == 2
    actions = [e.action for e in AuditLog(settings.audit_path).entries(action="user.")]
    assert actions == ["user.update", "user.update", "user.reset"]


def test_audit_verify_passes_an_intact_log_and_names_a_tampered_entry(run, settings):
    log = AuditLog(settings.audit_path)
    for n in range(3):
        log.record("reviewer1", "search", via="token", detail={"q": f"đất đai {n}"})
    assert run("audit", "verify").exit_code == 0
    with sqlite3.connect(settings.audit_path) as connection:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("UPDATE audit SET actor = 'someone' WHERE seq = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("DELETE FROM audit WHERE seq = 2")
    with sqlite3.connect(settings.audit_path) as connection:  # behind SQLite's back
        connection.execute("DROP TRIGGER audit_no_update")
        connection.execute("UPDATE audit SET actor = 'someone' WHERE seq = 2")
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "#2: nội dung bị sửa (content altered" in broken.output


def test_audit_export_to_a_file_and_to_stdout(run, settings, tmp_path):
    log = AuditLog(settings.audit_path)
    log.record("reviewer1", "search", via="token", detail={"q": "thu hồi đất"})
    out = tmp_path / "audit.jsonl"
    assert run("audit", "export", "--format", "jsonl", "--out", str(out)).exit_code == 0
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["action"] for e in entries] == ["search", "audit.export"]
    assert entries[0]["detail"] == {"q": "thu hồi đất"}
    printed = run("audit", "export", "--since", "2000-01-01", "--until", "2000-01-02")
    assert printed.output.splitlines() == ["seq,at,actor,role,via,ip,action,target,detail"]
    assert run("audit", "export", "--format", "xml").exit_code == 2


def test_users_token_prints_a_new_token_or_registers_an_old_one(run, settings):
    accounts = Accounts.from_settings(settings)
    made = run("users", "token", "analyst1", "--label", "excel")
    secret = re.search(r"\(shown once\): (\S+)", made.output).group(1)
    assert accounts.identify(secret)[0].username == "analyst1"
    old = "an-old-token-from-the-env-file-0123456789"
    kept = run("users", "token", "analyst1", "--label", "old", "--secret-stdin", stdin=old + "\n")
    assert kept.exit_code == 0 and old not in kept.output
    assert accounts.identify(old)[0].username == "analyst1"
    short = run("users", "token", "analyst1", "--label", "x", "--secret-stdin", stdin="short\n")
    assert short.exit_code == 2
    assert len(AuditLog(settings.audit_path).entries(action="token.create")) == 2


def _tamper(settings, *statements: str) -> None:
    """Behind the app's back, as an attacker who can write the file but has not the key."""
    with sqlite3.connect(settings.audit_path) as connection:
        for statement in statements:
            connection.execute(statement)


_RESTORE_TRIGGERS = (
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)
_DROP_TRIGGERS = ("DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete")


@pytest.fixture
def five_entries(settings):
    log = AuditLog.from_settings(settings)
    for n in range(5):
        log.record("reviewer1", "search", via="token", detail={"q": f"đất đai {n}"})
    return log


def test_the_key_and_anchor_live_apart_from_the_log_and_the_key_is_private(
    run, settings, five_entries
):
    key, anchor = five_entries.key_file, five_entries.anchor_file
    assert settings.data_dir not in key.parents and settings.data_dir not in anchor.parents
    assert key.stat().st_mode & 0o777 == 0o600
    assert json.loads(anchor.read_text())["last_seq"] == 5
    assert run("audit", "verify").exit_code == 0


def test_verify_finds_the_last_entries_deleted_even_with_the_triggers_put_back(
    run, settings, five_entries
):
    _tamper(settings, *_DROP_TRIGGERS, "DELETE FROM audit WHERE seq > 3", *_RESTORE_TRIGGERS)
    assert five_entries.verify() != []
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "thiếu 2 mục cuối" in broken.output and "#5" in broken.output


def test_verify_finds_a_middle_entry_deleted_and_the_chain_recomputed(run, settings, five_entries):
    """The attacker removes #3, renumbers the rest and recomputes every hash: the chain
    holds, the MACs (made with a key the attacker lacks) do not."""
    from mediawatch.audit import GENESIS, _entry_hash

    with sqlite3.connect(settings.audit_path) as connection:
        connection.row_factory = sqlite3.Row
        for statement in _DROP_TRIGGERS:
            connection.execute(statement)
        connection.execute("DELETE FROM audit WHERE seq = 3")
        connection.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 3")
        previous = GENESIS
        for row in connection.execute("SELECT * FROM audit ORDER BY seq").fetchall():
            digest = _entry_hash(previous, dict(row))
            connection.execute(
                "UPDATE audit SET previous_hash = ?, hash = ? WHERE seq = ?",
                (previous, digest, row["seq"]),
            )
            previous = digest
        connection.execute("UPDATE sqlite_sequence SET seq = 4 WHERE name = 'audit'")
        for statement in _RESTORE_TRIGGERS:
            connection.execute(statement)
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "#3: HMAC sai" in broken.output and "#4: HMAC sai" in broken.output
    assert "#1: HMAC" not in broken.output and "#2: HMAC" not in broken.output


def test_verify_finds_an_emptied_log_and_a_log_file_replaced(run, settings, five_entries):
    _tamper(settings, *_DROP_TRIGGERS, "DELETE FROM audit", *_RESTORE_TRIGGERS)
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "nhật ký trống" in broken.output
    settings.audit_path.unlink()
    for suffix in ("-wal", "-shm"):
        settings.audit_path.with_name(settings.audit_path.name + suffix).unlink(missing_ok=True)
    fresh = run("audit", "verify")
    assert fresh.exit_code == 1 and "nhật ký trống, mốc neo ghi 5 mục" in fresh.output


def test_dropped_triggers_are_reported_and_their_repair_at_open_is_logged(
    run, settings, five_entries
):
    _tamper(settings, *_DROP_TRIGGERS)
    assert any("triggers missing" in b.reason for b in five_entries.verify())
    reopened = AuditLog.from_settings(settings)  # the app starting again
    (incident,) = reopened.entries(action="audit.triggers_missing")
    assert incident.detail == {"triggers": ["audit_no_delete", "audit_no_update"]}
    with sqlite3.connect(settings.audit_path) as connection, pytest.raises(sqlite3.DatabaseError):
        connection.execute("DELETE FROM audit WHERE seq = 1")
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "triggers were missing" in broken.output


def test_a_lost_key_is_replaced_and_reported(run, settings, five_entries):
    five_entries.key_file.unlink()
    AuditLog.from_settings(settings).record("admin", "login.ok", via="session")
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "key lost and replaced" in broken.output
    assert "HMAC sai" not in broken.output


# A child process that appends to the log and is stopped around the anchor write: by the
# test's own patch, applied in the child only (the product has no such switch).
_CHILD = """
import os, sys, time
from pathlib import Path
from mediawatch.audit import AuditLog

audit_path, when, ready, go = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
log = AuditLog(Path(audit_path))
write_anchor = AuditLog._write_anchor

def stopped(self, seq, head):
    if when == "instead":
        os._exit(9)
    write_anchor(self, seq, head)
    if when == "after":
        os._exit(9)
    ready.touch()
    while not go.exists():
        time.sleep(0.02)

AuditLog._write_anchor = stopped
log.record("reviewer1", "search", via="token", detail={"q": "sau cùng"})
"""


def _child(settings, tmp_path, when: str) -> subprocess.Popen:
    script = tmp_path / "append_and_stop.py"
    script.write_text(_CHILD)
    ready, go = tmp_path / "ready", tmp_path / "go"
    return subprocess.Popen(
        [sys.executable, str(script), str(settings.audit_path), when, str(ready), str(go)]
    )


@pytest.mark.parametrize("when", ["instead", "after"])
def test_a_crash_around_the_anchor_write_is_not_read_as_tampering(
    run, settings, five_entries, tmp_path, when
):
    """Killed where the anchor is (or would be) written: the anchor is never ahead of the
    log, so neither verify nor the next append reports entries missing."""
    child = _child(settings, tmp_path, when)
    assert child.wait(timeout=60) == 9
    assert run("audit", "verify").exit_code == 0
    AuditLog.from_settings(settings).record("admin", "login.ok", via="session")
    assert five_entries.entries(action="audit.anchor_mismatch") == []
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_verify_beside_an_append_in_flight_sees_no_truncation(
    run, settings, five_entries, tmp_path
):
    child = _child(settings, tmp_path, "pause")
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        verified = run("audit", "verify")
        assert verified.exit_code == 0, verified.output
    finally:
        (tmp_path / "go").touch()
        assert child.wait(timeout=60) == 0
    assert five_entries.count() == 6 and run("audit", "verify").exit_code == 0


def test_an_anchor_arriving_late_never_replaces_a_newer_one(settings, five_entries):
    """Two processes commit #4 then #5, and #5's anchor lands first: #4's is dropped."""
    with sqlite3.connect(settings.audit_path) as connection:
        fourth = connection.execute("SELECT hash FROM audit WHERE seq = 4").fetchone()[0]
    five_entries._write_anchor(4, fourth)
    assert json.loads(five_entries.anchor_file.read_text())["last_seq"] == 5
    assert five_entries.verify() == []


# Root writes anywhere: its start is run without the capabilities that let it, as a service
# user would be. The folder around the data folder is read-only to it, as /var/lib is.
AS_SERVICE_USER = (
    [
        "setpriv",
        *(
            f"--{caps}=-dac_override,-dac_read_search,-fowner"
            for caps in ("inh-caps", "bounding-set")
        ),
    ]
    if os.geteuid() == 0
    else []
)


@pytest.fixture
def service_data_dir(tmp_path) -> Iterator[Path]:
    """/var/lib/mediawatch as packaged: the data folder is the service's, the folder around
    it is not."""
    around = tmp_path / "var-lib"
    data = around / "mediawatch"
    data.mkdir(parents=True)
    around.chmod(0o555)
    yield data
    around.chmod(0o755)


def _as_service(command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*AS_SERVICE_USER, *command],
        cwd=REPO,
        env=os.environ | env | {"COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
    )


MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


@pytest.mark.parametrize(
    "command",
    [
        [MEDIAWATCH, "run", "--port", "0"],
        [sys.executable, "-c", "import mediawatch.asgi"],
    ],
    ids=["run", "asgi"],
)
def test_a_key_folder_the_service_may_not_create_is_one_sentence(service_data_dir, command):
    """An upgrade whose default key folder (<data_dir>-audit-keys) lies where the service
    user may not write: the start stops naming the settings to change, not a traceback."""
    result = _as_service(
        command,
        MEDIAWATCH_DATA_DIR=str(service_data_dir),
        MEDIAWATCH_SESSION_SECRET="Zq7-test-session-signing-key-9Xw2Lp4Rt",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output, output
    assert "security.audit_key_file" in output and "mediawatch-audit-keys" in output
    assert "Không đọc/ghi được" in output
    if command[1] == "run":
        assert result.returncode == 2


def test_acknowledged_incidents_leave_verify_but_breaks_and_later_incidents_do_not(
    run, settings, five_entries
):
    _tamper(settings, *_DROP_TRIGGERS)
    AuditLog.from_settings(settings)  # the repair at open is recorded: an incident
    assert run("audit", "verify").exit_code == 1
    assert run("audit", "acknowledge", "--note", "  ").exit_code == 2
    acknowledged = run("audit", "acknowledge", "--note", "Đã kiểm tra: bảo trì ngày 3/12")
    assert acknowledged.exit_code == 0, acknowledged.output
    assert "#6: audit.triggers_missing" in acknowledged.output
    (entry,) = five_entries.entries(action="audit.acknowledge")
    assert (entry.actor, entry.via) == (getpass.getuser(), "cli")
    assert entry.detail == {"note": "Đã kiểm tra: bảo trì ngày 3/12", "through": 6}
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "không có sự cố" in run("audit", "acknowledge", "--note", "x").output.lower()

    five_entries.key_file.unlink()  # a later incident is named again
    AuditLog.from_settings(settings)
    later = run("audit", "verify")
    assert later.exit_code == 1 and "key lost and replaced" in later.output
    assert "triggers were missing" not in later.output
    run("audit", "acknowledge", "--note", "Khóa cũ bị xóa nhầm, đã thay")
    assert run("audit", "verify").exit_code == 0
    # A break of the log itself is never acknowledged away: it is found afresh each time.
    _tamper(settings, *_DROP_TRIGGERS, "UPDATE audit SET actor = 'someone' WHERE seq = 2")
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "#2: nội dung bị sửa" in broken.output


def test_an_anchor_found_wrong_by_the_acknowledgement_itself_stays_named(
    run, settings, five_entries
):
    """The acknowledgement's own append finds the anchor wrong and records it first: that
    incident was not among those the person saw, so verify still names it."""
    five_entries.anchor_file.write_text("{}")
    run("audit", "acknowledge", "--note", "không có gì")  # nothing recorded yet to list
    AuditLog.from_settings(settings).record("admin", "login.ok", via="session")
    _tamper(settings, *_DROP_TRIGGERS)
    AuditLog.from_settings(settings)
    five_entries.anchor_file.write_text("{}")
    run("audit", "acknowledge", "--note", "Chỉ thấy trigger bị gỡ")
    verified = run("audit", "verify")
    assert verified.exit_code == 1 and "anchor did not match the log" in verified.output
    assert "triggers were missing" not in verified.output


_STARTING = """
import os, sys, time
from pathlib import Path
from mediawatch.audit import AuditLog

audit_path, here, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
load_key = AuditLog._load_key

def together(self):
    (here / f"ready-{os.getpid()}").touch()
    while len(list(here.glob("ready-*"))) < count:
        time.sleep(0.01)
    return load_key(self)

AuditLog._load_key = together
AuditLog(audit_path).record("system", "worker.start", via="system")
"""


def test_workers_starting_together_without_a_key_agree_on_one_and_report_it_once(
    run, settings, five_entries, tmp_path
):
    five_entries.key_file.unlink()
    script = tmp_path / "start.py"
    script.write_text(_STARTING)
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(settings.audit_path), str(tmp_path), "4"]
        )
        for _ in range(4)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0] * 4
    log = AuditLog.from_settings(settings)
    assert len(log.entries(action="worker.start")) == 4
    assert len(log.entries(action="audit.key_replaced")) == 1
    # The old anchor was MACed with the lost key: said once, by the worker that replaced it.
    assert len(log.entries(action="audit.anchor_mismatch")) == 1
    verified = run("audit", "verify")
    assert "HMAC sai" not in verified.output  # every worker wrote with the one key
    assert verified.output.count("key lost and replaced") == 1


def test_a_key_the_service_may_not_read_is_one_sentence(tmp_path):
    """A key provisioned for another user (root's, 0600): named, exit 2, not a traceback."""
    key = tmp_path / "keys" / "audit.key"
    key.parent.mkdir()
    key.write_text("ab" * 32)
    key.chmod(0o000)
    result = _as_service(
        [MEDIAWATCH, "audit", "verify"],
        MEDIAWATCH_DATA_DIR=str(tmp_path / "data"),
        MEDIAWATCH_SECURITY__AUDIT_KEY_FILE=str(key),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2 and "Traceback" not in output, output
    assert str(key) in output and "security.audit_key_file" in output
