"""The declared dependency ranges: what pip may install must have what the code relies on."""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import REPO

# Scrapy 2.15 added TWISTED_DNS_RESOLVER and CannotResolveHostError (crawlers.settings,
# crawlers.guard: before it the resolver guard is silently not installed); 2.19 added the
# download slot's jitter (DOWNLOAD_DELAY_JITTER, crawlers.middlewares' backoff), without which
# a page answered 429 fails with AttributeError. Checked by running the crawl tests on 2.15.
SCRAPY_FLOOR = Version("2.19")


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    return {requirement.name.lower(): requirement for requirement in requirements}


def pinned() -> dict[str, Version]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = Version(version.strip())
    return pins


def test_scrapy_floor_has_the_resolver_guard_and_the_slot_jitter():
    floors = [Version(s.version) for s in declared()["scrapy"].specifier if s.operator == ">="]
    assert floors and min(floors) >= SCRAPY_FLOOR


def test_constraints_satisfy_every_declared_range():
    pins = pinned()
    for name, requirement in declared().items():
        key = name.replace("_", "-")
        assert key in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[key], prereleases=True), (
            f"constraints.txt pins {name}=={pins[key]}, outside {requirement.specifier}"
        )
