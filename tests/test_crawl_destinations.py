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


PROXY = "127.0.0.3"


@pytest.fixture
def env_proxy(monkeypatch, internal) -> Iterator[RouteSite]:
    """A "proxy" on loopback named by HTTP(S)_PROXY, as a shell or a unit file may set them:
    asked for the internal service's pages, it hands them over, as a forwarding proxy would."""
    answers = {
        url: Route(article(SECRET))
        for url in (internal.base_url + "/secret", by_name(internal, "/secret"))
    }
    with RouteSite({**answers, "/robots.txt": Route(ALLOW_ALL, "text/plain")}, host=PROXY) as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.base_url)
            monkeypatch.setenv(name.lower(), proxy.base_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        yield proxy


def test_a_proxy_in_the_environment_is_not_used_and_the_guard_still_refuses(
    internal, env_proxy, tmp_path
):
    """Through an unchosen proxy the guard would see only the proxy's address: crawls and
    social connectors connect directly, each destination checked, the proxy never asked."""
    site = outside_site(
        {"/feed.xml": Route(feed("{base}/ok", by_name(internal, "/secret")), "application/rss+xml")}
        | {"/ok": Route(article("Lâm Đồng công bố quy hoạch"))}
    )
    with site:
        crawled = run_crawl(
            [source("ngoai", f"{site.base_url}/feed.xml")],
            tmp_path,
            quick_settings(allowed_internal_hosts=[OUTSIDE]),
        )
        settings = Settings(data_dir=tmp_path)
        settings.crawl.retries = 0
        settings.crawl.allowed_internal_hosts = [OUTSIDE]
        telegram = {"kind": SourceKind.TELEGRAM, "tier": "social", "account": "kenh"}
        inside = source("tele", by_name(internal, "/secret"), **telegram)
        outside = source("tele-ngoai", f"{site.base_url}/s/kenh", **telegram)
        social = list(collect([inside, outside], settings))
        assert {"/feed.xml", "/s/kenh"} <= set(site.requested)  # fetched directly
    assert env_proxy.requested == [] and internal.requested == []
    assert [item.url for item in crawled.items] == [f"{site.base_url}/ok"]
    assert {(f.url, f.reason) for f in crawled.failures} == {
        (by_name(internal, "/secret"), "internal_address")
    }
    failed = {(e.source_id, e.reason) for e in social if isinstance(e, FailureEvent)}
    assert ("tele", "internal_address") in failed and (
        "tele-ngoai",
        "internal_address",
    ) not in failed


def test_a_configured_proxy_is_used_and_literal_internal_addresses_still_refused(
    internal, tmp_path
):
    """``crawl.proxy_url`` is a deliberate choice: requests go through it (the proxy resolves
    names), and what the URL gives away (an internal address, a metadata name) is refused."""
    public = "http://tin.lamdong.example/bai-1"
    routes = {
        "/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "http://tin.lamdong.example/robots.txt": Route(ALLOW_ALL, "text/plain"),
        "http://tin.lamdong.example/feed.xml": Route(
            feed(public, internal.base_url + "/secret"), "application/rss+xml"
        ),
        public: Route(article("Lâm Đồng công bố quy hoạch")),
    }
    with RouteSite(routes, host=PROXY) as proxy:  # type: ignore[arg-type]
        crawl = quick_settings(allowed_internal_hosts=[])
        crawl.proxy_url = proxy.base_url
        result = run_crawl(
            [source("qua-proxy", "http://tin.lamdong.example/feed.xml")], tmp_path, crawl
        )
        settings = Settings(data_dir=tmp_path)
        settings.crawl = crawl
        telegram = {"kind": SourceKind.TELEGRAM, "tier": "social", "account": "kenh"}
        social = list(
            collect([source("tele", "http://169.254.169.254/s/kenh", **telegram)], settings)
        )
    assert "http://tin.lamdong.example/feed.xml" in proxy.requested
    assert [item.url for item in result.items] == [public]
    assert internal.requested == []
    assert {(f.url, f.reason) for f in result.failures} == {
        (internal.base_url + "/secret", "internal_address")
    }
    assert [(e.source_id, e.reason) for e in social if isinstance(e, FailureEvent)] == [
        ("tele", "internal_address")
    ]


def test_a_proxy_url_must_be_an_http_url():
    assert CrawlSettings(proxy_url=" ").proxy_url is None
    with pytest.raises(ValueError, match="proxy URL"):
        CrawlSettings(proxy_url="socks5://proxy:1080")
