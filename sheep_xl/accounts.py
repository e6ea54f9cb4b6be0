"""Signing in and out: the one rule behind ``sheep-xl login``/``logout`` and the ribbon's buttons.

Signing in checks the key against a bucket with one small request (unless asked not to), stores
it in the OS credential store under the API host, remembers the bucket as the default one and
tells the worksheet functions to look the key up again. Signing out removes the stored key and
tells them too. Asking for the key (a hidden prompt, a dialog) and the sentence that reports the
outcome stay with each entry point.
"""

from __future__ import annotations

from dataclasses import dataclass

from sheep_xl.api.validation import validate_bucket
from sheep_xl.config import resolve_api_url, save_setting
from sheep_xl.credentials import delete_key, keyring_user, store_key
from sheep_xl.epoch import bump_function_epoch
from sheep_xl.exceptions import InputError


@dataclass(frozen=True)
class SignInResult:
    """Where a key was stored; never the key itself."""

    api_url: str
    host: str  # the credential store's user name for the API address
    bucket: str  # checked against (unless check=False) and now the default bucket


def sign_in(key: str, bucket: str, api_url: str | None = None, check: bool = True) -> SignInResult:
    """Check ``key`` against ``bucket`` (one small request), then store it and remember
    ``bucket`` as the default; the worksheet functions look the key up again."""
    key = key.strip()
    if not key:
        raise InputError("No key was entered: paste the API key from your sheepCRM profile.")
    url = resolve_api_url(api_url)
    bucket = validate_bucket(bucket)
    if check:
        from sheep_xl.api.client import SheepClient  # requests: only when signing in

        with SheepClient(api_key=key, base_url=url) as client:
            client.check_access(bucket)
    store_key(url, key)
    save_setting("default_bucket", bucket)
    bump_function_epoch()  # the worksheet functions look up the key again
    return SignInResult(url, keyring_user(url), bucket)


def sign_out(api_url: str | None = None) -> bool:
    """Remove the stored key for the API address; True when there was one. The worksheet
    functions look the key up again either way."""
    url = resolve_api_url(api_url)
    removed = delete_key(url)
    bump_function_epoch()
    return removed
