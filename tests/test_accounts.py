"""Accounts on a real SQLite file: passwords, lockout, tokens, sessions that end."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from mediawatch.accounts import (
    AccountError,
    Accounts,
    UnknownToken,
    UserExists,
    WeakPassword,
    password_problem,
    session_secret_problem,
)
from mediawatch.model import Role, utc_now

PASSWORD = "mot-mat-khau-du-dai"


class Clock:
    """A clock the test moves by hand: no sleeping."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(tmp_path, clock) -> Accounts:
    accounts = Accounts(
        tmp_path / "accounts.db", max_failed_logins=3, lockout_minutes=15, clock=clock
    )
    accounts.add_user("canbo1", Role.REVIEWER, PASSWORD, email="canbo1@example.gov.vn")
    return accounts


@pytest.mark.parametrize(
    "password",
    ["short", "changeme", "123456789012", "mediawatch-2024", "aaaaaaaaaaaaaa"],
)
def test_weak_passwords_are_refused(password):
    assert password_problem("canbo1", password) is not None


def test_password_containing_the_username_is_refused_and_a_good_one_accepted():
    assert password_problem("canbo1", "canbo1-2024-mk!") is not None
    assert password_problem("canbo1", "CHANGE-ME") is not None  # length and list alike
    assert password_problem("canbo1", PASSWORD) is None


def test_adding_users_checks_name_policy_and_uniqueness(accounts):
    with pytest.raises(WeakPassword):
        accounts.add_user("canbo2", Role.VIEWER, "changeme")
    with pytest.raises(UserExists):
        accounts.add_user("canbo1", Role.VIEWER, PASSWORD)
    with pytest.raises(AccountError):
        accounts.add_user("Bad Name", Role.VIEWER, PASSWORD)
    assert [u.username for u in accounts.users()] == ["canbo1"]


def test_password_is_stored_as_argon2_hash_only(accounts):
    with sqlite3.connect(accounts.path) as connection:
        (stored,) = connection.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "password_hash" not in accounts.get("canbo1").model_dump()


def test_login_ok_and_each_failure_reason(accounts):
    assert accounts.authenticate("canbo1", PASSWORD).ok
    assert accounts.authenticate("nobody", PASSWORD).reason == "unknown_user"
    assert accounts.authenticate("canbo1", "wrong-password!").reason == "bad_password"
    accounts.update("canbo1", disabled=True)
    assert accounts.authenticate("canbo1", PASSWORD).reason == "disabled"


def test_login_rehashes_when_the_hash_parameters_change(tmp_path, accounts):
    stronger = Accounts(accounts.path, hasher=PasswordHasher(time_cost=4))
    before = _stored_hash(accounts)
    assert stronger.authenticate("canbo1", PASSWORD).ok
    after = _stored_hash(accounts)
    assert after != before and "t=4" in after
    assert stronger.authenticate("canbo1", PASSWORD).ok


def _stored_hash(accounts: Accounts) -> str:
    with sqlite3.connect(accounts.path) as connection:
        return connection.execute("SELECT password_hash FROM users").fetchone()[0]


def test_lockout_after_repeated_failures_then_unlock_after_the_window(accounts, clock):
    attempts = [accounts.authenticate("canbo1", "wrong-password!") for _ in range(3)]
    assert [a.locked_now for a in attempts] == [False, False, True]
    locked = accounts.authenticate("canbo1", PASSWORD)
    assert locked.reason == "locked"  # even the right password
    clock.advance(minutes=14)
    assert accounts.authenticate("canbo1", PASSWORD).reason == "locked"
    clock.advance(minutes=1, seconds=1)
    assert accounts.authenticate("canbo1", PASSWORD).ok
    assert accounts.get("canbo1").failed_logins == 0


def test_failures_spread_beyond_the_window_do_not_lock(accounts, clock):
    for _ in range(5):
        assert not accounts.authenticate("canbo1", "wrong-password!").locked_now
        clock.advance(minutes=8)
    assert accounts.authenticate("canbo1", PASSWORD).ok


def test_reset_unlocks_and_ends_sessions(accounts):
    for _ in range(3):
        accounts.authenticate("canbo1", "wrong-password!")
    epoch = accounts.get("canbo1").epoch
    new_password = accounts.reset_password("canbo1").password
    assert accounts.active("canbo1", epoch) is None
    assert accounts.authenticate("canbo1", new_password).ok
    assert not accounts.authenticate("canbo1", PASSWORD).ok


def test_role_change_and_disable_end_sessions_other_edits_do_not(accounts):
    epoch = accounts.get("canbo1").epoch
    accounts.update("canbo1", display_name="Nguyễn Văn A", email="a@example.gov.vn")
    assert accounts.active("canbo1", epoch) is not None
    accounts.update("canbo1", role=Role.ANALYST)
    assert accounts.active("canbo1", epoch) is None
    epoch = accounts.get("canbo1").epoch
    accounts.update("canbo1", disabled=True)
    assert accounts.active("canbo1", epoch) is None
    assert accounts.active("canbo1") is None


def test_change_password_needs_the_current_one(accounts):
    wrong = accounts.change_password("canbo1", "wrong-password!", "mot-mat-khau-moi-hon")
    assert wrong.reason == "bad_password"
    with pytest.raises(WeakPassword):
        accounts.change_password("canbo1", PASSWORD, "short")
    assert accounts.change_password("canbo1", PASSWORD, "mot-mat-khau-moi-hon").ok
    assert accounts.authenticate("canbo1", "mot-mat-khau-moi-hon").ok


