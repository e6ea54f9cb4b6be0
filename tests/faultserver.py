"""A local HTTP server that misbehaves on purpose, one scripted reply per request.

Each reply is a ``Reply``: a status, headers and a body, optionally delayed, or cut off in the
middle of the body. Requests are logged so tests can count them.
"""

from __future__ import annotations

import json
import threading
import time
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


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    authorization: bool


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
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
