"""Every fault class the client is meant to survive, through the command line, in one table.

Run: ``python benchmarks/fault_matrix.py`` (about 20 seconds; ``--only NAME`` for some cases).

Each case starts a local fault server (``tests/support/faultserver.py``) on 127.0.0.1, writes a
settings file, sets the key, runs ``sheep_xl.cli.main`` in this process and checks what a user
would see: the exit code, exactly one line on stderr for an error, no traceback, no
"unexpected", and never the key or a password. One line per case: the case, its exit code, time
to the answer in ms, peak Python memory during the case (``tracemalloc``), and the first line of
the message; then ``N cases: N ok, N failed``. The exit status is 1 when any case failed.

Nothing here touches the real settings, credential store or network: the settings file is a
temporary one, the credential store an in-memory one, proxies are switched off for loopback.
"""

from __future__ import annotations

import argparse
import getpass
import io
import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

import keyring  # noqa: E402
from support.faultserver import (  # noqa: E402
    FaultServer,
    Reply,
    Seen,
    bookings,
    capped_pages,
    events,
    gzip_bomb,
    nested_json,
)
from support.memory_keyring import MemoryKeyring  # noqa: E402

from sheep_xl.cli import main  # noqa: E402

KEY = "sk-matrix-0123456789abcdef"
PASSWORD = "hunter2-matrix"
QUICK = (
    "retries = 1\nconnect_timeout = 0.5\nread_timeout = 0.5\nrequest_deadline = 1.0\n"
    "max_response_bytes = 4194304\n"
)
Script = Callable[[int, Seen], Reply]


@dataclass
class Case:
    name: str
    script: Script | None  # None: no server (or a server that is already gone)
    exit_code: int
    settings: str = QUICK
    key: str = KEY
    argv: tuple[str, ...] = ("events", "example", "all", "--out", "-", "-q")
    url: Callable[[str], str] = lambda url: url
    expect: str = ""  # words the message must hold
    check: Callable[[str, str, list[Seen]], str | None] | None = None  # extra: a problem or None
    stdin_key: str | None = None  # for login: what the hidden prompt returns
    extra: dict[str, Any] = field(default_factory=dict)


def pages(total: int, size: int = 250) -> Script:
    def script(_n: int, seen: Seen) -> Reply:
        page = int(seen.query.get("page", 1))
        start = (page - 1) * size
        return bookings(events(start, max(0, min(size, total - start))))

    return script


def first(reply: Reply, then: Script) -> Script:
    return lambda n, seen: reply if n == 1 else then(n, seen)


def rows_out(count: int) -> Callable[[str, str, list[Seen]], str | None]:
    def check(out: str, _err: str, _seen: list[Seen]) -> str | None:
        got = len(out.strip().splitlines()) - 1  # minus the header
        return None if got == count else f"{got} rows instead of {count}"

    return check


def no_auth_at(other: list[Seen]) -> Callable[[str, str, list[Seen]], str | None]:
    def check(_out: str, _err: str, _seen: list[Seen]) -> str | None:
        if not other:
            return "the redirect was not followed"
        return "the key went to another host" if any(s.authorization for s in other) else None

    return check


def varying_pages() -> Script:
    sizes = [100, 250, 250, 250, 150]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]

    def script(_n: int, seen: Seen) -> Reply:
        page = int(seen.query["page"])
        return bookings(events(starts[page - 1], sizes[page - 1]) if page <= len(sizes) else [])

    return script