def test_wrong_current_passwords_lock_the_account_like_failed_logins(accounts):
    accounts.authenticate("canbo1", "wrong-password!")  # one at the login form
    changes = [
        accounts.change_password("canbo1", "wrong-password!", "mot-mat-khau-moi-hon")
        for _ in range(2)
    ]
    assert [c.locked_now for c in changes] == [False, True]
    assert accounts.change_password("canbo1", PASSWORD, "mot-mat-khau-moi-hon").reason == "locked"
    assert accounts.authenticate("canbo1", PASSWORD).reason == "locked"
    assert not accounts.authenticate("canbo1", "mot-mat-khau-moi-hon").ok  # nothing changed


class GatedHasher(PasswordHasher):
    """Real argon2; checks against ``gated`` hashes are counted and wait for ``release``, so
    a test can keep guesses in flight while others arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.gated: set[str] = set()
        self.checked = 0
        self.release = threading.Event()
        self._count = threading.Lock()

    def verify(self, stored: str, password: str) -> bool:
        if stored in self.gated:
            with self._count:
                self.checked += 1
            self.release.wait(timeout=20)
        return super().verify(stored, password)


def test_parallel_guesses_get_no_more_checks_than_the_lockout_allows(tmp_path, clock):
    hasher = GatedHasher()
    accounts = Accounts(
        tmp_path / "accounts.db",
        max_failed_logins=3,
        lockout_minutes=15,
        hasher=hasher,
        clock=clock,
    )
    accounts.add_user("canbo1", Role.REVIEWER, PASSWORD)
    hasher.gated.add(_stored_hash(accounts))
    guesses, results, done = 15, [], threading.Lock()

    def guess(number: int) -> None:
        attempt = accounts.authenticate("canbo1", f"sai-mat-khau-{number:02d}")
        with done:
            results.append(attempt)
            if len(results) == guesses - 3:  # the rest are waiting in their checks
                hasher.release.set()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hasher.checked == 3
    assert sorted(a.reason for a in results) == ["bad_password"] * 3 + ["locked"] * 12
    assert sum(a.locked_now for a in results) == 1
    assert accounts.authenticate("canbo1", PASSWORD).reason == "locked"
    assert hasher.checked == 3  # the right password was not even checked


def test_token_is_shown_once_stored_as_digest_and_acts_for_its_owner(accounts):
    token, secret = accounts.create_token("canbo1", "báo cáo tuần")
    assert secret.startswith(f"mw_{token.id}_") and len(secret) > 40
    with sqlite3.connect(accounts.path) as connection:
        (digest,) = connection.execute("SELECT digest FROM tokens").fetchone()
    assert secret.encode() not in digest and len(digest) == 32
    user, found = accounts.identify(secret)
    assert (user.username, found.id) == ("canbo1", token.id)
    assert accounts.identify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert accounts.identify(f"mw_{token.id}_{'x' * 43}") is None


def test_reset_revokes_the_users_tokens(accounts):
    _, first = accounts.create_token("canbo1", "script")
    gone, _ = accounts.create_token("canbo1", "revoked before")
    accounts.revoke_token(gone.id, "canbo1")
    accounts.add_user("canbo2", Role.ANALYST, PASSWORD)
    _, other = accounts.create_token("canbo2", "not theirs")
    assert accounts.reset_password("canbo1").revoked_tokens == 1
    assert accounts.identify(first) is None
    assert accounts.identify(other)[0].username == "canbo2"
    assert all(t.revoked_at is not None for t in accounts.tokens("canbo1"))


def test_revoked_token_and_disabled_owner_are_refused(accounts):
    token, secret = accounts.create_token("canbo1", "script")
    with pytest.raises(UnknownToken):
        accounts.revoke_token(token.id, "someone-else")
    accounts.revoke_token(token.id, "canbo1")
    assert accounts.identify(secret) is None
    _, other = accounts.create_token("canbo1", "script 2")
    accounts.update("canbo1", disabled=True)
    assert accounts.identify(other) is None


def test_token_acts_with_the_owners_current_role(accounts):
    _, secret = accounts.create_token("canbo1", "script")
    accounts.update("canbo1", role=Role.VIEWER)
    assert accounts.identify(secret)[0].role == Role.VIEWER


def test_last_used_is_written_at_most_once_a_minute(accounts, clock):
    _, secret = accounts.create_token("canbo1", "script")
    first = accounts.identify(secret)[1]
    assert first.last_used_at is None  # the record as found; the use is written after
    used = accounts.tokens("canbo1")[0].last_used_at
    clock.advance(seconds=30)
    accounts.identify(secret)
    assert accounts.tokens("canbo1")[0].last_used_at == used
    clock.advance(seconds=31)
    accounts.identify(secret)
    assert accounts.tokens("canbo1")[0].last_used_at == clock.now


def test_registered_tokens_need_32_characters(accounts):
    with pytest.raises(AccountError):
        accounts.register_token("canbo1", "legacy", "too-short")
    accounts.register_token("canbo1", "legacy", "a-legacy-token-of-enough-length-123")
    assert accounts.identify("a-legacy-token-of-enough-length-123")[0].username == "canbo1"


@pytest.mark.parametrize(
    ("secret", "refused"),
    [
        (None, True),
        ("short", True),
        ("change-me-change-me-change-me-change-me", True),
        ("CHANGE_ME_please_0123456789_abcdefghij", True),
        ("a" * 64, True),
        ("k3J9vQ2xN8pL5rT1wY6zB4cD7fG0hM-aE_uI", False),
    ],
)
def test_session_secret_problems(secret, refused):
    assert (session_secret_problem(secret) is not None) == refused
