"""The API as an ASGI app for several uvicorn workers (production, docker-compose.yml).

Every worker must share the same secrets, so nothing is generated here: missing secrets stop
the start with a message naming them.
"""

from __future__ import annotations

from api.app import create_app
from mediawatch.config import Settings
from mediawatch.logs import configure_logging
from mediawatch.service import build_store


def _production_settings() -> Settings:
    settings = Settings()
    missing = [
        name
        for name, value in (
            ("MEDIAWATCH_ADMIN_PASSWORD", settings.admin_password),
            ("MEDIAWATCH_SESSION_SECRET", settings.session_secret),
            ("MEDIAWATCH_API_TOKENS", settings.api_tokens),
        )
        if not value
    ]
    if missing:
        raise SystemExit(f"mediawatch API: set {', '.join(missing)} (shared by all workers)")
    return settings


configure_logging(json=True)
_settings = _production_settings()
app = create_app(_settings, build_store(_settings))
