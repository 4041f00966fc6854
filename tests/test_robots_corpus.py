"""Protego's corpus of real robots.txt files through Scrapy's robots parser with our user agent:
nothing crashes or hangs, and what a plain reading of each file says is what the parser answers.

The expectations come from the files themselves, read line by line into RFC 9309 groups. Only
unambiguous cases are checked (a plain ``Disallow`` path no ``Allow`` can override, a probe path
no rule can reach, a single ``Crawl-delay``); files naming an agent that our user agent contains
are left to the parser alone, since their ``*`` group does not apply to us.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from scrapy.robotstxt import ProtegoRobotParser, decode_robotstxt

from crawlers.feeds import web_link
from crawlers.sitemaps import sitemap_urls_from_robots
from mediawatch.config import CrawlSettings
from tests.conftest import shared_path

USER_AGENT = CrawlSettings().user_agent
PROBE = "/mediawatch-probe/bai-viet.html"
SITE_WIDE = {"sitemap", "host"}
_LINE = re.compile(r"^([A-Za-z][A-Za-z -]*?)\s*:\s*(.*)$")
_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9/._~!&'()+,;=:@-]*$")


@dataclass
class Group:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[str, str]] = field(default_factory=list)


def _groups(text: str) -> list[Group]:
    """Consecutive user-agent lines open a group; the rules after them belong to it."""
    groups: list[Group] = []
    in_agents = False
    for raw in text.splitlines():
        found = _LINE.match(raw.split("#", 1)[0].strip())
        if not found:
            continue
        name, value = found.group(1).lower(), found.group(2).strip()
        if name == "user-agent":
            if not in_agents:
                groups.append(Group())
            groups[-1].agents.append(value.lower())
            in_agents = True
        elif name not in SITE_WIDE:
            if groups:
                groups[-1].rules.append((name, value))
            in_agents = False
    return groups


@dataclass
class Checked:
    files: int = 0
    disallowed: int = 0
    allowed: int = 0
    delays: int = 0
    sitemaps: int = 0
    failures: list[str] = field(default_factory=list)


def _check_file(host: str, text: str, parser: ProtegoRobotParser, checked: Checked) -> None:
    base = f"https://{host}/robots.txt"
    sitemap_lines = re.findall(r"(?im)^\s*sitemap\s*:\s*(.+?)\s*$", text)
    expected_maps = [
        web_link(urljoin(base, value.split("#")[0].strip())) for value in sitemap_lines
    ]
    found_maps = sitemap_urls_from_robots(text, base)
    missing = [url for url in expected_maps if url and url not in found_maps]
    if missing:
        checked.failures.append(f"{host}: Sitemap lines not found: {missing}")
    checked.sitemaps += len(found_maps)

    groups = _groups(text)
    named = {agent.replace("*", "") for group in groups for agent in group.agents} - {""}
    if any(agent in USER_AGENT.lower() for agent in named):
        return  # a group for an agent our user agent contains may outrank "*"
    rules = [rule for group in groups if "*" in group.agents for rule in group.rules]
    allows = [value for name, value in rules if name == "allow" and value]
    odd_allows = any(re.search(r"[*$]|index\.html$", value) for value in allows)
    plain = [v for name, v in rules if name == "disallow" and _PLAIN_PATH.match(v)]
    for path in [p for p in plain if p not in allows and p != "/robots.txt"][:3]:
        if odd_allows:
            break
        checked.disallowed += 1
        if parser.allowed(f"https://{host}{path}", USER_AGENT):
            checked.failures.append(f"{host}: Disallow: {path} but can_fetch says yes")
    reaching = [v for _name, v in rules if v and (PROBE.startswith(v) or not v.startswith("/"))]
    if not reaching and not any("*" in v for _name, v in rules):
        checked.allowed += 1
        if not parser.allowed(f"https://{host}{PROBE}", USER_AGENT):
            checked.failures.append(f"{host}: no rule reaches {PROBE} but can_fetch says no")
    delays = [value for name, value in rules if name == "crawl-delay"]
    if len(delays) == 1 and re.fullmatch(r"\d+(\.\d+)?", delays[0]):
        checked.delays += 1
        if parser.crawl_delay(USER_AGENT) != float(delays[0]):
            checked.failures.append(
                f"{host}: Crawl-delay {delays[0]} read as {parser.crawl_delay(USER_AGENT)}"
            )


def test_every_robots_file_parses_fast_and_answers_as_it_reads():
    files = sorted((shared_path("fixtures/robots-txt") / "files").iterdir())
    assert len(files) == 285
    checked = Checked()
    slow = []
    for path in files:
        body = path.read_bytes()
        started = time.perf_counter()
        parser = ProtegoRobotParser(body, None)  # what Scrapy's RobotsTxtMiddleware builds
        text = decode_robotstxt(body, None)
        _check_file(path.name, text, parser, checked)
        elapsed = time.perf_counter() - started
        if elapsed > 0.5:
            slow.append(f"{path.name}: {elapsed:.2f}s")
        checked.files += 1
    assert not slow, slow
    assert not checked.failures, "\n".join(checked.failures)
    assert checked.files == len(files)
    # Enough of the corpus was actually checked for the answers to mean something.
    assert checked.disallowed >= 200 and checked.allowed >= 100, checked
    assert checked.delays >= 10 and checked.sitemaps >= 100, checked
