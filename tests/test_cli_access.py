"""`mediawatch users …` and `mediawatch audit …` on the real accounts and audit files."""

from __future__ import annotations

import getpass
import json
import re
import sqlite3

import pytest
from typer.testing import CliRunner

from mediawatch.accounts import Accounts
from mediawatch.audit import AuditLog
from mediawatch.cli import app
from mediawatch.model import Role
from tests.conftest import API_TOKEN


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
    assert "#2: content altered" in broken.output


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
