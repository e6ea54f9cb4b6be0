"""User settings: the API address and a few preferences, from arguments, environment or a file.

The file is ``config.toml`` in the platform's user config folder (``platformdirs``), e.g.
``%LOCALAPPDATA%\\sheep-xl\\config.toml`` on Windows or ``~/.config/sheep-xl/config.toml`` on Linux.
It never holds the API key: that lives in the OS credential store (see ``credentials``).
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from sheep_xl.exceptions import InputError
from sheep_xl.files import atomic_path

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
    read_timeout: float = 60.0
    retries: int = 4
    max_pages: int = 2000
    page_size: int = 250
    cache_ttl_seconds: float = 300.0  # worksheet-function cache
    default_bucket: str = ""


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
    """Settings from the config file, with ``SHEEP_API_URL`` taking precedence for the URL."""
    raw = read_config_file(path)
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            # ignored, so older versions can read newer files, but never silently (a typo)
            if (str(path or config_path()), key) not in _warned:
                _warned.add((str(path or config_path()), key))
                log.warning("%s", _unknown_key_sentence(key, path or config_path()))
            continue
        default = getattr(Settings, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = type(default)(value) if ok else value
        else:
            ok = isinstance(value, str)
        if not ok:
            raise InputError(
                f"The setting {key!r} in {path or config_path()} has the wrong type: "
                f"expected {type(default).__name__}."
            )
        values[key] = value
    env_url = os.environ.get(ENV_API_URL)
    if env_url:
        values["api_url"] = env_url
    return Settings(**values)


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
    """``https://host/`` -> ``https://host``; anything but an http(s) URL is a clear error."""
    parts = urlsplit(str(url).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"The API address {url!r} is not an http(s) URL: set it to {DEFAULT_API_URL} "
            f"or your sheepCRM API address ({ENV_API_URL})."
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def resolve_api_url(explicit: str | None = None) -> str:
    """The API address: argument, else ``SHEEP_API_URL``, else the config file, else default."""
    return normalise_api_url(explicit or load_settings().api_url)
