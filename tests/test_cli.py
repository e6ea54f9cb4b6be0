"""The CLI: exit codes, one-sentence errors, no request for bad input, and no key in output."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest

from sheep_xl.cli import main
from sheep_xl.demo.server import DEMO_API_KEY

FAKE_KEY = "sk_live_FAKEKEY_0123456789abcdefXYZ"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def demo_env(demo, monkeypatch):
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    return demo


@pytest.mark.parametrize(
    ("bucket", "state", "extra", "words"),
    [
        ("../x", "all", [], "Invalid bucket '../x'"),
        ("a/b", "all", [], "Invalid bucket 'a/b'"),
        ("x?y=1", "all", [], "Invalid bucket 'x?y=1'"),
        ("", "all", [], "The bucket is empty"),
        ("example", "confirmd", [], "Unknown event state 'confirmd' (did you mean 'confirmed'?)"),
        (
            "example",
            "all",
            ["--columns", "titel"],
            "Unknown column 'titel' (did you mean 'title'?)",
        ),
        ("example", "all", ["--out", "events.pdf"], "must end in .xlsx or .csv"),
        ("example", "all", ["--page-size", "0"], "Invalid page size"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    demo_env, tmp_path, monkeypatch, bucket, state, extra, words
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _out, err = run("events", bucket, state, *extra)
    assert code == 2
    assert words in err
    assert err.count("\n") == 1 and "Traceback" not in err, "one sentence, no traceback"
    assert len(demo_env.requests) == 0, "no request reached the server"
    assert list(tmp_path.iterdir()) == [], "nothing was written"


def test_events_to_xlsx_and_csv(demo_env, tmp_path) -> None:
    xlsx, csv_path = tmp_path / "e.xlsx", tmp_path / "e.csv"
    code, _out, err = run("events", "example", "Confirmed", "--out", str(xlsx))
    assert code == 0, err
    assert "page 1" in err and "Wrote" in err
    assert xlsx.stat().st_size > 5000
    code, _, err = run("events", "example", "confirmed", "--out", str(csv_path), "--quiet")
    assert code == 0 and err == ""
    text = csv_path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Title,Start date,Start time")


def test_events_csv_to_stdout(demo_env) -> None:
    code, out, err = run(
        "events",
        "example",
        "future",
        "--out",
        "-",
        "--columns",
        "title, Start date, start_time, capacity, cancelled",
        "-q",
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "\ufeffTitle,Start date,Start time,Capacity,Cancelled", "UTF-8 BOM first"
    assert len(lines) > 20
    date_cell = lines[1].split(",")[-4]
    assert len(date_cell) == 10 and date_cell[4] == "-"


def test_auth_errors_exit_3_without_the_key(demo, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    code, out, err = run("events", "example", "all", "--out", "-")
    assert code == 3 and "sheep-xl login" in err
    monkeypatch.setenv("SHEEP_API_KEY", FAKE_KEY)
    for debug in ([], ["--debug"]):
        code, out, err = run("events", "example", "all", "--out", "-", *debug)
        assert code == 3 and "rejected the API key from environment (SHEEP_API_KEY)" in err
        assert FAKE_KEY not in out + err
    code, out, err = run("doctor", "--bucket", "example")
    assert "environment (SHEEP_API_KEY)" in out
    assert FAKE_KEY not in out + err
    assert FAKE_KEY not in caplog.text
    for record in caplog.records:
        assert FAKE_KEY not in record.getMessage()


def test_key_never_in_exception_text_or_repr(demo) -> None:
    from sheep_xl.api.client import SheepClient
    from sheep_xl.exceptions import SheepError

    client = SheepClient(api_key=FAKE_KEY, base_url=demo.url)
    with pytest.raises(SheepError) as info:
        client.events("example", "all")
    assert FAKE_KEY not in str(info.value) and FAKE_KEY not in repr(info.value)
    assert FAKE_KEY not in repr(client._api_key())
    assert FAKE_KEY not in "".join(map(str, info.value.args))


def test_network_error_exit_4(monkeypatch) -> None:
    from sheep_xl.config import save_setting

    save_setting("retries", 1)  # the settings file is honoured: one retry, not four
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    code, _, err = run("--api-url", "http://127.0.0.1:9", "events", "example", "all", "--out", "-")
    # port 9 (discard) is closed on test machines: the connection is refused
    assert code == 4 and "127.0.0.1:9" in err and "after 2 attempts" in err


def test_unknown_bucket_exit_2(demo_env) -> None:
    code, _, err = run("events", "nosuch", "all", "--out", "-")
    assert code == 2 and "Bucket 'nosuch' was not found" in err


def test_login_checks_and_stores_the_key_logout_removes_it(demo, monkeypatch, isolated_settings):
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: DEMO_API_KEY)
    code, out, err = run("login", "--bucket", "example")
    assert code == 0, err
    assert DEMO_API_KEY not in out + err
    assert list(isolated_settings.passwords.values()) == [DEMO_API_KEY]
    code, out, err = run("events", "example", "running", "--out", "-", "-q")
    assert code == 0 and out.count("\n") > 1
    code, out, err = run("logout")
    assert code == 0 and isolated_settings.passwords == {}
    code, out, err = run("events", "example", "running", "--out", "-")
    assert code == 3


def test_login_with_a_rejected_key_stores_nothing(demo, monkeypatch, isolated_settings):
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: FAKE_KEY)
    code, out, err = run("login", "--bucket", "example")
    assert code == 3
    assert isolated_settings.passwords == {}
    assert FAKE_KEY not in out + err


def test_demo_command_writes_events_xlsx(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _out, err = run("demo")
    assert code == 0, err
    assert (tmp_path / "events.xlsx").is_file()
    assert "Wrote" in err


def test_console_script_runs_as_a_process(tmp_path) -> None:
    """The installed entry point, as a user would run it: the key is not on the command line."""
    result = subprocess.run(
        [sys.executable, "-m", "sheep_xl.cli", "events", "../x", "all"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("sheep-xl: Invalid bucket")


def test_states_and_columns_listings() -> None:
    code, out, _ = run("states")
    assert code == 0 and "confirmed" in out and "running" in out
    code, out, _ = run("columns")
    # the 158 fields, the 2 computed ones (ticket income and its currency), the key line
    assert code == 0 and out.count("\n") == 158 + 2 + 1


def test_debug_shows_the_traceback(demo_env) -> None:
    code, _, err = run("--debug", "events", "nosuch", "all", "--out", "-")
    assert code == 2 and "Traceback" in err
