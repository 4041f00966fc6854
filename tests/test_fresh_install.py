"""The README's first command on a fresh venv: the interpreter's stock pip (not upgraded), the
pinned versions of constraints.txt, a real resolve from the package index. An upgraded pip
hid a missing dependency once (lxml_html_clean), so this path is tested as a user takes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO

INDEX_URL = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")


def require_index() -> None:
    """The one test that needs the package index: a failure in CI, a skip elsewhere."""
    try:
        httpx.get(INDEX_URL.rstrip("/") + "/pip/", timeout=20).raise_for_status()
    except httpx.HTTPError as error:
        message = f"needs the package index {INDEX_URL} ({error})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def copy_of_the_tree(target: Path) -> Path:
    """The working tree's files git knows or would add, so the install never writes into the
    checkout (an egg-info, a build folder)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def stock_pip_version(python: str) -> str:
    """The pip that ``ensurepip`` bundles with this interpreter: what a fresh venv starts with."""
    return subprocess.run(
        [python, "-c", "import ensurepip; print(ensurepip.version())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def run(command: list[str], cwd: Path, timeout: float = 900) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.package_index
def test_the_readme_install_works_with_the_stock_pip(tmp_path):
    require_index()
    python = shutil.which("python3")
    assert python, "python3 is not on PATH"
    tree = copy_of_the_tree(tmp_path / "mediawatch")
    started = time.monotonic()
    run([python, "-m", "venv", ".venv"], cwd=tree)
    venv_python = str(tree / ".venv" / "bin" / "python")
    pip = run([venv_python, "-m", "pip", "--version"], cwd=tree)
    assert pip.split()[1] == stock_pip_version(python), f"pip was upgraded: {pip}"

    # The README's command, word for word.
    run([str(tree / ".venv/bin/pip"), "install", "-c", "constraints.txt", "-e", "."], cwd=tree)

    assert "demo" in run([str(tree / ".venv/bin/mediawatch"), "--help"], cwd=tree)
    run([venv_python, "-c", "import api.app, crawlers.extract, lxml.html.clean"], cwd=tree)
    print(f"fresh install in {time.monotonic() - started:.0f} s")
