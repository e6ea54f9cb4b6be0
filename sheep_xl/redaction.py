"""Keeping secrets out of text a person or a log file sees.

One rule, applied at the two boundaries where text leaves sheep-xl: every `SheepError` message
(``exceptions.SheepError.__init__``) and every log record that passes a handler carrying
`RedactingFilter` (the CLI installs it). Whatever a server sends back, an error ``description``,
a header, a redirect address, an echoed query string, goes through `redact` before anyone reads
it, so a server that echoes the API key cannot get it printed.

What is redacted:

* every secret sheep-xl has handled in this process (`remember_secret`: each API key when it is
  read, the password of an API address), as written and percent-encoded;
* the user-info part of any URL (``https://user:password@host`` -> ``https://***@host``), even
  of URLs sheep-xl never saw before.

Strings shorter than `MIN_SECRET_LENGTH` are not remembered: no real key is that short, and
blanking every ``k`` in a message would make it unreadable.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote

MASK = "***"
MIN_SECRET_LENGTH = 6
MAX_SERVER_TEXT = 200  # characters of server text kept in a message

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]+@")
_NOT_PRINTABLE = re.compile(r"[^\S ]|[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def remember_secret(value: str | None) -> None:
    """Redact ``value`` (and its percent-encoded form) from every message from now on."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    global _pattern
    with _lock:
        forms = {value, quote(value, safe=""), quote(value, safe="/")}
        if forms <= _secrets:
            return
        _secrets.update(forms)
        # longest first, so a secret that contains another is masked whole
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """``text`` without any remembered secret and without the user-info of any URL."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _URL_USERINFO.sub(rf"\g<1>{MASK}@", text)


def server_text(text: object, limit: int = MAX_SERVER_TEXT) -> str:
    """Text a server sent, made fit for a one-line message: redacted, control characters,
    line breaks and lone surrogates replaced by spaces and collapsed, cut at ``limit``."""
    cleaned = " ".join(_NOT_PRINTABLE.sub(" ", str(text)).split())
    cleaned = redact(cleaned)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record's final message (third-party records too:
    urllib3 logs request lines, which hold a redirect's query string, at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:  # a traceback quotes messages too
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
