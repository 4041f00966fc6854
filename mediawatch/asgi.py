"""The API as an ASGI app for several uvicorn workers (production, docker-compose.yml).

Every worker must share the same session secret, so nothing is generated here: a missing or
weak one stops the start with a message naming it. Accounts live in the accounts database;
create the first one with ``mediawatch users add NAME --role admin``.
"""

from __future__ import annotations

from api.app import create_app
from mediawatch.accounts import session_secret_problem
from mediawatch.audit import AuditFilesUnwritable
from mediawatch.config import Settings
from mediawatch.logs import configure_logging
from mediawatch.service import build_store
from mediawatch.sqlite_files import DamagedFile


def _production_settings() -> Settings:
    """Settings whose session secret is fit for production: a placeholder would let anyone
    who read it sign their own session cookie."""
    settings = Settings()
    secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    problem = session_secret_problem(secret)
    if problem:
        raise SystemExit(
            f"mediawatch API: MEDIAWATCH_SESSION_SECRET {problem}; set a random value of at "
            "least 32 characters shared by all workers (e.g. `openssl rand -base64 48`)"
        )
    return settings


configure_logging(json=True)
_settings = _production_settings()
try:
    app = create_app(_settings, build_store(_settings))
except (DamagedFile, AuditFilesUnwritable) as error:  # no worker may start and answer 500
    raise SystemExit(f"mediawatch API: {error}") from error
