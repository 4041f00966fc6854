"""Settings in one place (environment variables, optionally a YAML file) and the source registry.

Every value has a safe default for the embedded mode; ``MEDIAWATCH_<NAME>`` overrides it, and
``MEDIAWATCH_CONFIG=path.yaml`` may hold the same names in a file (the environment wins).
"""

from __future__ import annotations

import os
import re
from ipaddress import ip_network
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources import YamlConfigSettingsSource

from mediawatch.model import Role, Source, SourceTier
from mediawatch.schedule import parse_schedule

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?", re.IGNORECASE)


class CrawlSettings(BaseModel):
    """Politeness and safety limits for every crawl."""

    # HTTP headers are ASCII: a Vietnamese agent string is refused by strict clients (httpx).
    user_agent: str = Field(
        default="mediawatch/0.1 (+https://lamdong.gov.vn; giam sat thong tin)",
        pattern=r"^[\x20-\x7e]+$",
    )
    download_delay_s: float = Field(default=2.0, ge=0)
    per_domain_concurrency: int = Field(default=1, ge=1, le=4)
    concurrent_requests: int = Field(default=8, ge=1, le=256, description="Across all sites")
    timeout_s: float = Field(default=20.0, gt=0)
    max_page_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(
        default=5.0, ge=0, description="A site's delay after a 429/5xx/timeout; doubles each time"
    )
    max_backoff_s: float = Field(
        default=600.0, gt=0, description="Cap on that delay and on a server's Retry-After"
    )
    max_entries_per_feed: int = Field(default=100, ge=1)
    obey_robots_txt: bool = True
    max_crawl_s: int = Field(default=3600, ge=60, description="A crawl stops after this long")
    allowed_internal_hosts: list[str] = Field(
        default_factory=list,
        description="Internal hosts a crawl may fetch: names, addresses or networks (CIDR). "
        "Every other loopback, private, link-local (cloud metadata), CGNAT or reserved "
        "destination is refused, before the request and after each redirect",
    )
    proxy_url: str | None = Field(
        default=None,
        description="An outbound HTTP proxy for crawls and social connectors "
        "(http://host:port). Unset, HTTP_PROXY/HTTPS_PROXY in the environment are ignored and "
        "every connection goes direct, checked by the address it resolves to. Set, requests go "
        "through it and only literal internal addresses and cloud metadata names are refused: "
        "the proxy resolves the names, where the guard cannot see",
    )

    @field_validator("allowed_internal_hosts")
    @classmethod
    def _hosts(cls, entries: list[str]) -> list[str]:
        """Names, addresses or networks, without scheme or port: what the check compares."""
        for entry in entries:
            try:
                ip_network(entry.strip("[]"), strict=False)
            except ValueError:
                if len(entry) > 253 or not _HOST_NAME.fullmatch(entry):
                    raise ValueError(
                        f"{entry!r}: expected a host name, an address or a network such as "
                        "10.0.0.0/8 (no scheme, no port)"
                    ) from None
        return entries

    @field_validator("proxy_url", mode="before")
    @classmethod
    def _proxy(cls, value: object) -> object:
        """Blank is no proxy; otherwise an http(s) URL with a host, as Scrapy and httpx take."""
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str):
            url = urlsplit(value)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ValueError(f"{value!r}: expected a proxy URL such as http://proxy:3128")
        return value


