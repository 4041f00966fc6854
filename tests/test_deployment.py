"""The production wiring: what docker-compose.yml runs exists and refuses unsafe starts."""

from __future__ import annotations

import os
import subprocess
import sys

import typer
import yaml

from mediawatch.cli import app
from tests.conftest import REPO


def test_compose_file_runs_commands_that_exist():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"elasticsearch", "api", "worker", "mail"} <= set(services)
    assert services["elasticsearch"]["environment"]["xpack.security.enabled"] == "true"
    api_command = services["api"]["command"]
    assert api_command[:2] == ["uvicorn", "mediawatch.asgi:app"]
    commands = typer.main.get_command(app).commands  # no invocation: it would reconfigure logs
    assert services["worker"]["command"][0] == "mediawatch"
    assert services["worker"]["command"][1] in commands


def test_production_api_refuses_to_start_without_shared_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_")}
    result = subprocess.run(
        [sys.executable, "-c", "import mediawatch.asgi"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "MEDIAWATCH_ADMIN_PASSWORD" in result.stderr
    assert "MEDIAWATCH_SESSION_SECRET" in result.stderr
