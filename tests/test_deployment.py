"""The production wiring: what docker-compose.yml runs exists and refuses unsafe starts."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml
from typer.testing import CliRunner

from mediawatch.cli import app
from tests.conftest import REPO


def test_compose_file_runs_commands_that_exist():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"elasticsearch", "api", "worker", "mail"} <= set(services)
    assert services["elasticsearch"]["environment"]["xpack.security.enabled"] == "true"
    api_command = services["api"]["command"]
    assert api_command[:2] == ["uvicorn", "mediawatch.asgi:app"]
    worker = CliRunner().invoke(app, [*services["worker"]["command"][1:], "--help"])
    assert worker.exit_code == 0, worker.output


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