class SocialSettings(BaseModel):
    """Credentials and endpoints of the social connectors; endpoints move only for tests."""

    youtube_api_key: SecretStr | None = None
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    facebook_access_token: SecretStr | None = None
    facebook_graph_url: str = "https://graph.facebook.com/v21.0"
    max_items_per_source: int = Field(default=200, ge=1, le=5000)
    timeout_s: float = Field(default=20.0, gt=0)

    @field_validator("youtube_api_key", "facebook_access_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """An empty variable (as compose passes an unset one) means no credential."""
        return None if isinstance(value, str) and not value.strip() else value


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 25
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    timeout_s: float = 30.0


class ElasticsearchSettings(BaseModel):
    """Where the production store lives and how to reach it safely."""

    urls: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:9200"])
    api_key: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_certs: Path | None = Field(default=None, description="CA bundle for TLS")
    timeout_s: float = Field(default=30.0, gt=0)
    index_prefix: str = Field(default="mediawatch", pattern=r"^[a-z][a-z0-9_-]*$")
    bulk_chunk: int = Field(default=500, ge=1, le=10_000)
    refresh_writes: bool = Field(
        default=False,
        description="Wait until written items are searchable (tests reading their own "
        "writes); off, they are within the index refresh interval (1 s) and bulk is faster",
    )
    replicas: str = Field(
        default="0-1", pattern=r"^\d+-(\d+|all)$", description="auto_expand_replicas"
    )


class DigestSettings(BaseModel):
    sender: str = "mediawatch@localhost"
    recipients: list[str] = Field(default_factory=list)
    send_at: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    max_queue_items: int = Field(default=10, ge=1, le=100)


class DeadlineSettings(BaseModel):
    """Target times per state, in minutes: what "overdue" means on the queue and in reports."""

    model_config = ConfigDict(extra="forbid")

    first_look_high_risk: int = Field(default=120, ge=1, description="new → in_review, high risk")
    first_look: int = Field(default=24 * 60, ge=1, description="new → in_review, the rest")
    decision: int = Field(default=24 * 60, ge=1, description="in_review → decided")
    official_response: int = Field(default=72 * 60, ge=1, description="escalated → responded")


class ReviewSettings(BaseModel):
    """The queue's thresholds and targets."""

    model_config = ConfigDict(extra="forbid")

    high_risk: float = Field(default=0.8, ge=0, le=1, description="Risk with the short target")
    claim_expiry_minutes: int = Field(
        default=240, ge=1, description="A claimed item nobody decided returns to the queue"
    )
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    agencies: list[str] = Field(
        default_factory=lambda: [
            "Công an tỉnh Lâm Đồng",
            "Sở Thông tin và Truyền thông",
            "Văn phòng UBND tỉnh",
        ],
        description="Where an item may be escalated for an official response",
    )
    alert_recipients: list[str] = Field(
        default_factory=list, description="Who is told of overdue items; empty: the digest's"
    )
    reconcile_minutes: float = Field(
        default=5,
        gt=0,
        le=24 * 60,
        description="How often each API process (or the scheduler beside it) writes the audit "
        "entries and claims of review steps whose request could not (audit log locked, "
        "process killed); also done at start. Fractions allowed (0.5: 30 s)",
    )


class ClaimSettings(BaseModel):
    """Matching new items against the claims register (similarity on folded text)."""

    model_config = ConfigDict(extra="forbid")

    link_threshold: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Linked automatically from this probability of repeating a claim; the "
        "default is the one chosen with the shipped matcher (classifier/models/"
        "claim_matching.json): link precision 0.95 out of fold on the written dev set",
    )
    suggest_threshold: float = Field(
        default=0.17,
        ge=0,
        le=1,
        description="Offered to reviewers from this probability; the default is the shipped "
        "matcher's (best F1 of offered matches out of fold: recall 0.9 was out of reach)",
    )
    min_words_to_link: int = Field(
        default=8, ge=1, description="Shorter texts are only ever suggested"
    )
    publisher: str = Field(
        default="Sở Thông tin và Truyền thông tỉnh Lâm Đồng",
        description="Who our ClaimReview exports name as the fact-checker",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ClaimSettings:
        if self.suggest_threshold > self.link_threshold:
            raise ValueError("suggest_threshold must not exceed link_threshold")
        return self


class SpikeSettings(BaseModel):
    """When a topic or place counts as spiking against its own baseline (mediawatch/spikes.py)."""

    model_config = ConfigDict(extra="forbid")

    baseline_days: int = Field(default=14, ge=1, le=60, description="Last day against these")
    social_baseline_hours: int = Field(
        default=12, ge=1, le=72, description="Last hour of social posts against these"
    )
    p_value: float = Field(
        default=0.001, gt=0, lt=1, description="Poisson upper tail under the baseline rate"
    )
    min_count: int = Field(default=5, ge=1, description="Fewer items in a day never spike")
    min_count_hourly: int = Field(default=3, ge=1, description="Fewer posts in an hour never do")
    min_ratio: float = Field(default=2.0, ge=1, description="Latest ÷ baseline mean")
    min_rate: float = Field(
        default=0.5, gt=0, description="Baseline rate floor, so a new key needs a real burst"
    )


class SecuritySettings(BaseModel):
    """Login lockout, sessions, and who may see authors' identities (Decree 13/2023)."""

    model_config = ConfigDict(extra="forbid")

    max_failed_logins: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    session_hours: int = Field(default=12, ge=1, le=24 * 7)
    author_roles: list[Role] = Field(
        default_factory=lambda: [Role.ADMIN, Role.REVIEWER],
        description="Roles shown authors' names and handles; every showing is audited",
    )
    ingest_tiers: dict[Role, list[SourceTier]] = Field(
        default_factory=lambda: {
            Role.ADMIN: list(SourceTier),
            Role.REVIEWER: [SourceTier.SOCIAL, SourceTier.UNKNOWN],
        },
        description="Source tiers each role may set on POST /api/ingest (a trusted tier "
        "lowers the risk score); a role not listed may send only 'unknown'; higher is 403",
    )

    audit_key_file: Path | None = Field(
        default=None,
        description="HMAC key of the audit log's chain, created 0600 on first use; keep it "
        "apart from audit.db (another disk, a secret mount). Default: "
        "<data_dir>-audit-keys/audit.key, beside the data folder, not in it",
    )
    audit_anchor_file: Path | None = Field(
        default=None,
        description="The audit log's head (last entry and hash, MACed), rewritten at every "
        "append: cut-off entries and an emptied log show against it. Default: "
        "<data_dir>-audit-keys/audit-anchor.json",
    )

    def tiers_for(self, role: Role) -> list[SourceTier]:
        """The tiers ``role`` may claim for items it sends."""
        return self.ingest_tiers.get(role, [SourceTier.UNKNOWN])


class ExportSettings(BaseModel):
    """Background exports: how many one person may ask for, and how long files are kept."""

    model_config = ConfigDict(extra="forbid")

    max_open_per_user: int = Field(default=2, ge=1, description="Queued or running at once")
    max_per_day: int = Field(default=20, ge=1, description="Started by one person in 24 hours")
    keep_days: float = Field(
        default=7, ge=0, description="Files are for downloading, not archiving: then deleted"
    )
    sweep_minutes: float = Field(
        default=60, gt=0, description="How often the API deletes files past keep_days"
    )


class BodyLimitSettings(BaseModel):
    """The largest request body each kind of write may carry, in KiB. A bigger one is refused
    (413) before it is read: at its Content-Length, or as its chunks arrive."""

    model_config = ConfigDict(extra="forbid")

    json_kib: int = Field(default=256, ge=1, description="JSON writes under /api/")
    form_kib: int = Field(default=64, ge=1, description="Forms posted by the pages")
    routes_kib: dict[str, int] = Field(
        default_factory=lambda: {"/api/ingest": 16 * 1024, "/api/claims/import": 5 * 1024},
        description="Paths that take batches or files, with their own limit",
    )

    @field_validator("routes_kib")
    @classmethod
    def _positive(cls, routes: dict[str, int]) -> dict[str, int]:
        bad = sorted(path for path, kib in routes.items() if kib < 1 or not path.startswith("/"))
        if bad:
            raise ValueError(f"each route needs a path starting with / and a limit >= 1: {bad}")
        return routes

    def limit(self, path: str) -> int:
        """Bytes a write to ``path`` may send."""
        kib = self.routes_kib.get(path) or (self.json_kib if path.startswith("/api/") else None)
        return (kib or self.form_kib) * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIAWATCH_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("var")
    store: Literal["sqlite", "elasticsearch"] = Field(
        default="sqlite", description="sqlite: embedded file; elasticsearch: production"
    )
    sources_file: Path = Path("config/sources.yaml")
    models_dir: Path | None = Field(
        default=None, description="Trained model files; the ones shipped in the package if unset"
    )
    review_threshold: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Risk from which an item enters the review queue; the default is the one "
        "chosen with the shipped risk weights (recall 0.9 out of fold on the written dev set)",
    )
    teencode_file: Path | None = Field(
        default=None,
        description="Staff additions to the teencode dictionary, merged over the shipped one",
    )
    timezone: str = "Asia/Ho_Chi_Minh"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = Field(default=None, description="Base URL used in digest links")
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs session cookies; required (random, 32+ characters) in production",
    )
    crawl_state_file: Path | None = Field(
        default=None, description="The worker's crawl state; <data_dir>/crawl-state.db if unset"
    )
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    social: SocialSettings = Field(default_factory=SocialSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    elasticsearch: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    claims: ClaimSettings = Field(default_factory=ClaimSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    body_limits: BodyLimitSettings = Field(default_factory=BodyLimitSettings)
    exports: ExportSettings = Field(default_factory=ExportSettings)
    spikes: SpikeSettings = Field(default_factory=SpikeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get("MEDIAWATCH_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "mediawatch.db"

    @property
    def crawl_state_path(self) -> Path:
        """The worker's crawl memory (validators, intervals, failures)."""
        return self.crawl_state_file or self.data_dir / "crawl-state.db"

    @property
    def stories_path(self) -> Path:
        """Near-duplicate signatures: one worker assigns stories, the API reads figures."""
        return self.data_dir / "stories.db"

    @property
    def topic_labels_path(self) -> Path:
        """Reviewers' topic corrections: written by the API, read by training."""
        return self.data_dir / "topic-labels.db"

    @property
    def accounts_path(self) -> Path:
        """Users, their password hashes and API token hashes, failed logins."""
        return self.data_dir / "accounts.db"

    @property
    def audit_path(self) -> Path:
        """The append-only audit log: kept apart from the search store, so whoever manages
        the store cannot rewrite who did what."""
        return self.data_dir / "audit.db"

    @property
    def claims_path(self) -> Path:
        """The claims register: judged claims, their evidence, rebuttals and linked items."""
        return self.data_dir / "claims.db"

    @property
    def alerts_path(self) -> Path:
        """Which overdue alerts were already sent (once per item, state and deadline)."""
        return self.data_dir / "alerts.db"

    @property
    def watchlists_path(self) -> Path:
        """Analysts' saved watchlists and the spike alerts already sent."""
        return self.data_dir / "watchlists.db"

    @property
    def exports_dir(self) -> Path:
        """Exports built in the background, kept for download."""
        return self.data_dir / "exports"

    @property
    def models_registry(self) -> Path:
        """Model versions trained here, beside the shipped ones (``mediawatch models``)."""
        return self.data_dir / "models"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file, line and field."""


class _SourceRegistry(BaseModel):
    sources: list[Source]


def _node_at(node: yaml.Node, path: tuple[Any, ...]) -> yaml.Node:
    """The deepest YAML node along a pydantic error location, to report its line."""
    for key in path:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == key), None)
            if child is None:
                return node
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def load_sources(path: Path) -> list[Source]:
    """Read and validate the source registry, refusing it whole if anything is wrong."""
    try:
        raw_text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the source registry: {error}") from error
    try:
        root = yaml.compose(raw_text)
        data = yaml.safe_load(raw_text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if root is None:
        raise ConfigError(f"{path}: the file is empty; expected a 'sources:' list")
    try:
        registry = _SourceRegistry.model_validate(data)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            location = problem["loc"]
            line = _node_at(root, location).start_mark.line + 1
            field = ".".join(str(part) for part in location)
            problems.append(f"{path}:{line}: {field}: {problem['msg']}")
        raise ConfigError("invalid source registry\n" + "\n".join(problems)) from error
    seen: dict[str, int] = {}
    for index, source in enumerate(registry.sources):
        if source.id in seen:
            line = _node_at(root, ("sources", index, "id")).start_mark.line + 1
            raise ConfigError(f"{path}:{line}: sources.{index}.id: duplicate id '{source.id}'")
        seen[source.id] = index
    for index, source in enumerate(registry.sources):
        try:
            parse_schedule(source.schedule)
        except ValueError as error:
            line = _node_at(root, ("sources", index, "schedule")).start_mark.line + 1
            raise ConfigError(f"{path}:{line}: sources.{index}.schedule: {error}") from error
    return registry.sources
