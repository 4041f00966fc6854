"""People and their credentials: users with argon2 password hashes, personal API tokens.

One SQLite file (``settings.accounts_path``) apart from the store and the audit log. Nothing
secret is kept in clear: passwords as argon2id hashes, tokens as SHA-256 digests. Every change
that must end existing sessions (disable, password reset or change, role change) bumps the
user's ``epoch``; a session remembers the epoch it was opened under and dies when they differ.
Each login also gets a random session id kept here until logout or expiry: the signed cookie
alone would stay valid for its whole lifetime after a logout, in whoever's hands it is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, Field

from mediawatch.model import Role, UtcDatetime, utc_now

if TYPE_CHECKING:
    from mediawatch.config import Settings

from mediawatch.sqlite_files import connect, create, immediate

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    first_failed_at TEXT,
    locked_until TEXT,
    epoch INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(username),
    label TEXT NOT NULL,
    digest BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS tokens_owner ON tokens(owner);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(username),
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_owner ON sessions(owner);
"""
USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{1,39}$"
MIN_PASSWORD_LENGTH = 12
MIN_REGISTERED_TOKEN_LENGTH = 32
TOKEN_PREFIX = "mw_"
LAST_USED_PRECISION = timedelta(minutes=1)
# Values people reach for first and ones this project's files have shown as examples; a password
# is refused when it is one of them, whole or with its digits and punctuation removed
# ("Password2024!", "mediawatch-2024").
WEAK_PASSWORDS = frozenset(
    {
        "admin",
        "administrator",
        "password",
        "changeme",
        "change-me",
        "mediawatch",
        "123456789012",
        "qwerty",
        "qwertyuiopas",
        "letmein",
        "matkhau",
        "lamdong",
    }
)
_PLACEHOLDER_WORDS = ("changeme", "placeholder", "example", "default", "secret", "mediawatch")
_TOKEN_PATTERN = re.compile(r"^mw_([A-Za-z0-9]{8,32})_([A-Za-z0-9_-]{20,100})$")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the person asking."""


class UnknownUser(AccountError):
    pass


class UserExists(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class UnknownToken(AccountError):
    pass


@dataclass(frozen=True, slots=True)
class PasswordReset:
    password: str  # generated, to be told to the person once
    revoked_tokens: int  # the user's tokens that stopped working with the reset


class User(BaseModel):
    """A person as the API and pages show them: never the password hash."""

    username: str
    display_name: str
    email: str | None = None
    role: Role
    disabled: bool = False
    failed_logins: int = 0
    locked_until: UtcDatetime | None = None
    epoch: int = Field(default=0, description="Bumped when this user's sessions must end")
    created_at: UtcDatetime
    changed_at: UtcDatetime


class ApiToken(BaseModel):
    """A personal API token's record; the secret itself is shown once and never kept."""

    id: str
    owner: str
    label: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """What a password check found. ``reason`` is for the audit log only: people are told the
    same thing whatever it is, so the form does not reveal which accounts exist."""

    user: User | None
    reason: str | None = None  # unknown_user, bad_password, locked, disabled
    locked_now: bool = False  # this failure started a lockout

    @property
    def ok(self) -> bool:
        return self.reason is None


