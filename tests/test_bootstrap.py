"""First start: an admin (and in the demo one user per role) with secrets printed once; a weak
configured session secret stops the start."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mediawatch.accounts import Accounts
from mediawatch.audit import AuditLog
from mediawatch.config import Settings
from mediawatch.model import Role
from mediawatch.service import with_credentials


def test_first_start_creates_an_admin_with_a_password_and_token(tmp_path):
    settings, created = with_credentials(Settings(data_dir=tmp_path))
    assert settings.session_secret is not None  # generated for the one process
    (admin,) = created
    accounts = Accounts.from_settings(settings)
    assert (admin.username, admin.role) == ("admin", Role.ADMIN)
    assert accounts.authenticate("admin", admin.password).ok
    assert accounts.identify(admin.api_token)[0].username == "admin"
    actions = [e.action for e in AuditLog(settings.audit_path).entries()]
    assert actions == ["user.add", "token.create"]
    _, again = with_credentials(Settings(data_dir=tmp_path))
    assert again == []  # accounts exist: nothing new, nothing printed


def test_the_demo_has_one_user_per_role(tmp_path):
    settings, created = with_credentials(Settings(data_dir=tmp_path), demo=True)
    assert {c.role for c in created} == set(Role)
    accounts = Accounts.from_settings(settings)
    assert all(accounts.authenticate(c.username, c.password).ok for c in created)


@pytest.mark.parametrize("secret", ["change-me", "change-me-change-me-change-me-change-me"])
def test_a_weak_configured_session_secret_is_refused(tmp_path, secret):
    settings = Settings(data_dir=tmp_path, session_secret=SecretStr(secret))
    with pytest.raises(SystemExit, match="MEDIAWATCH_SESSION_SECRET"):
        with_credentials(settings)
    assert not Accounts.from_settings(settings).has_users()
