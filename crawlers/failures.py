"""Turn a download failure into a short cause that health counts and log lines can share."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.destinations import ForbiddenDestination

# By class name, so that Twisted's errors and Scrapy's newer wrappers of them read the same.
_CAUSES = {
    "DNSLookupError": "dns",
    "CannotResolveHostError": "dns",
    "ConnectionRefusedError": "connection_refused",
    "DownloadConnectionRefusedError": "connection_refused",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "DownloadTimeoutError": "timeout",
    "ConnectionLost": "connection_lost",
    "ResponseDataLossError": "data_loss",
    "ResponseNeverReceived": "no_response",
    "UnsupportedURLSchemeError": "unsupported_url",
}


def describe_failure(failure: Failure) -> tuple[str, str]:
    """(cause, detail): cause is a stable slug, detail the library's own words."""
    error = failure.value
    detail = str(error) or type(error).__name__
    if isinstance(error, HttpError):
        if error.response.headers.get("cf-mitigated", b"").lower() == b"challenge":
            return "bot_challenge", detail  # Cloudflare's marker of a challenge page
        return f"http_{error.response.status}", detail
    if isinstance(error, ForbiddenDestination):
        return error.cause, detail
    # Before IgnoreRequest: the decompression cap reports itself as one.
    if "max size" in detail.lower() or "maxsize" in detail.lower():
        return "too_large", detail
    if isinstance(error, IgnoreRequest):
        return ("robots_txt" if "robots.txt" in detail else "ignored"), detail
    for klass in type(error).__mro__:
        if klass.__name__ in _CAUSES:
            return _CAUSES[klass.__name__], detail
    return type(error).__name__.lower(), detail
