"""Where the API key comes from: an argument, ``SHEEP_API_KEY``, or the OS credential store.

The key is stored with ``keyring`` under the service ``sheep-xl`` and the API host as user name,
so a key for the real API is never sent to another server. Nothing here prints or logs the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import keyring
import keyring.errors

from sheep_xl.exceptions import ApiKeyMissingError, SheepError

ENV_API_KEY = "SHEEP_API_KEY"
KEYRING_SERVICE = "sheep-xl"


@dataclass(frozen=True)
class ApiKey:
    """A key and where it came from; ``repr`` and ``str`` never show the key itself."""

    value: str
    source: str  # "argument", "environment (SHEEP_API_KEY)" or "OS credential store (...)"

    def __repr__(self) -> str:
        return f"ApiKey(source={self.source!r})"

    __str__ = __repr__


def keyring_user(api_url: str) -> str:
    """The credential store's user name for an API address: its host (and port, if any)."""
    return urlsplit(api_url).netloc or api_url


def stored_key(api_url: str) -> str | None:
    """The key in the OS credential store for this API host, or None (also when no store exists)."""
    try:
        return keyring.get_password(KEYRING_SERVICE, keyring_user(api_url)) or None
    except keyring.errors.KeyringError:
        return None


def resolve_api_key(api_url: str, explicit: str | None = None) -> ApiKey:
    """The key to use, in order: argument, environment, credential store; else a clear error."""
    if explicit:
        return ApiKey(explicit.strip(), "argument")
    env = os.environ.get(ENV_API_KEY, "").strip()
    if env:
        return ApiKey(env, f"environment ({ENV_API_KEY})")
    stored = stored_key(api_url)
    if stored:
        return ApiKey(stored, f"OS credential store ({keyring_backend_name()})")
    raise ApiKeyMissingError(
        f"No sheepCRM API key found for {keyring_user(api_url)}: run 'sheep-xl login' "
        f"(or use Sign in on the SheepCRM ribbon), or set {ENV_API_KEY}."
    )


def describe_key_source(api_url: str) -> str:
    """Where a key would come from, for diagnostics; never the key itself."""
    try:
        return resolve_api_key(api_url).source
    except ApiKeyMissingError:
        return "none (not signed in)"


def store_key(api_url: str, key: str) -> None:
    try:
        keyring.set_password(KEYRING_SERVICE, keyring_user(api_url), key)
    except keyring.errors.KeyringError as exc:
        raise SheepError(
            f"The OS credential store refused the key ({type(exc).__name__}): "
            f"set {ENV_API_KEY} instead, or install a keyring backend."
        ) from None


def delete_key(api_url: str) -> bool:
    """Remove the stored key; True when one was removed."""
    try:
        keyring.delete_password(KEYRING_SERVICE, keyring_user(api_url))
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError:
        return False
    return True


def keyring_backend_name() -> str:
    try:
        backend = keyring.get_keyring()
    except Exception:  # diagnostics must not fail
        return "unavailable"
    return type(backend).__name__
