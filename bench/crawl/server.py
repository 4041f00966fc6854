"""Serve the benchmark site from its own process, with every response prepared in advance.

Its own process, so serving never competes for the GIL with the crawls being measured; bytes
prepared in advance and HTTP/1.1 keep-alive, so it is never the bottleneck (``measure`` checks).
"""

from __future__ import annotations

import http.client
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from types import TracebackType

from bench.crawl.site import BenchSite

START_TIMEOUT_S = 60


def _serve(pages: int, seed: int, connection: Connection) -> None:
    responses: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            answer = responses.get(self.path.split("?", 1)[0])
            if answer is None:
                answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site = BenchSite(pages, seed, f"http://127.0.0.1:{server.server_address[1]}")
    for path, response in site.routes.items():
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n\r\n"
        )
        responses[path] = head.encode() + response.body
    connection.send(site.base_url)
    server.serve_forever()


class SiteServer:
    """``with SiteServer(pages, seed) as server:`` serves the pages of
    ``BenchSite(pages, seed, server.base_url)``."""

    def __init__(self, pages: int, seed: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(pages, seed, theirs), daemon=True)
        self.base_url = ""

    def __enter__(self) -> SiteServer:
        self._process.start()
        if not self._ours.poll(START_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError(f"the benchmark site did not start in {START_TIMEOUT_S} s")
        try:
            self.base_url = self._ours.recv()
        except EOFError as error:
            raise RuntimeError("the benchmark site's process died while starting") from error
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._process.terminate()
        self._process.join(timeout=10)


def measure(base_url: str, paths: list[str], connections: int) -> float:
    """Seconds for ``connections`` keep-alive clients to fetch every path: the site by itself."""
    host, port = base_url.removeprefix("http://").split(":")
    shares = [paths[n::connections] for n in range(connections)]

    def fetch(share: list[str]) -> None:
        client = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            for path in share:
                client.request("GET", path)
                response = client.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"the benchmark site answered {response.status} for {path}")
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(fetch, shares))
    return time.perf_counter() - started