def cases(other_server: FaultServer) -> list[Case]:
    drip = Reply(200, json.dumps({"bookings": events(0, 5)}), drip=0.2)
    odd = {"uid": "a", "title": "T", "bad\x00name": 1, "half\ud800": 2, "\x01": 3}
    other_url = other_server.url.replace("127.0.0.1", "localhost")
    return [
        Case("ok: 600 events in pages", pages(600), 0, check=rows_out(600)),
        Case("429 then success", first(Reply(429, {}, {"Retry-After": "0"}), pages(3)), 0),
        Case("429 asking for an hour", lambda n, s: Reply(429, {}, {"Retry-After": "3600"}), 4),
        Case("503 every time", lambda n, s: Reply(503, "<html>down</html>"), 4, expect="503"),
        Case("500 with description", lambda n, s: Reply(500, {"description": "db down"}), 4),
        Case("401 key rejected", lambda n, s: Reply(401, {}), 3),
        Case("404 bucket", lambda n, s: Reply(404, {}), 2),
        Case("read timeout", lambda n, s: Reply(200, {"bookings": []}, delay=1.0), 4),
        Case(
            "body cut short", lambda n, s: Reply(200, {"bookings": events(0, 9)}, cut_after=20), 4
        ),
        Case(
            "200 that is HTML", lambda n, s: Reply(200, "<html>", {"Content-Type": "text/html"}), 4
        ),
        Case("bookings not a list", lambda n, s: Reply(200, {"bookings": "x"}), 4),
        Case("no bookings key", lambda n, s: Reply(200, {"events": []}), 4),
        Case("event not an object", lambda n, s: Reply(200, {"bookings": [{"uid": "a"}, 7]}), 4),
        Case("server ignores page", lambda n, s: bookings(events(0, 250)), 4, expect="paging"),
        Case(
            "endless server",
            lambda n, s: bookings(events(int(s.query["page"]) * 250, 250)),
            4,
            settings=QUICK + "max_pages = 5\n",
        ),
        Case("nested JSON 100,000 deep", lambda n, s: Reply(200, nested_json(100_000)), 4),
        Case(
            "gzip bomb 256 MB",
            lambda n, s: Reply(200, BOMB, {"Content-Encoding": "gzip"}),
            4,
            expect="larger than 4 MB",
        ),
        Case("unknown encoding (br)", lambda n, s: Reply(200, b"x", {"Content-Encoding": "br"}), 4),
        Case("drip 1 byte per 0.2 s", lambda n, s: drip, 4, expect="request_deadline"),
        Case("page size capped at 100", capped_pages(1000, 100), 0, check=rows_out(1000)),
        Case("short page 1, longer later", varying_pages(), 0, check=rows_out(1000)),
        Case("key with CR/LF", pages(1), 3, key="sk-matrix\r\nX-Evil: 1", expect="line break"),
        Case("key with a space", pages(1), 3, key="sk matrix", expect="a space"),
        Case("key not latin-1", pages(1), 3, key="sk-matrix-€", expect="non-ASCII"),
        Case(
            "login with a bad key",
            pages(1),
            3,
            key="",
            argv=("login", "--bucket", "example"),
            stdin_key="sk matrix 0123",
            expect="a space",
        ),
        Case("settings: read_timeout", pages(1), 2, settings='read_timeout = "fast"\n'),
        Case("settings: retries", pages(1), 2, settings="retries = -1\n"),
        Case("settings: page_size", pages(1), 2, settings="page_size = 0\n"),
        Case("settings: api_url", pages(1), 2, settings="api_url = 5\n"),
        Case(
            "plain http, not loopback",
            None,
            2,
            url=lambda _u: "http://sheep.example.invalid",
            expect="allow_insecure_http",
        ),
        Case(
            "key echoed in description",
            lambda n, s: Reply(400, {"description": f"bad {s.auth_header}"}),
            2,
            expect="***",
        ),
        Case(
            "key echoed in a header",
            lambda n, s: Reply(200, "x", {"Content-Type": s.auth_header}),
            4,
            expect="***",
        ),
        Case(
            "redirect to another host",
            lambda n, s: Reply(302, b"", {"Location": other_url + s.path + "?page=1"}),
            0,
            check=no_auth_at(other_server.seen),
        ),
        Case("endless redirects", lambda n, s: Reply(302, b"", {"Location": f"/r{n}"}), 4),
        Case(
            "password in the API address",
            None,
            4,
            url=lambda u: u.replace("http://", f"http://me:{PASSWORD}@"),
        ),
        Case(
            "odd field names",
            lambda n, s: bookings([odd] if s.query["page"] == "1" else []),
            0,
            argv=("events", "example", "all", "--columns", "all", "--out", "-", "-q"),
            check=rows_out(1),
        ),
    ]


BOMB = b""


def run_case(case: Case, store: MemoryKeyring, config: Path) -> tuple[bool, int, str, float, int]:
    """(ok, exit code, first line of stderr, ms, peak bytes) of one case."""
    config.write_text(case.settings)
    os.environ["SHEEP_API_KEY"] = case.key
    store.passwords.clear()
    if case.script is None:
        with FaultServer(lambda n, s: Reply()) as server:
            url = server.url  # nothing listens here once the block ends
    else:
        server = FaultServer(case.script).__enter__()
        url = server.url
    argv = [*case.argv, "--api-url", case.url(url)]
    out, err = io.StringIO(), io.StringIO()
    original = getpass.getpass
    if case.stdin_key is not None:
        getpass.getpass = lambda *a, **k: case.stdin_key  # type: ignore[assignment]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = main(argv, out, err)
    finally:
        ms = (time.perf_counter() - started) * 1000
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        getpass.getpass = original
        if case.script is not None:
            server.__exit__(None, None, None)
    text = err.getvalue()
    lines = text.splitlines()
    problems = []
    if code != case.exit_code:
        problems.append(f"exit {code}, expected {case.exit_code}")
    if case.exit_code and len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr")
    if "Traceback" in text or "unexpected" in text:
        problems.append("a traceback or an unexpected error")
    for secret in (KEY, PASSWORD, case.key.strip() if len(case.key.strip()) > 5 else None):
        if secret and secret in text + out.getvalue():
            problems.append("a secret was printed")
    if case.expect and case.expect not in text:
        problems.append(f"message lacks {case.expect!r}")
    if case.check:
        problem = case.check(out.getvalue(), text, server.seen)
        if problem:
            problems.append(problem)
    message = lines[0] if lines else "(no message)"
    if problems:
        message = "FAILED: " + "; ".join(problems) + " | " + message
    return not problems, code, message, ms, peak


def main_matrix(argv: list[str] | None = None) -> int:
    global BOMB
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only cases whose name has this")
    args = parser.parse_args(argv)
    BOMB = gzip_bomb(256)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    os.environ.pop("SHEEP_API_URL", None)
    store = MemoryKeyring()
    keyring.set_keyring(store)
    total = ok = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, FaultServer(lambda n, s: bookings([])) as other:
        config = Path(folder) / "config.toml"
        os.environ["SHEEP_XL_CONFIG"] = str(config)
        os.environ["SHEEP_XL_FUNCTION_EPOCH"] = str(Path(folder) / "functions.epoch")
        print(f"{'case':<30} {'exit':>4} {'ms':>7} {'peak KiB':>9}  message")
        for case in cases(other):
            if args.only and not any(word in case.name for word in args.only):
                continue
            passed, code, message, ms, peak = run_case(case, store, config)
            total += 1
            ok += passed
            print(f"{case.name:<30} {code:>4} {ms:>7.0f} {peak / 1024:>9,.0f}  {message[:110]}")
    seconds = time.perf_counter() - started
    print(f"{total} cases: {ok} ok, {total - ok} failed ({seconds:.1f} s)")
    return 0 if ok == total else 1


if __name__ == "__main__":
    raise SystemExit(main_matrix())
