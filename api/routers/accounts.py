"""Accounts over JSON: one's own API tokens, and for admins the users and their tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AccountsDep, AdminDep, PrincipalDep, audit
from api.security import Principal
from mediawatch.accounts import (
    USERNAME_PATTERN,
    AccountError,
    Accounts,
    ApiToken,
    PasswordReset,
    UnknownToken,
    UnknownUser,
    User,
    UserExists,
    generate_password,
)
from mediawatch.model import Role

router = APIRouter(prefix="/api", tags=["accounts"])
UsernamePath = Annotated[str, Path(max_length=40)]
TokenIdPath = Annotated[str, Path(max_length=64)]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=100, description="What the token is for")


class TokenCreated(BaseModel):
    token: ApiToken
    secret: str = Field(description="The token itself: shown this once, never again")


class UserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str | None = Field(
        default=None, max_length=200, description="Generated (and returned once) if omitted"
    )


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class UserWithPassword(BaseModel):
    user: User
    password: str | None = Field(description="Generated password, shown this once")


class UserReset(UserWithPassword):
    revoked_tokens: int = Field(description="The user's API tokens revoked with the reset")


def refused(error: AccountError) -> HTTPException:
    """The HTTP status an account error deserves; its message is already for people."""
    if isinstance(error, (UnknownUser, UnknownToken)):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(error))
    if isinstance(error, UserExists):
        return HTTPException(status.HTTP_409_CONFLICT, str(error))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))


def create_token(
    request: Request, accounts: Accounts, principal: Principal, label: str
) -> TokenCreated:
    """Only from a logged-in session: a leaked token must not be able to outlive its own
    revocation by minting others."""
    if principal.via == "token":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Không thể tạo token bằng một token khác; hãy tạo từ phiên đăng nhập trên trang "
            "Tài khoản (create tokens from a logged-in session)",
        )
    token, secret = accounts.create_token(principal.name, label)
    audit(request, principal, "token.create", principal.name, id=token.id, label=label)
    return TokenCreated(token=token, secret=secret)


def revoke_token(
    request: Request, accounts: Accounts, principal: Principal, owner: str, token_id: str
) -> ApiToken:
    try:
        token = accounts.revoke_token(token_id, owner)
    except AccountError as error:
        raise refused(error) from error
    audit(request, principal, "token.revoke", owner, id=token_id)
    return token


def change_user(
    request: Request, accounts: Accounts, principal: Principal, name: str, change: UserChange
) -> User:
    """Apply an admin's change; an admin cannot lock themselves out by it."""
    if name == principal.name and (
        change.disabled or (change.role is not None and change.role != Role.ADMIN)
    ):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "Không thể tự khóa hoặc tự bỏ quyền quản trị của mình (cannot lock yourself out)",
        )
    try:
        user = accounts.update(name, **change.model_dump(exclude_none=True))
    except AccountError as error:
        raise refused(error) from error
    audit(request, principal, "user.update", name, **change.model_dump(exclude_none=True))
    return user


def reset_user(
    request: Request, accounts: Accounts, principal: Principal, name: str
) -> PasswordReset:
    try:
        reset = accounts.reset_password(name)
    except AccountError as error:
        raise refused(error) from error
    audit(request, principal, "user.reset", name, revoked_tokens=reset.revoked_tokens)
    return reset


def add_user(
    request: Request, accounts: Accounts, principal: Principal, new: UserRequest
) -> UserWithPassword:
    generated = generate_password() if new.password is None else None
    try:
        user = accounts.add_user(
            new.username,
            new.role,
            new.password or generated or "",
            display_name=new.display_name,
            email=new.email,
        )
    except AccountError as error:
        raise refused(error) from error
    audit(request, principal, "user.add", user.username, role=user.role.value)
    return UserWithPassword(user=user, password=generated)


@router.get("/tokens", response_model=list[ApiToken], summary="Token của tôi (my API tokens)")
def my_tokens(accounts: AccountsDep, principal: PrincipalDep) -> list[ApiToken]:
    return accounts.tokens(principal.name)


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Tạo token (create a personal API token)",
    responses={403: {"description": "Called with a token: tokens are made from a session"}},
)
def new_token(
    request: Request, body: TokenRequest, accounts: AccountsDep, principal: PrincipalDep
) -> TokenCreated:
    """The secret is in this response only; it acts with its owner's role at each use."""
    return create_token(request, accounts, principal, body.label)


@router.delete(
    "/tokens/{token_id}",
    response_model=ApiToken,
    summary="Thu hồi token (revoke one of my tokens)",
    responses={404: {"description": "No such token of yours"}},
)
def delete_my_token(
    request: Request, token_id: TokenIdPath, accounts: AccountsDep, principal: PrincipalDep
) -> ApiToken:
    return revoke_token(request, accounts, principal, principal.name, token_id)


@router.get("/users", response_model=list[User], summary="Người dùng (users)")
def list_users(accounts: AccountsDep, _principal: AdminDep) -> list[User]:
    return accounts.users()


@router.post(
    "/users",
    response_model=UserWithPassword,
    status_code=status.HTTP_201_CREATED,
    summary="Thêm người dùng (add a user)",
    responses={409: {"description": "Username taken"}},
)
def post_user(
    request: Request, body: UserRequest, accounts: AccountsDep, principal: AdminDep
) -> UserWithPassword:
    return add_user(request, accounts, principal, body)


@router.patch(
    "/users/{name}",
    response_model=User,
    summary="Sửa người dùng (role, disabled, name, e-mail)",
    responses={404: {"description": "No such user"}},
)
def patch_user(
    request: Request,
    name: UsernamePath,
    body: UserChange,
    accounts: AccountsDep,
    principal: AdminDep,
) -> User:
    """A role change or disabling ends the user's sessions at once; tokens follow the role."""
    return change_user(request, accounts, principal, name, body)


@router.post(
    "/users/{name}/reset",
    response_model=UserReset,
    summary="Đặt lại mật khẩu (reset a password)",
    responses={404: {"description": "No such user"}},
)
def post_reset(
    request: Request, name: UsernamePath, accounts: AccountsDep, principal: AdminDep
) -> UserReset:
    """A generated password, returned once; unlocks the account, ends its sessions and
    revokes its API tokens (the owner makes new ones after logging in)."""
    reset = reset_user(request, accounts, principal, name)
    return UserReset(
        user=accounts.get(name), password=reset.password, revoked_tokens=reset.revoked_tokens
    )


@router.get(
    "/users/{name}/tokens",
    response_model=list[ApiToken],
    summary="Token của một người dùng (a user's tokens)",
)
def user_tokens(name: UsernamePath, accounts: AccountsDep, _principal: AdminDep) -> list[ApiToken]:
    if accounts.get(name) is None:
        raise refused(UnknownUser(f"Không có người dùng '{name}' (no such user)"))
    return accounts.tokens(name)


@router.delete(
    "/users/{name}/tokens/{token_id}",
    response_model=ApiToken,
    summary="Thu hồi token của người dùng (revoke a user's token)",
    responses={404: {"description": "No such token"}},
)
def delete_user_token(
    request: Request,
    name: UsernamePath,
    token_id: TokenIdPath,
    accounts: AccountsDep,
    principal: AdminDep,
) -> ApiToken:
    return revoke_token(request, accounts, principal, name, token_id)
