"""Each fault class of issue 9 (round 2) through the command line, as a user meets it: the
right exit code, exactly one sentence on stderr, never a traceback or an "unexpected" error,
and never the key or a password from the API address."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from support.faultserver import FaultServer, Reply, bookings, events, gzip_bomb, nested_json

from sheep_xl.cli import main

KEY = "sk-live-cli-0123456789"
QUICK = "retries = 0\nconnect_timeout = 0.5\nread_timeout = 0.5\nrequest_deadline = 1.0\n"


def settings(text: str = QUICK) -> Path:
    path = Path(os.environ["SHEEP_XL_CONFIG"])  # a fresh file per test (conftest)
    path.write_text(text)
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def one_sentence(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in err and "unexpected" not in err
    assert KEY not in err
    return lines[0]


def events_cmd(url: str, *extra: str) -> tuple[int, str, str]:
    return run("events", "example", "all", "--api-url", url, "--out", "-", "-q", *extra)


@pytest.fixture(autouse=True)
def key_and_time(monkeypatch):
    monkeypatch.setenv("SHEEP_API_KEY", KEY)
    settings()
    started = time.monotonic()
    yield
    assert time.monotonic() - started < 15


def test_nested_json(tmp_path) -> None:
    with FaultServer(lambda n, s: Reply(200, nested_json(100_000))) as server:
        code, _, err = events_cmd(server.url)
    assert code == 4 and "nested too deeply" in one_sentence(err)


@pytest.mark.parametrize(
    ("key", "what"),
    [("sk-live\r\nX-Evil: 1", "a line break"), ("sk live", "a space"), ("sk-live-€", "non-ASCII")],
)
def test_key_a_header_cannot_carry_in_the_environment(monkeypatch, key: str, what: str) -> None:
    monkeypatch.setenv("SHEEP_API_KEY", key)
    with FaultServer(lambda n, s: bookings([])) as server:
        code, _, err = events_cmd(server.url)
    line = one_sentence(err)
    assert code == 3 and what in line and "SHEEP_API_KEY" in line
    assert server.seen == [], "nothing was sent"


def test_key_a_header_cannot_carry_at_login(monkeypatch, isolated_settings) -> None:
    monkeypatch.delenv("SHEEP_API_KEY")
    monkeypatch.setattr("getpass.getpass", lambda *a, **k: "sk-live 0123\n")
    with FaultServer(lambda n, s: bookings([])) as server:
        code, _, err = run("login", "--bucket", "example", "--api-url", server.url)
    assert code == 3 and "a space at position 8" in one_sentence(err)
    assert server.seen == [] and isolated_settings.passwords == {}


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ('read_timeout = "fast"', "read_timeout"),
        ("retries = -1", "retries"),
        ("page_size = 0", "page_size"),
        ("api_url = 5", "api_url"),
    ],
)
def test_settings_of_the_wrong_type_or_range(line: str, setting: str) -> None:
    settings(line + "\n")
    with FaultServer(lambda n, s: bookings([])) as server:
        code, _, err = events_cmd(server.url)
    sentence = one_sentence(err)
    assert code == 2 and f"{setting} = " in sentence and "use " in sentence
    assert server.seen == []


def test_gzip_bomb() -> None:
    settings(QUICK + "max_response_bytes = 1048576\n")
    reply = Reply(200, gzip_bomb(32), {"Content-Encoding": "gzip"})
    with FaultServer(lambda n, s: reply) as server:
        code, _, err = events_cmd(server.url)
    assert code == 4 and "larger than 1 MB" in one_sentence(err)


def test_dripping_server() -> None:
    reply = Reply(200, json.dumps({"bookings": events(0, 5)}), drip=0.2)
    with FaultServer(lambda n, s: reply) as server:
        started = time.monotonic()
        code, _, err = events_cmd(server.url)
    assert time.monotonic() - started < 2.0
    assert code == 4 and "request_deadline" in one_sentence(err)


def test_plain_http_to_another_computer() -> None:
    code, _, err = events_cmd("http://sheep.example.invalid")
    assert code == 2 and "allow_insecure_http = true" in one_sentence(err)


def test_server_echoing_the_key() -> None:
    reply = Reply(400, {"description": f"your key {KEY} is wrong\nsecond line"})
    with FaultServer(lambda n, s: reply) as server:
        code, _, err = events_cmd(server.url)
    assert code == 2 and "your key *** is wrong second line" in one_sentence(err)


def test_key_in_a_redirect_is_not_in_debug_logs() -> None:
    def script(n: int, seen) -> Reply:
        if n == 1:
            return Reply(302, b"", {"Location": f"/next?token={KEY}"})
        return bookings([])

    with FaultServer(script) as server:
        code, _, err = events_cmd(server.url, "--debug")
    assert code == 0
    assert "/next?token=***" in err, err  # urllib3's request line, redacted
    assert KEY not in err


def test_password_in_the_api_address_is_never_printed() -> None:
    with FaultServer(lambda n, s: Reply()) as server:
        port = server.url.rsplit(":", 1)[1]
    url = f"http://me:pa55word-xyz@127.0.0.1:{port}"
    code, _, err = events_cmd(url)
    assert code == 4 and "pa55word-xyz" not in one_sentence(err)
    code, out, err = run("doctor", "--api-url", url)
    assert "pa55word-xyz" not in out + err and "127.0.0.1" in out


def test_odd_field_names_are_a_warning_not_a_crash(tmp_path) -> None:
    record = {"uid": "a", "title": "T", "bad\x00name": 1, "half\ud800": 2, "\x01": 3}
    with FaultServer(lambda n, s: bookings([record] if s.query["page"] == "1" else [])) as server:
        for out in (tmp_path / "e.csv", tmp_path / "e.xlsx"):
            code, _, err = events_cmd(server.url, "--columns", "all", "--out", str(out))
            assert code == 0, err
            assert "Traceback" not in err and "unexpected" not in err
            assert "field name(s)" in err and "left out" in err
            assert out.stat().st_size > 0
