"""Where the API key comes from: an argument, ``SHEEP_API_KEY``, or the OS credential store.

The key is stored with ``keyring`` under the service ``sheep-xl`` and the API host as user name,
so a key for the real API is never sent to another server. Nothing here prints or logs the key.
"""

from __future__ import annotations

import os
import sys
import types
from dataclasses import dataclass
from urllib.parse import urlsplit

from sheep_xl.exceptions import ApiKeyMissingError, CredentialStoreError, InvalidApiKeyError
from sheep_xl.redaction import remember_secret


def _keyring() -> types.ModuleType:
    """keyring, imported when a key is read or stored: it costs a ribbon click ~40 ms (it pulls
    in urllib.request, http.client and ssl) that most clicks, which never touch a key, skip."""
    import keyring
    import keyring.backends.chainer
    import keyring.backends.fail
    import keyring.errors

    return keyring


ENV_API_KEY = "SHEEP_API_KEY"
KEYRING_SERVICE = "sheep-xl"
MAX_KEY_LENGTH = 4096  # far above any real key; a pasted document is not a key


def validate_api_key(key: str, source: str = "you entered") -> str:
    """The key without surrounding whitespace, or an `InvalidApiKeyError` (exit 3) saying why
    it cannot be sent.

    The key travels in an ``Authorization: Bearer`` header, which carries only visible ASCII
    (RFC 6750's token is a subset): a line break would let the key inject headers, a space or a
    non-ASCII letter (``requests`` would encode it as latin-1 or fail) means a copy-and-paste
    went wrong. Checked wherever a key is read (`resolve_api_key`) or stored (`store_key`),
    so a bad key fails with one sentence before any request. The sentence names the position
    and kind of the first bad character, never the key."""
    value = key.strip()
    if len(value) > MAX_KEY_LENGTH:
        raise InvalidApiKeyError(
            f"The API key {source} is {len(value):,} characters long, which is not an API key: "
            "copy the key again from your sheepCRM profile."
        )
    for position, char in enumerate(value, 1):
        if "!" <= char <= "~":
            continue
        if char in "\r\n":
            what = "a line break"
        elif char.isspace():
            what = "a space"
        elif ord(char) < 32 or ord(char) == 127:
            what = f"a control character (U+{ord(char):04X})"
        else:
            what = f"a non-ASCII character (U+{ord(char):04X})"
        then = f"set {ENV_API_KEY} to it" if ENV_API_KEY in source else "run 'sheep-xl login'"
        raise InvalidApiKeyError(
            f"The API key {source} contains {what} at position {position}, which an HTTP "
            "header cannot carry: copy the key again from your sheepCRM profile (letters, "
            f"digits and punctuation only) and {then}."
        )
    remember_secret(value)
    return value


@dataclass(frozen=True)
class ApiKey:
    """A key and where it came from; ``repr`` and ``str`` never show the key itself."""

    value: str
    source: str  # "argument", "environment (SHEEP_API_KEY)" or "OS credential store (...)"

    def __repr__(self) -> str:
        return f"ApiKey(source={self.source!r})"

    __str__ = __repr__


def keyring_user(api_url: str) -> str:
    """The credential store's user name for an API address: its host (and port, if any),
    never the user name or password an address may carry (``https://user:pw@host``)."""
    parts = urlsplit(api_url)
    return parts.netloc.rpartition("@")[2] or api_url


def stored_key(api_url: str) -> str | None:
    """The key in the OS credential store for this API host, or None (also when no store exists)."""
    keyring = _keyring()
    try:
        return keyring.get_password(KEYRING_SERVICE, keyring_user(api_url)) or None
    except keyring.errors.KeyringError:
        return None


