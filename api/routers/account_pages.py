"""Pages for accounts: one's own password and tokens; for admins, users and the audit log.

Secrets (a new token, a generated password) are rendered straight into the response, never
put in the flash message: the session cookie is signed, not encrypted.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import (
    AccountsDep,
    AuditDep,
    PageAdminDep,
    PagePrincipalDep,
    SettingsDep,
    audit,
)
from api.routers.accounts import (
    UserChange,
    UserRequest,
    add_user,
    change_user,
    create_token,
    reset_user,
    revoke_token,
)
from api.routers.audit import FiltersDep
from api.security import end_session
from api.web import FLASH_KEY, check_csrf, render
from mediawatch.accounts import Accounts
from mediawatch.model import Role

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50


def _account_page(
    request: Request, accounts: Accounts, name: str, status_code: int = 200, **shown: object
) -> Response:
    return render(
        request,
        "account.html",
        status_code,
        account=accounts.get(name),
        tokens=accounts.tokens(name),
        **shown,
    )


def _back(request: Request, path: str, message: str) -> Response:
    request.session[FLASH_KEY] = message
    return RedirectResponse(path, status.HTTP_303_SEE_OTHER)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, accounts: AccountsDep, principal: PagePrincipalDep) -> Response:
    return _account_page(request, accounts, principal.name)


@router.post("/account/password")
def change_password(
    request: Request,
    accounts: AccountsDep,
    principal: PagePrincipalDep,
    csrf: Annotated[str, Form()],
    current: Annotated[str, Form(max_length=200)],
    new: Annotated[str, Form(max_length=200)],
) -> Response:
    """The new password ends every session, this one too: log in again with it. A wrong
    current password counts towards the lockout, as at the login form, and is audited."""
    check_csrf(request, csrf)
    try:
        attempt = accounts.change_password(principal.name, current, new)
    except ValueError as error:  # the policy's refusal, in Vietnamese
        return _account_page(request, accounts, principal.name, 422, error=str(error))
    if not attempt.ok:
        detail = {"reason": attempt.reason, "locked_now": attempt.locked_now}
        audit(request, principal, "password.change.failed", principal.name, **detail)
        message = (
            "Mật khẩu hiện tại không đúng (wrong current password)"
            if attempt.reason == "bad_password" and not attempt.locked_now
            else "Nhập sai quá nhiều lần, tài khoản tạm khóa; hãy thử lại sau "
            "(too many wrong passwords: locked for a while)"
        )
        return _account_page(request, accounts, principal.name, 422, error=message)
    audit(request, principal, "password.change", principal.name)
    end_session(request)
    return RedirectResponse("/login?next=/account", status.HTTP_303_SEE_OTHER)


@router.post("/account/tokens", response_class=HTMLResponse)
def new_token(
    request: Request,
    accounts: AccountsDep,
    principal: PagePrincipalDep,
    csrf: Annotated[str, Form()],
    label: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    check_csrf(request, csrf)
    created = create_token(request, accounts, principal, label)
    return _account_page(request, accounts, principal.name, 201, created=created)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_my_token(
    request: Request,
    token_id: str,
    accounts: AccountsDep,
    principal: PagePrincipalDep,
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf)
    try:
        revoke_token(request, accounts, principal, principal.name, token_id)
    except HTTPException as error:
        return _back(request, "/account", str(error.detail))
    return _back(request, "/account", f"Đã thu hồi token {token_id}.")


def _users_page(
    request: Request, accounts: Accounts, status_code: int = 200, **shown: object
) -> Response:
    return render(
        request,
        "admin_users.html",
        status_code,
        users=accounts.users(),
        tokens=accounts.tokens(),
        roles=list(Role),
        **shown,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, accounts: AccountsDep, principal: PageAdminDep) -> Response:
    return _users_page(request, accounts)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user_form(
    request: Request,
    accounts: AccountsDep,
    principal: PageAdminDep,
    csrf: Annotated[str, Form()],
    username: Annotated[str, Form(max_length=40)],
    role: Annotated[str, Form(max_length=20)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        new = UserRequest(
            username=username, role=role, display_name=display_name or None, email=email or None
        )
        created = add_user(request, accounts, principal, new)
    except ValidationError:
        error = "Tên đăng nhập, vai trò hoặc e-mail không hợp lệ (invalid input)"
        return _users_page(request, accounts, 422, error=error)
    except HTTPException as refused:
        return _users_page(request, accounts, refused.status_code, error=refused.detail)
    return _users_page(request, accounts, 201, password_for=username, password=created.password)


@router.post("/admin/users/{name}")
def update_user_form(
    request: Request,
    name: str,
    accounts: AccountsDep,
    principal: PageAdminDep,
    csrf: Annotated[str, Form()],
    role: Annotated[str, Form(max_length=20)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    disabled: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(request, csrf)
    try:
        change = UserChange(
            role=role, disabled=disabled, display_name=display_name or None, email=email or None
        )
        change_user(request, accounts, principal, name, change)
    except ValidationError:
        return _back(request, "/admin/users", "Vai trò hoặc e-mail không hợp lệ (invalid input)")
    except HTTPException as refused:
        return _back(request, "/admin/users", str(refused.detail))
    return _back(request, "/admin/users", f"Đã cập nhật {name}.")


@router.post("/admin/users/{name}/reset", response_class=HTMLResponse)
def reset_user_form(
    request: Request,
    name: str,
    accounts: AccountsDep,
    principal: PageAdminDep,
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf)
    try:
        reset = reset_user(request, accounts, principal, name)
    except HTTPException as refused:
        return _users_page(request, accounts, refused.status_code, error=refused.detail)
    request.session[FLASH_KEY] = (
        f"Đã thu hồi {reset.revoked_tokens} API token của {name} cùng lần đặt lại mật khẩu "
        "(tokens revoked with the reset)."
    )
    return _users_page(request, accounts, password_for=name, password=reset.password)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    log: AuditDep,
    settings: SettingsDep,
    principal: PageAdminDep,
    filters: FiltersDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Times typed in the form are the province's, as the page shows them."""
    given = filters.given(settings.timezone)
    audit(request, principal, "audit.view", None, page=page, filters=given)
    query = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in given.items()}
    return render(
        request,
        "admin_audit.html",
        entries=log.entries(limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE, **given),
        total=log.count(**given),
        page=page,
        per_page=AUDIT_PAGE,
        filters=filters,
        query=urlencode(query),
    )