def password_problem(username: str, password: str) -> str | None:
    """Why a new password is refused (Vietnamese), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự (password too short)"
    lowered = password.casefold()
    letters = re.sub(r"[^a-z]", "", lowered)
    if (
        lowered in WEAK_PASSWORDS
        or letters in WEAK_PASSWORDS
        or username.casefold() in lowered
        or len(set(lowered)) < 4
    ):
        return "Mật khẩu quá dễ đoán, hãy chọn mật khẩu khác (password too weak)"
    return None


def session_secret_problem(secret: str | None) -> str | None:
    """Why a session-signing secret must not be used in production, or None.

    Every worker signs cookies with it, so a guessable one lets anyone forge a session."""
    if not secret:
        return "is not set"
    folded = re.sub(r"[^a-z0-9]", "", secret.casefold())
    if len(secret) < 32:
        return "is shorter than 32 characters"
    if len(set(secret)) < 10 or any(word in folded for word in _PLACEHOLDER_WORDS):
        return "looks like a placeholder, not a random value"
    return None


def generate_password() -> str:
    """A random password for a new or reset account, told to the person once."""
    return secrets.token_urlsafe(15)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _lock_running(row: sqlite3.Row, now: datetime) -> bool:
    locked_until = _when(row["locked_until"])
    return locked_until is not None and locked_until > now


class Accounts:
    """Users and tokens in one SQLite file; safe to share between threads and processes.

    Tokens are 256-bit random secrets, so one SHA-256 digest is enough to keep them safe at
    rest: a slow hash such as argon2 protects low-entropy passwords from guessing, which a
    random 256-bit value does not need, and it would cost tens of milliseconds on every API
    call.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_failed_logins: int = 5,
        lockout_minutes: int = 15,
        session_hours: int = 12,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.path = path
        self.max_failed_logins = max_failed_logins
        self.lockout = timedelta(minutes=lockout_minutes)
        self.session_lifetime = timedelta(hours=session_hours)
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        self._lock = threading.Lock()
        create(path, SCHEMA)

    @classmethod
    def from_settings(cls, settings: Settings) -> Accounts:
        return cls(
            settings.accounts_path,
            max_failed_logins=settings.security.max_failed_logins,
            lockout_minutes=settings.security.lockout_minutes,
            session_hours=settings.security.session_hours,
        )

    @cached_property
    def _dummy_hash(self) -> str:
        """Verified against unknown user names, so they take as long as known ones."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction that holds the write lock from its first read (read-modify-write)."""
        with self._lock, self._connect() as connection, immediate(connection):
            yield connection

    # Users -----------------------------------------------------------------------------------

    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(
            username=row["username"],
            display_name=row["display_name"],
            email=row["email"],
            role=Role(row["role"]),
            disabled=bool(row["disabled"]),
            failed_logins=row["failed_logins"],
            locked_until=_when(row["locked_until"]),
            epoch=row["epoch"],
            created_at=_when(row["created_at"]),
            changed_at=_when(row["changed_at"]),
        )

    def has_users(self) -> bool:
        with self._connect() as connection:
            return connection.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def get(self, username: str) -> User | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT * FROM users WHERE username = ?", (username,)
            ).fetchone()
        return self._user(row) if row else None

    def users(self) -> list[User]:
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [self._user(row) for row in rows]

    def add_user(
        self,
        username: str,
        role: Role,
        password: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
    ) -> User:
        if not re.match(USERNAME_PATTERN, username):
            raise AccountError(
                f"Tên đăng nhập '{username}' không hợp lệ: chữ thường, số, '.', '_', '-', "
                "2–40 ký tự (invalid username)"
            )
        self._check_policy(username, password)
        now = _iso(self.clock())
        password_hash = self.hasher.hash(password)
        with self._write() as connection:
            if connection.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise UserExists(f"Đã có người dùng '{username}' (user exists)")
            connection.execute(
                "INSERT INTO users (username, display_name, email, role, password_hash, "
                "created_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    username,
                    display_name or username,
                    email,
                    Role(role).value,
                    password_hash,
                    now,
                    now,
                ),
            )
        return self._require(username)

    def update(
        self,
        username: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        display_name: str | None = None,
        email: str | None = None,
    ) -> User:
        """Change what is given; a role change or disabling ends the user's sessions."""
        with self._write() as connection:
            row = self._row(connection, username)
            ends_sessions = (role is not None and Role(role).value != row["role"]) or (
                disabled is True and not row["disabled"]
            )
            connection.execute(
                "UPDATE users SET role = ?, disabled = ?, display_name = ?, email = ?, "
                "epoch = epoch + ?, changed_at = ? WHERE username = ?",
                (
                    Role(role).value if role is not None else row["role"],
                    int(disabled) if disabled is not None else row["disabled"],
                    display_name or row["display_name"],
                    email if email is not None else row["email"],
                    int(ends_sessions),
                    _iso(self.clock()),
                    username,
                ),
            )
        return self._require(username)

    def set_password(self, username: str, password: str) -> User:
        """A new password (policy checked); unlocks the account and ends its sessions."""
        self._check_policy(username, password)
        password_hash = self.hasher.hash(password)
        with self._write() as connection:
            self._store_password(connection, username, password_hash)
        return self._require(username)

    def reset_password(self, username: str) -> PasswordReset:
        """A generated password, to be told to the person once. A reset means the old
        credentials may be in other hands, so the user's tokens are revoked with it."""
        password = generate_password()
        self._check_policy(username, password)
        password_hash = self.hasher.hash(password)
        with self._write() as connection:
            self._store_password(connection, username, password_hash)
            revoked = connection.execute(
                "UPDATE tokens SET revoked_at = ? WHERE owner = ? AND revoked_at IS NULL",
                (_iso(self.clock()), username),
            ).rowcount
        return PasswordReset(password, revoked)

    def _store_password(
        self, connection: sqlite3.Connection, username: str, password_hash: str
    ) -> None:
        self._row(connection, username)
        connection.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, first_failed_at = NULL, "
            "locked_until = NULL, epoch = epoch + 1, changed_at = ? WHERE username = ?",
            (password_hash, _iso(self.clock()), username),
        )

    def change_password(self, username: str, current: str, new: str) -> LoginAttempt:
        """The person's own change. ``current`` is checked like a login (a wrong one counts
        towards the lockout), so the form cannot be used to guess passwords."""
        self._check_policy(username, new)
        attempt = self.authenticate(username, current)
        if attempt.ok:
            self.set_password(username, new)
        return attempt

    def authenticate(self, username: str, password: str) -> LoginAttempt:
        """Check a login, counting failures and locking after too many within the window.

        The attempt is counted before the password is checked, so guesses sent in parallel
        get no more than ``max_failed_logins`` checks between them; a success clears the
        count unless a lock began meanwhile."""
        now = self.clock()
        row, refusal = self._reserve(username, now)
        if refusal is not None:
            self._verify(self._dummy_hash, password)  # every refusal takes as long
            return LoginAttempt(self._user(row) if row else None, refusal)
        if not self._verify(row["password_hash"], password):
            return self._failed(username, now)
        with self._write() as connection:
            current = self._row(connection, username)
            user = self._user(current)
            if user.disabled:
                return LoginAttempt(user, "disabled")
            if _lock_running(current, now):  # other guesses failed meanwhile
                return LoginAttempt(user, "locked")
            if current["password_hash"] != row["password_hash"]:  # changed while checking
                return LoginAttempt(user, "bad_password")
            rehash = self.hasher.check_needs_rehash(row["password_hash"])
            connection.execute(
                "UPDATE users SET failed_logins = 0, first_failed_at = NULL, locked_until = NULL, "
                "password_hash = ? WHERE username = ?",
                (self.hasher.hash(password) if rehash else row["password_hash"], username),
            )
        return LoginAttempt(self._require(username))

    def _reserve(self, username: str, now: datetime) -> tuple[sqlite3.Row | None, str | None]:
        """Count an attempt as failed until it succeeds: the user's row and None when its
        password may be checked, else the reason it may not."""
        with self._write() as connection:
            row = connection.execute(
                "SELECT * FROM users WHERE username = ?", (username,)
            ).fetchone()
            if row is None:
                return None, "unknown_user"
            if row["disabled"]:
                return row, "disabled"
            if _lock_running(row, now):
                return row, "locked"
            first = _when(row["first_failed_at"])
            if first is None or now - first >= self.lockout:
                count, first = 1, now
            elif row["failed_logins"] >= self.max_failed_logins:  # the rest are being checked
                return row, "locked"
            else:
                count = row["failed_logins"] + 1
            connection.execute(
                "UPDATE users SET failed_logins = ?, first_failed_at = ? WHERE username = ?",
                (count, _iso(first), username),
            )
        return row, None

    def _failed(self, username: str, now: datetime) -> LoginAttempt:
        """A checked password was wrong: its attempt is already counted; lock at the limit."""
        with self._write() as connection:
            row = self._row(connection, username)
            locked_now = row["failed_logins"] >= self.max_failed_logins and not _lock_running(
                row, now
            )
            if locked_now:
                connection.execute(
                    "UPDATE users SET failed_logins = 0, first_failed_at = NULL, "
                    "locked_until = ? WHERE username = ?",
                    (_iso(now + self.lockout), username),
                )
        return LoginAttempt(self._require(username), "bad_password", locked_now)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _check_policy(self, username: str, password: str) -> None:
        problem = password_problem(username, password)
        if problem:
            raise WeakPassword(problem)

    @staticmethod
    def _row(connection: sqlite3.Connection, username: str) -> sqlite3.Row:
        row = connection.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise UnknownUser(f"Không có người dùng '{username}' (no such user)")
        return row

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise UnknownUser(f"Không có người dùng '{username}' (no such user)")
        return user

    def active(self, username: str, epoch: int | None = None) -> User | None:
        """The user behind a session or token, if they may still act: not disabled and, for a
        session, opened under the current epoch."""
        user = self.get(username)
        if user is None or user.disabled or (epoch is not None and user.epoch != epoch):
            return None
        return user

    # Sessions --------------------------------------------------------------------------------

    def open_session(self, username: str) -> str:
        """A new session id for a login; expired sessions of everyone are swept on the way."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._write() as connection:
            connection.execute("DELETE FROM sessions WHERE expires_at <= ?", (_iso(now),))
            connection.execute(
                "INSERT INTO sessions (id, owner, expires_at) VALUES (?, ?, ?)",
                (session_id, username, _iso(now + self.session_lifetime)),
            )
        return session_id

    def session_open(self, session_id: str, username: str) -> bool:
        """Whether this id is a live session of ``username`` (not logged out, not expired)."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT 1 FROM sessions WHERE id = ? AND owner = ? AND expires_at > ?",
                (session_id, username, _iso(self.clock())),
            ).fetchone()
        return row is not None

    def close_session(self, session_id: str) -> None:
        """Logout: this session ends on the server; the user's other sessions go on."""
        with self._write() as connection:
            connection.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # Tokens ----------------------------------------------------------------------------------

    @staticmethod
    def _token(row: sqlite3.Row) -> ApiToken:
        return ApiToken(
            id=row["id"],
            owner=row["owner"],
            label=row["label"],
            created_at=_when(row["created_at"]),
            last_used_at=_when(row["last_used_at"]),
            revoked_at=_when(row["revoked_at"]),
        )

    def create_token(self, owner: str, label: str) -> tuple[ApiToken, str]:
        """A new token and its plaintext ``mw_<id>_<secret>``, shown once."""
        token_id = secrets.token_hex(8)
        plaintext = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        return self._insert_token(owner, label, token_id, plaintext), plaintext

    def register_token(self, owner: str, label: str, plaintext: str) -> ApiToken:
        """Keep a token whose plaintext was chosen elsewhere (tests, tokens migrated from an
        older configuration); it must be long enough to be unguessable."""
        if len(plaintext) < MIN_REGISTERED_TOKEN_LENGTH:
            raise AccountError(
                f"Token phải có ít nhất {MIN_REGISTERED_TOKEN_LENGTH} ký tự (token too short)"
            )
        return self._insert_token(owner, label, secrets.token_hex(8), plaintext)

    def _insert_token(self, owner: str, label: str, token_id: str, plaintext: str) -> ApiToken:
        with self._write() as connection:
            self._row(connection, owner)
            try:
                connection.execute(
                    "INSERT INTO tokens (id, owner, label, digest, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (token_id, owner, label, _digest(plaintext), _iso(self.clock())),
                )
            except sqlite3.IntegrityError as error:
                raise AccountError("Token này đã được đăng ký (token exists)") from error
        return self._token_by_id(token_id)

    def _token_by_id(self, token_id: str) -> ApiToken:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise UnknownToken(f"Không có token '{token_id}' (no such token)")
        return self._token(row)

    def identify(self, plaintext: str) -> tuple[User, ApiToken] | None:
        """The active owner of a live token, or None (unknown, revoked, owner disabled)."""
        candidate = _digest(plaintext)
        with self._connect() as connection:
            match = _TOKEN_PATTERN.match(plaintext)
            if match:
                row = connection.execute(
                    "SELECT * FROM tokens WHERE id = ?", (match.group(1),)
                ).fetchone()
            else:  # registered plaintexts carry no id
                row = connection.execute(
                    "SELECT * FROM tokens WHERE digest = ?", (candidate,)
                ).fetchone()
        if row is None or not hmac.compare_digest(bytes(row["digest"]), candidate):
            return None
        if row["revoked_at"] is not None:
            return None
        user = self.active(row["owner"])
        if user is None:
            return None
        token = self._token(row)
        now = self.clock()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            with self._write() as connection:
                connection.execute(
                    "UPDATE tokens SET last_used_at = ? WHERE id = ?", (_iso(now), token.id)
                )
        return user, token

    def tokens(self, owner: str | None = None) -> list[ApiToken]:
        with self._connect() as connection:
            if owner is None:
                rows = connection.execute("SELECT * FROM tokens ORDER BY created_at").fetchall()
            else:
                rows = connection.execute(
                    "SELECT * FROM tokens WHERE owner = ? ORDER BY created_at", (owner,)
                ).fetchall()
        return [self._token(row) for row in rows]

    def revoke_token(self, token_id: str, owner: str) -> ApiToken:
        """Revoke ``owner``'s token; someone else's token is as unknown as a missing one."""
        with self._write() as connection:
            row = connection.execute(
                "SELECT * FROM tokens WHERE id = ? AND owner = ?", (token_id, owner)
            ).fetchone()
            if row is None:
                raise UnknownToken(f"Không có token '{token_id}' (no such token)")
            if row["revoked_at"] is None:
                connection.execute(
                    "UPDATE tokens SET revoked_at = ? WHERE id = ?",
                    (_iso(self.clock()), token_id),
                )
        return self._token_by_id(token_id)
