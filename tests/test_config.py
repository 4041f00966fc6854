import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mediawatch.config import ConfigError, Settings, load_sources
from mediawatch.model import SourceTier

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


VALID = """\
sources:
  - id: baolamdong-thoi-su
    name: Báo Lâm Đồng
    kind: feed
    url: https://baolamdong.vn/rss/thoi-su.rss
    tier: press
    schedule: every 30m
  - id: cong-thong-tin
    name: Cổng thông tin
    kind: feed
    url: https://lamdong.gov.vn/rss
    tier: official
    schedule: "*/20 * * * *"
    enabled: false
"""


def test_valid_registry_loads(tmp_path):
    sources = load_sources(write(tmp_path, VALID))
    assert [s.id for s in sources] == ["baolamdong-thoi-su", "cong-thong-tin"]
    assert sources[1].tier is SourceTier.OFFICIAL
    assert sources[1].enabled is False


def test_shipped_registry_is_valid():
    sources = load_sources(REPO / "config" / "sources.yaml")
    assert len(sources) >= 10
    assert any("baolamdong" in str(s.url) for s in sources)
    assert {s.tier for s in sources} >= {SourceTier.PRESS, SourceTier.OFFICIAL}


def test_error_names_the_line_and_the_field(tmp_path):
    bad = VALID.replace("tier: official", "tier: famous").replace(
        "https://lamdong.gov.vn/rss", "not a url"
    )
    with pytest.raises(ConfigError) as caught:
        load_sources(write(tmp_path, bad))
    message = str(caught.value)
    assert "sources.yaml:11: sources.1.url" in message
    assert "sources.yaml:12: sources.1.tier" in message
    assert "'official', 'press', 'social' or 'unknown'" in message


def test_missing_field_points_at_the_entry(tmp_path):
    bad = VALID.replace("    kind: feed\n    url: https://baolamdong.vn/rss/thoi-su.rss\n", "")
    with pytest.raises(ConfigError, match=r"sources\.yaml:2: sources\.0\.kind: Field required"):
        load_sources(write(tmp_path, bad))


def test_unknown_field_is_refused(tmp_path):
    bad = VALID.replace("    schedule: every 30m\n", "    schedul: every 30m\n")
    with pytest.raises(ConfigError, match=r"sources\.yaml:7: sources\.0\.schedul: Extra inputs"):
        load_sources(write(tmp_path, bad))


def test_duplicate_ids_are_refused(tmp_path):
    bad = VALID.replace("id: cong-thong-tin", "id: baolamdong-thoi-su")
    with pytest.raises(ConfigError, match=r"sources\.yaml:8: .*duplicate id"):
        load_sources(write(tmp_path, bad))


@pytest.mark.parametrize("schedule", ["every 1m", "every often", "61 * * * *"])
def test_bad_schedules_are_refused(tmp_path, schedule):
    bad = VALID.replace("every 30m", schedule)
    with pytest.raises(ConfigError, match=r"sources\.yaml:7: sources\.0\.schedule"):
        load_sources(write(tmp_path, bad))


def test_broken_yaml_and_empty_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(write(tmp_path, "sources: [\n  - id: x\n"))
    with pytest.raises(ConfigError, match="empty"):
        load_sources(write(tmp_path, ""))
    with pytest.raises(ConfigError, match="cannot read"):
        load_sources(tmp_path / "missing.yaml")


def test_settings_come_from_environment_and_yaml(tmp_path, monkeypatch):
    config = tmp_path / "mediawatch.yaml"
    config.write_text("review_threshold: 0.7\ndigest:\n  send_at: '06:30'\n", encoding="utf-8")
    monkeypatch.setenv("MEDIAWATCH_CONFIG", str(config))
    monkeypatch.setenv("MEDIAWATCH_DATA_DIR", str(tmp_path / "d"))
    settings = Settings()
    assert settings.review_threshold == 0.7
    assert settings.digest.send_at == "06:30"
    assert settings.database_path == tmp_path / "d" / "mediawatch.db"
    monkeypatch.setenv("MEDIAWATCH_REVIEW_THRESHOLD", "0.9")
    assert Settings().review_threshold == 0.9


def test_an_empty_social_credential_is_no_credential(monkeypatch):
    monkeypatch.setenv("MEDIAWATCH_SOCIAL__YOUTUBE_API_KEY", "")
    monkeypatch.setenv("MEDIAWATCH_SOCIAL__FACEBOOK_ACCESS_TOKEN", "tok")
    settings = Settings()
    assert settings.social.youtube_api_key is None
    assert settings.social.facebook_access_token.get_secret_value() == "tok"


def test_the_suite_ignores_the_developers_settings(tmp_path):
    """A settings-dependent test passes with the developer's MEDIAWATCH_* set otherwise."""
    config = tmp_path / "mine.yaml"
    config.write_text("review_threshold: 0.99\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_digest.py::test_digest_counts_yesterday_in_vietnamese_time",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=os.environ | {"MEDIAWATCH_REVIEW_THRESHOLD": "0.95", "MEDIAWATCH_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
