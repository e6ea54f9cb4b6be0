"""Diagnostics: what this installation is and whether it can reach sheepCRM.

Shows where the key comes from, never the key itself.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import ssl
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from sheep_xl import __version__
from sheep_xl.api.client import SheepClient
from sheep_xl.config import ENV_API_URL, config_path, load_settings
from sheep_xl.credentials import describe_key_source, keyring_backend_name
from sheep_xl.exceptions import SheepError

PACKAGES = ("xlwings", "pandas", "openpyxl", "requests", "keyring", "truststore", "lxml")


@dataclass(frozen=True)
class Check:
    name: str
    detail: str
    ok: bool = True
    exit_code: int = 0  # of the failure, when not ok


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def diagnose(bucket: str | None = None, api_url: str | None = None) -> list[Check]:
    """Environment, configuration and a live check of the API (one small request)."""
    settings = load_settings()
    url = api_url or settings.api_url
    url_source = (
        "argument"
        if api_url
        else "environment"
        if os.environ.get(ENV_API_URL)
        else f"config file {config_path()}"
        if config_path().is_file()
        else "default"
    )
    checks = [
        Check("sheep-xl", __version__),
        Check("Python", f"{platform.python_version()} ({sys.executable})"),
        Check("Platform", platform.platform()),
        *[Check(p, _version(p)) for p in PACKAGES],
        Check("Config file", str(config_path()) + ("" if config_path().is_file() else " (none)")),
        Check("API address", f"{url} (from {url_source})"),
        Check("API key", f"from {describe_key_source(url)}"),
        Check("Credential store", keyring_backend_name()),
        Check(
            "TLS",
            f"{ssl.OPENSSL_VERSION}; OS trust store via truststore: "
            f"{'yes' if _version('truststore') != 'not installed' else 'no'}",
        ),
        Check("Proxy", _proxy_description(url)),
    ]
    checks.append(_reachability(url, bucket or settings.default_bucket))
    return checks


def _proxy_description(url: str) -> str:
    proxies = requests.utils.get_environ_proxies(url)
    if not proxies:
        return "none"
    shown = {k: _hide_password(v) for k, v in proxies.items()}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))


def _hide_password(proxy: str) -> str:
    parts = urlsplit(proxy)
    if parts.password:
        return proxy.replace(parts.password, "***")
    return proxy


def _reachability(url: str, bucket: str) -> Check:
    try:
        with SheepClient(base_url=url, retries=1, read_timeout=20) as client:
            if bucket:
                client.check_access(bucket)
                return Check("Connection", f"OK: key accepted for bucket '{bucket}'")
            response = client.session.get(client.base_url, timeout=client.timeout)
            return Check(
                "Connection",
                f"{client.host} reachable (HTTP {response.status_code}); give --bucket to check "
                "the key too",
            )
    except SheepError as exc:
        return Check("Connection", str(exc), ok=False, exit_code=exc.exit_code)
    except requests.RequestException as exc:
        return Check(
            "Connection",
            f"Could not reach {urlsplit(url).netloc} ({type(exc).__name__}): check your network, "
            "VPN or proxy.",
            ok=False,
            exit_code=4,
        )


def format_report(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{c.name:<{width}}  {'' if c.ok else 'PROBLEM: '}{c.detail}" for c in checks]
    return "\n".join(lines)
