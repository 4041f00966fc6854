"""``mediawatch users …`` and ``mediawatch audit …``: accounts and the audit log from a shell.

Whoever runs these on the server acts as themselves: each change is audited with the operating
system's user name and ``via="cli"``.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mediawatch.accounts import AccountError, Accounts, generate_password
from mediawatch.audit import (
    ACKNOWLEDGE,
    EXPORT_FORMATS,
    AuditLog,
    as_utc,
    export_lines,
    iter_entries,
)
from mediawatch.config import Settings
from mediawatch.model import Role, utc_now

console = Console(soft_wrap=True)
users_app = typer.Typer(help="Người dùng (users): add, disable, enable, reset, token, list.")
audit_app = typer.Typer(help="Nhật ký kiểm toán (audit log): verify, acknowledge, export.")


def _open() -> tuple[Accounts, AuditLog]:
    settings = Settings()
    return Accounts.from_settings(settings), AuditLog.from_settings(settings)


def _record(log: AuditLog, action: str, target: str | None, **detail: Any) -> None:
    log.record(getpass.getuser(), action, via="cli", target=target, detail=detail)


def _fail(error: Exception) -> typer.Exit:
    console.print(f"[red]{error}[/red]")
    return typer.Exit(2)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Tên đăng nhập (username)")],
    role: Annotated[Role, typer.Option(help="admin, reviewer, analyst or viewer")],
    email: Annotated[str | None, typer.Option(help="For alerts")] = None,
    display_name: Annotated[str | None, typer.Option(help="Full name")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Add a person; without --password-stdin a generated password is printed once."""
    accounts, log = _open()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else generate_password()
    try:
        accounts.add_user(name, role, password, display_name=display_name, email=email)
    except AccountError as error:
        raise _fail(error) from error
    _record(log, "user.add", name, role=role.value)
    console.print(f"Đã thêm {name} ({role.value}).")
    if not password_stdin:
        console.print(f"Mật khẩu (password, shown once): {password}", highlight=False)


def _set_disabled(name: str, disabled: bool) -> None:
    accounts, log = _open()
    try:
        accounts.update(name, disabled=disabled)
    except AccountError as error:
        raise _fail(error) from error
    _record(log, "user.update", name, disabled=disabled)
    console.print(f"{name}: {'đã khóa (disabled)' if disabled else 'đã mở (enabled)'}.")


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Stop a person logging in; their sessions and tokens stop working at once."""
    _set_disabled(name, True)


@users_app.command("enable")
def users_enable(name: str) -> None:
    _set_disabled(name, False)


@users_app.command("reset")
def users_reset(name: str) -> None:
    """A new generated password (printed once); unlocks the account, ends its sessions and
    revokes its API tokens."""
    accounts, log = _open()
    try:
        reset = accounts.reset_password(name)
    except AccountError as error:
        raise _fail(error) from error
    _record(log, "user.reset", name, revoked_tokens=reset.revoked_tokens)
    console.print(
        f"Mật khẩu mới của {name} (new password, shown once): {reset.password}", highlight=False
    )
    console.print(f"Đã thu hồi {reset.revoked_tokens} API token (tokens revoked).")


@users_app.command("token")
def users_token(
    name: str,
    label: Annotated[str, typer.Option(help="What the token is for")],
    secret_stdin: Annotated[
        bool,
        typer.Option(
            "--secret-stdin", help="Keep a token read from standard input (migrating old ones)"
        ),
    ] = False,
) -> None:
    """A personal API token for NAME, printed once; or register an existing one (32+ chars)."""
    accounts, log = _open()
    try:
        if secret_stdin:
            token = accounts.register_token(name, label, sys.stdin.readline().strip())
        else:
            token, secret = accounts.create_token(name, label)
    except AccountError as error:
        raise _fail(error) from error
    _record(log, "token.create", name, id=token.id, label=label)
    if secret_stdin:
        console.print(f"Đã đăng ký token {token.id} cho {name}.")
    else:
        console.print(f"API token của {name} (shown once): {secret}", highlight=False)


@users_app.command("list")
def users_list() -> None:
    accounts, _log = _open()
    table = Table("Tên", "Họ tên", "Vai trò", "E-mail", "Trạng thái", "Token")
    tokens: dict[str, int] = {}
    for token in accounts.tokens():
        if token.revoked_at is None:
            tokens[token.owner] = tokens.get(token.owner, 0) + 1
    now = utc_now()
    for user in accounts.users():
        locked = user.locked_until is not None and user.locked_until > now
        state = "đã khóa" if user.disabled else "tạm khóa" if locked else "hoạt động"
        table.add_row(
            user.username,
            user.display_name,
            user.role.value,
            user.email or "",
            state,
            str(tokens.get(user.username, 0)),
        )
    console.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain, each entry's HMAC, the anchored head and the triggers; exit 1
    naming each break, and each incident the log recorded about itself (triggers re-created,
    key replaced, anchor mismatch) since the latest ``audit acknowledge``."""
    _accounts, log = _open()
    breaks = log.verify()
    if breaks:
        for found in breaks:
            where = f"#{found.seq}: " if found.seq is not None else ""
            console.print(f"[red]{where}{escape(found.reason)}[/red]")
        raise typer.Exit(1)
    console.print(f"Nhật ký nguyên vẹn (intact): {log.count()} mục.")


@audit_app.command("acknowledge")
def audit_acknowledge(
    note: Annotated[str, typer.Option(help="Ai đã xem xét và kết luận gì (who looked, and why)")],
) -> None:
    """Record, audited, that the incidents ``verify`` lists were looked into: verify then
    stops naming them. Breaks of the chain, a MAC or the anchor are never hidden."""
    if not note.strip():
        raise _fail(ValueError("--note không được để trống (a note is required)"))
    _accounts, log = _open()
    incidents = log.incidents()
    if not incidents:
        console.print("Không có sự cố nào chờ xác nhận (no incidents to acknowledge).")
        return
    for entry in incidents:
        console.print(f"#{entry.seq}: {escape(entry.action)}, {entry.at.isoformat()}")
    _record(log, ACKNOWLEDGE, None, note=note.strip(), through=incidents[-1].seq)
    console.print(f"Đã xác nhận {len(incidents)} sự cố (incidents acknowledged).")


@audit_app.command("export")
def audit_export(
    since: Annotated[
        datetime | None, typer.Option(help="From (ISO date/time, UTC if no zone)")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Until, exclusive")] = None,
    format: Annotated[str, typer.Option(help="csv or jsonl")] = "csv",
    out: Annotated[
        Path | None, typer.Option(help="File to write; standard output if unset")
    ] = None,
) -> None:
    """Write the audit log (or a time range of it); the export is itself audited."""
    if format not in EXPORT_FORMATS:
        raise _fail(ValueError(f"--format must be one of: {', '.join(EXPORT_FORMATS)}"))
    _accounts, log = _open()
    filters = {"since": as_utc(since), "until": as_utc(until)}
    _record(log, "audit.export", str(out) if out else None, format=format, filters=filters)
    lines = export_lines(iter_entries(log, **filters), format)
    if out is None:
        sys.stdout.writelines(lines)
        return
    with out.open("w", encoding="utf-8", newline="") as file:
        file.writelines(lines)
    console.print(f"Đã ghi {out}.")
