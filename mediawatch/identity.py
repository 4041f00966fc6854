"""Stable identities: the same article under tracking links, or the same text, is one item."""

from __future__ import annotations

import hashlib
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


def content_hash(text: str) -> str:
    """Hash of the folded, whitespace-collapsed text: same words, same hash, whatever the URL."""
    return _digest(collapse(normalize(text)))
