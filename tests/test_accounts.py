"""One sign-in rule (sheep_xl.accounts) behind ``sheep-xl login``/``logout`` and the ribbon."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import xlwings as xw
from support.xlwings_memory import new_book, uninstall

from sheep_xl import accounts
from sheep_xl.cli import main
from sheep_xl.config import config_path, load_settings
from sheep_xl.credentials import KEYRING_SERVICE, keyring_user
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.epoch import epoch_file, function_epoch
from sheep_xl.excel import ribbon


@pytest.fixture
def book() -> Iterator[xw.Book]:
    book = new_book("Report.xlsx", sheets=("Sheet1",))
    book.set_mock_caller()
    yield book
    if hasattr(xw.Book, "_mock_caller"):
        del xw.Book._mock_caller
    uninstall()


def cli(*argv: str) -> None:
    err = io.StringIO()
    assert main(list(argv), out=io.StringIO(), err=err) == 0, err.getvalue()


def outcome(store: Any, action: Callable[[], object]) -> tuple[dict[Any, str], str, bool]:
    """What ``action`` leaves behind: the stored keys, the default bucket and whether the
    worksheet functions were told to look again."""
    epoch_file().unlink(missing_ok=True)
    before = function_epoch()
    action()
    return dict(store.passwords), load_settings().default_bucket, function_epoch() != before


def signed_out(store: Any) -> None:
    store.passwords.clear()
    config_path().unlink(missing_ok=True)


def test_cli_and_ribbon_sign_in_store_the_same_key_bucket_and_epoch(
    demo, monkeypatch, isolated_settings, book
) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    pasted = f"  {DEMO_API_KEY}\n"  # both strip what was pasted, and the bucket
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: pasted)

    via_cli = outcome(isolated_settings, lambda: cli("login", "--bucket", " example "))
    signed_out(isolated_settings)
    via_ribbon = outcome(isolated_settings, lambda: ribbon.sign_in_with(pasted, " example "))
    signed_out(isolated_settings)
    via_library = outcome(isolated_settings, lambda: accounts.sign_in(pasted, " example "))

    expected = ({(KEYRING_SERVICE, keyring_user(demo.url)): DEMO_API_KEY}, "example", True)
    assert via_cli == via_ribbon == via_library == expected

    # signing out, by command or button: the key goes, the default bucket stays, the worksheet
    # functions look again
    keys = dict(isolated_settings.passwords)
    assert outcome(isolated_settings, lambda: cli("logout")) == ({}, "example", True)
    isolated_settings.passwords.update(keys)
    assert outcome(isolated_settings, lambda: ribbon.sign_out(book=book)) == ({}, "example", True)
    assert accounts.sign_out() is False, "nothing left to remove"


def test_sign_in_without_check_sends_nothing(demo, isolated_settings) -> None:
    signed_in = accounts.sign_in("sk_unchecked", "example", demo.url, check=False)
    assert (signed_in.host, signed_in.bucket) == (keyring_user(demo.url), "example")
    assert list(isolated_settings.passwords.values()) == ["sk_unchecked"]
    assert len(demo.requests) == 0
