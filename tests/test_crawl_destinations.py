"""SSRF: a crawl never fetches an internal address nobody allowed, however it is reached.

The "outside" site runs on 127.0.0.2 and is the one address allowed; the "internal" service
with its secret runs on 127.0.0.1, as a service inside our network would.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address

import pytest
from structlog.testing import capture_logs

from crawlers.destinations import DestinationPolicy, ForbiddenDestination
from crawlers.events import FailureEvent, ItemEvent
from crawlers.social import collect
from mediawatch.config import CrawlSettings, Settings
from mediawatch.model import SourceKind
from mediawatch.pipeline import Pipeline
from tests.crawling import ALLOW_ALL, article, quick_settings, run_crawl, source
from tests.http_site import Route, RouteSite

OUTSIDE = "127.0.0.2"
SECRET = "Mật khẩu máy chủ nội bộ"


def feed(*links: str) -> bytes:
    """An RSS feed whose entries link to the given absolute URLs."""
    items = "".join(
        f"<item><title>Tin {i}</title><link>{link}</link>"
        f"<description>Tóm tắt tin số {i} về chính sách đất đai của tỉnh.</description>"
        f"<pubDate>Mon, 23 Nov 2026 08:00:00 +0700</pubDate></item>"
        for i, link in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Thử</title>'
        f"<link>http://{OUTSIDE}/</link>{items}</channel></rss>"
    ).encode()


def moved(to: str) -> Route:
    return Route(b"", status=302, headers={"Location": to})


@pytest.fixture
def internal() -> Iterator[RouteSite]:
    routes = {"/robots.txt": Route(ALLOW_ALL, "text/plain"), "/secret": Route(article(SECRET))}
    with RouteSite(routes) as site:  # type: ignore[arg-type]
        yield site


def by_name(site: RouteSite, path: str) -> str:
    """The same internal service through a host name (it resolves to 127.0.0.1)."""
    return site.base_url.replace("127.0.0.1", "localhost") + path


def outside_site(routes: dict[str, Route]) -> RouteSite:
    return RouteSite({"/robots.txt": Route(ALLOW_ALL, "text/plain"), **routes}, host=OUTSIDE)


def test_feed_entries_linking_inside_are_refused_failed_and_never_stored(
    internal, settings, pipeline: Pipeline
):
    settings.crawl.allowed_internal_hosts = [OUTSIDE]
    links = [internal.base_url + "/secret", by_name(internal, "/secret")]
    site = outside_site(
        {
            "/feed.xml": Route(feed("{base}/ok", *links), "application/rss+xml"),
            "/ok": Route(article("Lâm Đồng công bố quy hoạch")),
        }
    )
    with site, capture_logs() as logs:
        report = pipeline.crawl([source("ngoai", f"{site.base_url}/feed.xml")])

    assert internal.requested == []  # not the page, not even its robots.txt
    assert {(f.url, f.reason) for f in report.failure_events} == {
        (link, "internal_address") for link in links
    }
    assert report.failures[("ngoai", "article", "internal_address")] == 2
    stored = list(pipeline.store.export_documents())
    assert [d.url for d in stored] == [f"{site.base_url}/ok"]  # nothing of the refused entries
    logged = {
        (e.get("source"), e.get("url")) for e in logs if e.get("reason") == "internal_address"
    }
    assert logged == {("ngoai", link) for link in links}


def test_a_redirect_into_the_network_is_refused_after_the_hop(internal, tmp_path):
    hops = {
        "/moved": moved(internal.base_url + "/secret"),
        "/moved-by-name": moved(by_name(internal, "/secret")),
    }
    site = outside_site(
        {"/feed.xml": Route(feed("{base}/moved", "{base}/moved-by-name"), "application/rss+xml")}
        | hops
    )
    with site:
        result = run_crawl(
            [source("ngoai", f"{site.base_url}/feed.xml")],
            tmp_path,
            quick_settings(allowed_internal_hosts=[OUTSIDE]),
        )
        assert sorted(site.requested) == ["/feed.xml", "/moved", "/moved-by-name", "/robots.txt"]
    assert internal.requested == []
    assert result.items == []
    assert {(f.url, f.reason) for f in result.failures} == {
        (internal.base_url + "/secret", "internal_address"),
        (by_name(internal, "/secret"), "internal_address"),
    }


def test_a_source_at_the_metadata_service_is_refused_without_connecting(tmp_path):
    metadata = source("may-chu", "http://169.254.169.254/latest/meta-data/feed.xml")
    by_name_ = source("may-chu-ten", "http://metadata.google.internal/feed.xml")
    result = run_crawl([metadata, by_name_], tmp_path, quick_settings(allowed_internal_hosts=[]))
    assert {(f.source_id, f.stage, f.reason) for f in result.failures} == {
        ("may-chu", "feed", "internal_address"),
        ("may-chu-ten", "feed", "internal_address"),
    }


def test_the_allowlist_admits_the_listed_internal_host(internal, tmp_path):
    site = outside_site(
        {
            "/feed.xml": Route(feed("{base}/moved"), "application/rss+xml"),
            "/moved": moved(by_name(internal, "/secret")),
        }
    )
    with site:
        result = run_crawl(
            [source("ngoai", f"{site.base_url}/feed.xml")],
            tmp_path,
            quick_settings(allowed_internal_hosts=[OUTSIDE, "localhost"]),
        )
    assert internal.requested == ["/robots.txt", "/secret"]
    (item,) = result.items
    assert SECRET in item.text


def test_social_connectors_refuse_inside_addresses_and_redirects_into_them(internal, tmp_path):
    settings = Settings(data_dir=tmp_path)
    settings.crawl.retries = 0
    settings.crawl.allowed_internal_hosts = [OUTSIDE]
    site = RouteSite({"/s/kenh": moved(internal.base_url + "/secret")}, host=OUTSIDE)
    telegram = {"kind": SourceKind.TELEGRAM, "tier": "social", "account": "kenh"}
    with site:
        redirected = source("tele-chuyen", f"{site.base_url}/s/kenh", **telegram)
        direct = source("tele-trong", by_name(internal, "/s/kenh"), **telegram)
        events = list(collect([redirected, direct], settings))
    assert internal.requested == []
    assert not [e for e in events if isinstance(e, ItemEvent)]
    assert {(e.source_id, e.reason) for e in events if isinstance(e, FailureEvent)} == {
        ("tele-chuyen", "internal_address"),
        ("tele-trong", "internal_address"),
    }


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_every_kind_of_internal_address_is_refused(address):
    with pytest.raises(ForbiddenDestination):
        DestinationPolicy().check(address, [ip_address(address)])
    allowed = DestinationPolicy.allowing(["10.0.0.0/8", address])
    allowed.check(address, [ip_address(address)])


def test_allowed_hosts_are_validated_where_settings_are_read():
    with pytest.raises(ValueError, match="no scheme, no port"):
        CrawlSettings(allowed_internal_hosts=["http://intranet:8080"])
    ok = CrawlSettings(allowed_internal_hosts=["intranet.lamdong.gov.vn", "10.0.0.0/8"])
    assert ok.allowed_internal_hosts == ["intranet.lamdong.gov.vn", "10.0.0.0/8"]
