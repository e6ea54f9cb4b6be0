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
from sheep_xl.credentials import (
    ENV_API_KEY,
    credential_store_problem,
    describe_key_source,
    keyring_backend_name,
)
from sheep_xl.exceptions import EXIT_AUTH, EXIT_BAD_INPUT, SheepError
from sheep_xl.redaction import redact

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
        _credential_store(url),
        Check(
            "TLS",
            f"{ssl.OPENSSL_VERSION}; OS trust store via truststore: "
            f"{'yes' if _version('truststore') != 'not installed' else 'no'}",
        ),
        Check("Proxy", _proxy_description(url)),
    ]
    checks.append(_addin())
    checks.append(_reachability(url, bucket or settings.default_bucket))
    return checks


def _addin() -> Check:
    """Whether the Excel add-in is installed, and built for this environment's xlwings."""
    from sheep_xl.addin.install import status

    if sys.platform not in ("win32", "darwin"):
        return Check("Excel add-in", f"not applicable on {sys.platform} (Excel: Windows, macOS)")
    try:
        info = status()
    except SheepError as exc:
        return Check("Excel add-in", str(exc), ok=False, exit_code=exc.exit_code)
    if not info.installed:
        return Check("Excel add-in", f"not installed ({info.addin_file})")
    problem = info.xlwings_mismatch
    if problem:
        return Check("Excel add-in", problem, ok=False, exit_code=EXIT_BAD_INPUT)
    return Check("Excel add-in", f"{info.addin_file} (xlwings {info.xlwings_here})")


def _credential_store(url: str) -> Check:
    """The store's backend and whether it works; a problem only when no key can come from
    anywhere (with ``SHEEP_API_KEY`` set, a missing store is just a note)."""
    problem = credential_store_problem(url)
    if problem is None:
        return Check("Credential store", f"{keyring_backend_name()} (usable)")
    detail = f"{keyring_backend_name()}: {problem}"
    if os.environ.get(ENV_API_KEY, "").strip():
        return Check("Credential store", f"{detail} ({ENV_API_KEY} is set, so that is used)")
    return Check("Credential store", detail, ok=False, exit_code=EXIT_AUTH)


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
            # only the status matters: the body is never read (it could be of any size)
            response = client.session.get(client.base_url, timeout=client.timeout, stream=True)
            response.close()
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
    """The report as text, redacted (`redaction.redact`): an API address or proxy with a
    password in it, or a key a server echoed, is never shown."""
    width = max(len(c.name) for c in checks)
    lines = [f"{c.name:<{width}}  {'' if c.ok else 'PROBLEM: '}{c.detail}" for c in checks]
    return redact("\n".join(lines))
