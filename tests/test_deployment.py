"""The production wiring: what docker-compose.yml runs exists and refuses unsafe starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
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


def import_production_app(tmp_path, session_secret: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_")}
    env["MEDIAWATCH_DATA_DIR"] = str(tmp_path)
    if session_secret is not None:
        env["MEDIAWATCH_SESSION_SECRET"] = session_secret
    return subprocess.run(
        [sys.executable, "-c", "import mediawatch.asgi"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "short-secret",
        "change-me-change-me-change-me-change-me",  # long, but a placeholder
        "x" * 40,
        "secret-3",  # what a filled-in copy of .env.example looks like in the compose test
    ],
)
def test_production_api_refuses_missing_or_weak_session_secret(tmp_path, secret):
    result = import_production_app(tmp_path, secret)
    assert result.returncode != 0
    assert "MEDIAWATCH_SESSION_SECRET" in result.stderr


def test_production_api_starts_with_a_random_session_secret(tmp_path):
    result = import_production_app(tmp_path, "k3J9vQ2xN8pL5rT1wY6zB4cD7fG0hM-aE_uI")
    assert result.returncode == 0, result.stderr


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if shutil.which("docker") and probe.returncode == 0:
        return ["docker", "compose"]
    message = "needs docker-compose (Debian package) to check docker-compose.yml"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def test_compose_accepts_the_file_with_secrets_and_refuses_it_without(tmp_path):
    command = compose_command()
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    filled = "\n".join(
        f"{line}secret-{i}" if line.endswith("=") else line
        for i, line in enumerate(example.splitlines())
    )
    env_file = tmp_path / ".env"
    env_file.write_text(filled + "\n", encoding="utf-8")
    base = [*command, "--project-directory", str(REPO), "-f", str(REPO / "docker-compose.yml")]
    accepted = subprocess.run(
        [*base, "--env-file", str(env_file), "config"], capture_output=True, text=True, timeout=60
    )
    assert accepted.returncode == 0, accepted.stderr
    assert "MEDIAWATCH_STORE: elasticsearch" in accepted.stdout
    empty = tmp_path / "empty.env"
    empty.write_text("", encoding="utf-8")
    refused = subprocess.run(
        [*base, "--env-file", str(empty), "config"], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0
    assert "set ELASTIC_PASSWORD in .env" in refused.stderr
