"""User settings: the API address and a few preferences, from arguments, environment or a file.

The file is ``config.toml`` in the platform's user config folder (``platformdirs``), e.g.
``%LOCALAPPDATA%\\sheep-xl\\config.toml`` on Windows or ``~/.config/sheep-xl/config.toml`` on Linux.
It never holds the API key: that lives in the OS credential store (see ``credentials``).
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from sheep_xl.exceptions import InputError, SettingsError
from sheep_xl.files import atomic_path
from sheep_xl.redaction import remember_secret

APP_NAME = "sheep-xl"
DEFAULT_API_URL = "https://sls-api.sheepcrm.com"
ENV_API_URL = "SHEEP_API_URL"
ENV_CONFIG_FILE = "SHEEP_XL_CONFIG"

log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()  # (file, key): each unknown key is logged once


@dataclass(frozen=True)
class Settings:
    """Preferences a user may set in the config file; every one has a safe default."""

    api_url: str = DEFAULT_API_URL
    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # longest silence while waiting for bytes
    request_deadline: float = 120.0  # longest one response may take in all, however it trickles
    retries: int = 4
    max_pages: int = 2000
    page_size: int = 250
    max_response_bytes: int = 64 * 1024 * 1024  # decoded size of one response
    allow_insecure_http: bool = False  # send the key over plain http to a non-loopback host
    cache_ttl_seconds: float = 300.0  # worksheet-function cache
    default_bucket: str = ""


@dataclass(frozen=True)
class _Rule:
    """What a setting may hold; ``allowed`` is the phrase an error message shows."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the low end itself is not allowed (timeouts must be above 0)

    def allowed(self) -> str:
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "a text in quotes"
        what = "a whole number" if self.kind is int else "a number of seconds"
        if self.low is not None and self.high is not None:
            above = "above" if self.low_open else "from"
            return f"{what} {above} {_plain(self.low)} to {_plain(self.high)}"
        return what

    def accepts(self, value: Any) -> bool:
        if self.kind is bool or self.kind is str:
            return isinstance(value, self.kind)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or value <= self.high


def _plain(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:g}"


# The one place that says what each setting may hold: checked when the settings are loaded, so
# a bad value is an error naming the setting, never a crash deep inside a request.
RULES: dict[str, _Rule] = {
    "api_url": _Rule(str),
    "connect_timeout": _Rule(float, 0, 600, low_open=True),
    "read_timeout": _Rule(float, 0, 3600, low_open=True),
    "request_deadline": _Rule(float, 0, 86_400, low_open=True),
    "retries": _Rule(int, 0, 20),
    "max_pages": _Rule(int, 1, 1_000_000),
    "page_size": _Rule(int, 1, 5000),  # validation.MAX_PAGE_SIZE
    "max_response_bytes": _Rule(int, 1024, 4 * 1024**3),
    "allow_insecure_http": _Rule(bool),
    "cache_ttl_seconds": _Rule(float, 0, 7 * 86_400),
    "default_bucket": _Rule(str),
}


def config_path() -> Path:
    """Where the config file lives (``SHEEP_XL_CONFIG`` overrides, e.g. for tests)."""
    override = os.environ.get(ENV_CONFIG_FILE)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(
            f"The sheep-xl config file {path} cannot be read ({exc}): fix or delete it."
        ) from None


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the config file, with ``SHEEP_API_URL`` taking precedence for the URL.

    Each value is checked against `RULES` here: a wrong type or a value out of range (``retries
    = -1``, ``read_timeout = "fast"``, ``api_url = 5``) is a `SettingsError` naming the setting,
    the file and what is allowed."""
    where = path or config_path()
    raw = read_config_file(path)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        rule = RULES.get(key)
        if rule is None:
            # ignored, so older versions can read newer files, but never silently (a typo)
            if (str(where), key) not in _warned:
                _warned.add((str(where), key))
                log.warning("%s", _unknown_key_sentence(key, where))
            continue
        if not rule.accepts(value):
            raise SettingsError(
                f"The setting {key} = {_shown(value)} in {where} is not allowed: use "
                f"{rule.allowed()}, or delete the line to get the default "
                f"({_toml_value(getattr(Settings, key))})."
            )
        values[key] = float(value) if rule.kind is float else value
    if "api_url" in values:
        try:
            values["api_url"] = normalise_api_url(values["api_url"])
        except InputError:
            raise SettingsError(
                f"The setting api_url = {_shown(values['api_url'])} in {where} is not allowed: "
                f"use an http(s) address such as {DEFAULT_API_URL}."
            ) from None
    env_url = os.environ.get(ENV_API_URL)
    if env_url:
        values["api_url"] = env_url
    return Settings(**values)


def _shown(value: Any) -> str:
    text = _toml_value(value)
    return text if len(text) <= 40 else text[:37] + "..."


def config_warnings(path: Path | None = None) -> list[str]:
    """One sentence per unknown key in the settings file (the CLI prints them as warnings)."""
    path = path or config_path()
    known = set(_names())
    return [_unknown_key_sentence(key, path) for key in read_config_file(path) if key not in known]


def _unknown_key_sentence(key: str, path: Path) -> str:
    close = difflib.get_close_matches(key, _names(), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"The setting {key!r} in {path} is not one sheep-xl knows{hint} and is ignored: "
        f"the settings are {', '.join(_names())}."
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def save_setting(key: str, value: Any, path: Path | None = None) -> Path:
    """Set one key in the config file, keeping the others (the file holds flat keys only)."""
    if key not in {f.name for f in fields(Settings)}:
        raise InputError(f"Unknown setting {key!r}: expected one of {', '.join(_names())}.")
    path = path or config_path()
    raw = read_config_file(path)
    raw[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {_toml_value(v)}" for k, v in sorted(raw.items())]
    text = "# sheep-xl settings (never put an API key here)\n" + "\n".join(lines) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def _names() -> list[str]:
    return [f.name for f in fields(Settings)]


def normalise_api_url(url: str) -> str:
    """``https://host/`` -> ``https://host``; anything but an http(s) URL is a clear error.

    A password in the address (``https://user:password@host``) is remembered for redaction, so
    no message or log line shows it."""
    parts = urlsplit(str(url).strip())
    remember_secret(parts.password)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"The API address {str(url)[:80]!r} is not an http(s) URL: set it to "
            f"{DEFAULT_API_URL} or your sheepCRM API address ({ENV_API_URL})."
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def resolve_api_url(explicit: str | None = None) -> str:
    """The API address: argument, else ``SHEEP_API_URL``, else the config file, else default."""
    return normalise_api_url(explicit or load_settings().api_url)
