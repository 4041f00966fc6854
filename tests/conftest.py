"""Shared fixtures: real servers on loopback, real SQLite files, the shared data sets."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from api.app import create_app
from classifier.service import Classifier
from index.sqlite import SQLiteStore
from mediawatch.accounts import Accounts
from mediawatch.config import Settings
from mediawatch.demo.site import DemoSiteServer
from mediawatch.model import Role
from mediawatch.pipeline import Pipeline
from tests.crawling import LOOPBACK

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
API_TOKEN = "test-token-reviewer1-0123456789abcdef"
OTHER_TOKEN = "test-token-reviewer2-0123456789abcdef"
ADMIN_TOKEN = "test-token-admin-0123456789abcdef01234"
ANALYST_TOKEN = "test-token-analyst1-0123456789abcdef"
VIEWER_TOKEN = "test-token-viewer1-0123456789abcdef0"
ADMIN_PASSWORD = "mat-khau-thu-nghiem"
# Every test user has the same password; the tokens say who is calling.
TEST_USERS = {
    "reviewer1": (Role.REVIEWER, API_TOKEN),
    "reviewer2": (Role.REVIEWER, OTHER_TOKEN),
    "admin": (Role.ADMIN, ADMIN_TOKEN),
    "analyst1": (Role.ANALYST, ANALYST_TOKEN),
    "viewer1": (Role.VIEWER, VIEWER_TOKEN),
}
ROLE_TOKENS = {role: token for role, token in TEST_USERS.values()}


def drop_developer_settings() -> None:
    """Settings come from the environment (``MEDIAWATCH_*``, ``MEDIAWATCH_CONFIG``): a
    developer's shell must not change what the tests see, nor what their subprocesses see.
    Only the tests' own variables (``MEDIAWATCH_TEST_*``) stay."""
    for name in [name for name in os.environ if name.startswith("MEDIAWATCH_")]:
        if not name.startswith("MEDIAWATCH_TEST_"):
            del os.environ[name]


drop_developer_settings()


def shared_path(relative: str) -> Path:
    """A path under ../shared; skipped where a user's clone lacks it, a failure in CI."""
    path = SHARED / relative
    if not path.exists():
        message = f"needs ../shared/{relative} (not present: {path})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return Classifier.load()


@pytest.fixture(scope="session")
def accounts_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test users' accounts file, hashed once (argon2 is slow on purpose) and copied."""
    path = tmp_path_factory.mktemp("accounts") / "accounts.db"
    accounts = Accounts(path)
    for username, (role, token) in TEST_USERS.items():
        accounts.add_user(username, role, ADMIN_PASSWORD, email=f"{username}@example.gov.vn")
        accounts.register_token(username, "tests", token)
    return path


@pytest.fixture
def settings(tmp_path: Path, accounts_template: Path) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "data",
        session_secret="Zq7-test-session-signing-key-9Xw2Lp4Rt",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(accounts_template, settings.accounts_path)
    settings.crawl.download_delay_s = 0.0
    settings.crawl.retries = 0
    settings.crawl.timeout_s = 10
    settings.crawl.allowed_internal_hosts = LOOPBACK
    return settings


@pytest.fixture
def store(settings: Settings) -> SQLiteStore:
    return SQLiteStore(settings.database_path)


@pytest.fixture
def pipeline(store: SQLiteStore, classifier: Classifier, settings: Settings) -> Pipeline:
    return Pipeline(store, classifier, settings)


@pytest.fixture(scope="session")
def demo_site() -> Iterator[DemoSiteServer]:
    with DemoSiteServer() as server:
        yield server


@pytest.fixture(scope="session")
def demo_store(
    tmp_path_factory: pytest.TempPathFactory, classifier: Classifier, demo_site: DemoSiteServer
) -> SQLiteStore:
    """The demo corpus crawled once for the session; tests must not change it."""
    data_dir = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=data_dir)
    settings.crawl.download_delay_s = 0.0
    settings.crawl.allowed_internal_hosts = LOOPBACK
    pipeline = Pipeline(SQLiteStore(settings.database_path), classifier, settings)
    pipeline.crawl(demo_site.site.sources())
    return pipeline.store


class LiveServer:
    """uvicorn serving an app on a loopback port in a thread."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def live_api(settings: Settings, store: SQLiteStore) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings, store)) as server:
        yield server


def token_client(url: str, token: str) -> httpx.Client:
    """A script calling the API with a personal token."""
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


@pytest.fixture
def api_client(live_api: LiveServer) -> Iterator[httpx.Client]:
    with token_client(live_api.url, API_TOKEN) as client:
        yield client


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Log in through the form, as a person does (CSRF token and all)."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf": csrf, "next": "/"}
    )


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on loopback; settings point at it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.smtp.host = "127.0.0.1"
    settings.smtp.port = controller.port
    try:
        yield mailbox
    finally:
        controller.stop()


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "needs Debian's chromium (/usr/bin/chromium); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
