"""Stable identities: the same article under tracking links, or the same text, is one item."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from mediawatch.text import collapse, normalize

_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "src",
        "cmpid",
        "zarsrc",
        "rss",
        "from",
        "share",
        "s_cid",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The URL with tracking parameters, fragments and cosmetic differences removed."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING_PARAMS and not key.lower().startswith(_TRACKING_PREFIXES)
    ]
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def web_item_id(url: str) -> str:
    """Id of a web item: a hash of its canonical URL, so re-crawls overwrite, never add."""
    return "web:" + _digest(canonical_url(url))[:32]


def social_item_id(platform: str, post_id: str) -> str:
    """Id of a social post, readable by people who know the platform."""
    return f"{platform.lower()}:{post_id}"


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_TELEGRAM_POST = re.compile(r"^/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/(\d+)$")
_FACEBOOK_POST = re.compile(r"^/(\d+)/posts/(\d+)$")


def social_post_id(url: str) -> str | None:
    """``platform:post_id`` when the URL is a post of a platform we read, else None: the
    same post reached by a connector, a feed link or /api/ingest is then one item."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    path = parts.path.rstrip("/")
    video = None
    if host in ("youtube.com", "music.youtube.com"):
        if path == "/watch":
            video = dict(parse_qsl(parts.query)).get("v")
        elif path.startswith("/shorts/"):
            video = path.removeprefix("/shorts/")
    elif host == "youtu.be":
        video = path.lstrip("/")
    if video and _YOUTUBE_ID.match(video):
        return social_item_id("youtube", video)
    if host == "t.me" and (post := _TELEGRAM_POST.match(path)):
        return social_item_id("telegram", f"{post.group(1).lower()}:{post.group(2)}")
    if host == "facebook.com" and (post := _FACEBOOK_POST.match(path)):
        return social_item_id("facebook", f"{post.group(1)}_{post.group(2)}")
    return None


def item_id(url: str) -> str:
    """The id of whatever the URL points at: a social post's own id, else the web page's."""
    return social_post_id(url) or web_item_id(url)


def content_hash(text: str) -> str:
    """Hash of the folded, whitespace-collapsed text: same words, same hash, whatever the URL."""
    return _digest(collapse(normalize(text)))
