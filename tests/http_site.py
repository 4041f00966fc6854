"""A loopback HTTP server answering from a table of routes: for hostile and broken input."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # sent, and answered with 304 when the request's If-None-Match has it
    delay_s: float = 0.0  # a slow server


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it: when (time.monotonic), what, and with which headers."""

    path: str
    at: float
    headers: dict[str, str]
    status: int


@dataclass
class RouteSite:
    """``routes`` maps a path to a Route, or to a list of Routes answered in turn (the last
    one from then on)."""

    routes: dict[str, Route | list[Route]]
    host: str = "127.0.0.1"  # any loopback address: 127.0.0.2 stands for another machine
    requested: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)

    def _route(self, path: str) -> Route:
        found = self.routes.get(path) or self.routes.get(path.split("?")[0])
        if isinstance(found, list):
            earlier = sum(hit.path == path for hit in self.hits)
            return found[min(earlier, len(found) - 1)]
        return found or Route(b"not found", status=404)

    def __post_init__(self) -> None:
        site = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    route = site._route(self.path)
                    status = route.status
                    if route.etag and route.etag == self.headers.get("If-None-Match"):
                        status = 304
                    site.requested.append(self.path)
                    site.hits.append(Hit(self.path, time.monotonic(), dict(self.headers), status))
                body = route.body.replace(b"{base}", site.base_url.encode())
                time.sleep(route.delay_s)
                if status == 304:
                    body = b""
                self.send_response(status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                if route.etag:
                    self.send_header("ETag", route.etag)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self.base_url = f"http://{self.host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RouteSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