def resolve_api_key(api_url: str, explicit: str | None = None) -> ApiKey:
    """The key to use, in order: argument, environment, credential store; else a clear error.

    Whichever source it comes from, the key is checked with `validate_api_key` (and remembered
    for redaction) before anything can send it."""
    if explicit and explicit.strip():
        return ApiKey(validate_api_key(explicit, "given"), "argument")
    env = os.environ.get(ENV_API_KEY, "").strip()
    if env:
        source = f"environment ({ENV_API_KEY})"
        return ApiKey(validate_api_key(env, f"in the {ENV_API_KEY} environment variable"), source)
    stored = stored_key(api_url)
    if stored and stored.strip():
        source = f"OS credential store ({keyring_backend_name()})"
        return ApiKey(validate_api_key(stored, "stored in the OS credential store"), source)
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
    except InvalidApiKeyError as exc:
        return f"unusable: {exc}"


def store_key(api_url: str, key: str) -> None:
    """Store ``key`` for the API host; a key that could never be sent is refused first."""
    key = validate_api_key(key)
    keyring = _keyring()
    try:
        keyring.set_password(KEYRING_SERVICE, keyring_user(api_url), key)
    except keyring.errors.NoKeyringError:
        raise CredentialStoreError(_no_store_sentence()) from None
    except keyring.errors.KeyringError as exc:
        raise CredentialStoreError(
            f"The OS credential store refused the key ({type(exc).__name__}): "
            f"set {ENV_API_KEY} instead, or install a keyring backend."
        ) from None


def credential_store_problem(api_url: str, platform: str = sys.platform) -> str | None:
    """One sentence saying why no key can be stored on this computer, or None when it can.

    A store counts as missing when keyring fell back to its ``fail`` backend, when its chainer
    has no backends, or when asking it raises ``NoKeyringError``; asking for this host's entry
    is what ``login`` would do next anyway, so it prompts for nothing new."""
    keyring = _keyring()
    try:
        backend = keyring.get_keyring()
    except keyring.errors.KeyringError:
        return _no_store_sentence(platform)
    if isinstance(backend, keyring.backends.fail.Keyring) or (
        isinstance(backend, keyring.backends.chainer.ChainerBackend) and not backend.backends
    ):
        return _no_store_sentence(platform)
    try:
        backend.get_password(KEYRING_SERVICE, keyring_user(api_url))
    except keyring.errors.NoKeyringError:
        return _no_store_sentence(platform)
    except keyring.errors.KeyringError as exc:
        return (
            f"The OS credential store ({keyring_backend_name()}) cannot be used "
            f"({type(exc).__name__}): unlock it and try again, or set the {ENV_API_KEY} "
            "environment variable instead."
        )
    return None


def _no_store_sentence(platform: str = sys.platform) -> str:
    linux = (
        ", or install and start a Secret Service such as gnome-keyring (or KWallet) and log in "
        "to the desktop again"
        if platform.startswith("linux")
        else ""
    )
    return (
        "This computer has no usable OS credential store, so 'sheep-xl login' cannot keep your "
        f"API key: set the {ENV_API_KEY} environment variable instead{linux}."
    )


def check_credential_store(api_url: str) -> None:
    """Raise `CredentialStoreError` (exit 3) when no key can be stored here."""
    problem = credential_store_problem(api_url)
    if problem:
        raise CredentialStoreError(problem)


def delete_key(api_url: str) -> bool:
    """Remove the stored key; True when one was removed."""
    keyring = _keyring()
    try:
        keyring.delete_password(KEYRING_SERVICE, keyring_user(api_url))
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError:
        return False
    return True


def keyring_backend_name() -> str:
    """The backend's class name; for a chainer, the backends it chains (``a + b``)."""
    keyring = _keyring()
    try:
        backend = keyring.get_keyring()
    except Exception:  # diagnostics must not fail
        return "unavailable"
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        chained = " + ".join(_backend_label(b) for b in backend.backends)
        return f"chainer.ChainerBackend ({chained or 'no backends'})"
    return _backend_label(backend)


def _backend_label(backend: object) -> str:
    """``SecretService.Keyring``, ``Windows.WinVaultKeyring``, ``fail.Keyring``, ..."""
    module = type(backend).__module__.removeprefix("keyring.backends.")
    return f"{module}.{type(backend).__name__}"
