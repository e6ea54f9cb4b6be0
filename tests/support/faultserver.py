"""A local HTTP server that misbehaves on purpose, one scripted reply per request.

Each reply is a ``Reply``: a status, headers and a body, optionally delayed, cut off in the
middle of the body, or dripped a byte at a time. Requests are logged (with the Authorization
header they carried) so tests can count them and see where the key went.

Helpers build the misbehaviours the client must survive: `gzip_bomb` (a small body that
inflates to far more than any cap), `nested_json` (deeper than Python's json can read) and
`capped_pages` (a server that quietly serves fewer events per page than asked).
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (to provoke read timeouts)
    cut_after: int | None = None  # send only this many body bytes, then drop the connection
    drip: float = 0.0  # seconds between body bytes, sent one at a time (a trickling server)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def bookings(records: list[dict[str, Any]]) -> Reply:
    return Reply(200, {"bookings": records}, {"Content-Type": "application/json"})


def events(start: int, count: int) -> list[dict[str, Any]]:
    return [{"uid": f"e{n:05d}", "title": f"Event {n}"} for n in range(start, start + count)]


def gzip_bomb(decoded_mb: int) -> bytes:
    """A gzip body of about ``decoded_mb`` MB of zeros that is about 1,000 times smaller,
    compressed a megabyte at a time so building it needs little memory."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [z.compress(b'{"bookings": ["')]
    parts += [z.compress(block) for _ in range(decoded_mb)]
    parts.append(z.compress(b'"]}') + z.flush())
    return b"".join(parts)


def nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def capped_pages(total: int, cap: int):
    """A script serving ``total`` events, at most ``cap`` per page whatever was asked, with
    pages counted in the server's own size (as a server with a page-size limit does)."""

    def script(_n: int, seen: Seen) -> Reply:
        page = int(seen.query.get("page", 1))
        size = min(int(seen.query.get("page_size", 250)), cap)
        start = (page - 1) * size
        return bookings(events(start, max(0, min(size, total - start))))

    return script


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client hangs up on it: dropping a connection (after a body that was
    too large, too slow or cut) is what the client is supposed to do here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    authorization: bool
    auth_header: str = ""  # the Authorization header's value, "" when there was none


class FaultServer:
    """Answers request N with ``script(N, seen)`` (N counts from 1)."""

    def __init__(self, script: Callable[[int, Seen], Reply]) -> None:
        self.script = script
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                seen = Seen(
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    "Authorization" in self.headers,
                    self.headers.get("Authorization", ""),
                )
                with outer._lock:
                    outer.seen.append(seen)
                    number = len(outer.seen)
                reply = outer.script(number, seen)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    if reply.cut_after is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if reply.cut_after is not None:
                        self.wfile.write(payload[: reply.cut_after])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    if reply.drip:
                        for index in range(len(payload)):
                            self.wfile.write(payload[index : index + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                        return
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
