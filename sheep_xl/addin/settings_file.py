"""The add-in's settings file, as VBA's ``Write #`` writes it and ``Input #`` reads it.

The file is what ``Write #`` produces and ``Input #`` (xlwings' ``GetConfigFromFile``) reads: one
``"KEY","value"`` line per setting (CRLF and the ANSI code page on Windows, LF and UTF-8 on macOS,
like ``xlwings config create``). Keys are matched case-insensitively and the first match wins, so
an update replaces its keys in place, drops duplicates and blank lines (a blank line reads as an
empty field and would shift every later pair), and keeps every other line. Values can hold no
double quote or line break, and only characters of the file's encoding.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

from sheep_xl.addin.names import Layout
from sheep_xl.exceptions import InstallError

KEY_INTERPRETER_WIN = "INTERPRETER_WIN"
KEY_INTERPRETER_MAC = "INTERPRETER_MAC"
KEY_UDF_MODULES = "UDF MODULES"
KEY_REFRESH_ON_OPEN = "REFRESH_ON_OPEN"


def config_encoding(layout: Layout) -> str:
    """VBA file I/O uses the ANSI code page on Windows ("mbcs" exists only there)."""
    if layout == "darwin":
        return "utf-8"
    try:
        codecs.lookup("mbcs")
    except LookupError:
        return "cp1252"
    return "mbcs"


def _input_fields(text: str) -> list[str]:
    """Split text into fields the way VBA's ``Input #`` reads strings.

    Commas and line ends both end a field; a field that starts with ``"`` runs to the next ``"``
    (no escapes) and anything after it up to the delimiter is ignored; unquoted fields lose
    surrounding spaces and tabs; a blank line is one empty field.
    """
    fields: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            fields.append(text[i + 1 : end])
            i = end + 1
            while i < n and text[i] not in ",\r\n":
                i += 1
        else:
            end = i
            while end < n and text[end] not in ",\r\n":
                end += 1
            fields.append(text[i:end].rstrip(" \t"))
            i = end
        if i < n:
            i += 2 if text.startswith("\r\n", i) else 1
    return fields


def parse_config(data: bytes, layout: Layout = "win32") -> list[tuple[str, str]]:
    """The (key, value) pairs in file order, as ``GetConfigFromFile`` reads them two at a time."""
    fields = _input_fields(data.decode(config_encoding(layout), "surrogateescape"))
    if len(fields) % 2:
        fields.append("")
    return list(zip(fields[::2], fields[1::2], strict=True))


def config_value(data: bytes, key: str, layout: Layout = "win32") -> str | None:
    """What ``GetConfigFromFile`` returns for ``key``: the first case-insensitive match."""
    for name, value in parse_config(data, layout):
        if name.lower() == key.lower():
            return value
    return None


def _config_line(key: str, value: str) -> str:
    return f'"{key}","{value}"'


def _split_lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _line_key(line: str) -> str:
    fields = _input_fields(line)
    return fields[0] if fields else ""


def _encode_config(lines: list[str], newline: str, layout: Layout) -> bytes:
    if not lines:
        return b""
    return (newline.join(lines) + newline).encode(config_encoding(layout), "surrogateescape")


def _decode_config(data: bytes, layout: Layout) -> tuple[list[str], str]:
    text = data.decode(config_encoding(layout), "surrogateescape")
    default = "\n" if layout == "darwin" else "\r\n"
    newline = (
        "\r\n" if "\r\n" in text else "\n" if "\n" in text else "\r" if "\r" in text else default
    )
    return _split_lines(text), newline


def updated_config(
    existing: bytes | None, settings: dict[str, str], keep: Iterable[str], layout: Layout
) -> bytes:
    """``existing`` with ``settings`` written in place; keys in ``keep`` stay if already set."""
    lines, newline = _decode_config(existing or b"", layout)
    wanted = {key.upper(): key for key in settings}
    keep_upper = {key.upper() for key in keep}
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        upper = _line_key(line).upper()
        if upper not in wanted:
            out.append(line)
        elif upper not in seen:
            seen.add(upper)
            key = wanted[upper]
            out.append(line if upper in keep_upper else _config_line(key, settings[key]))
    out.extend(
        _config_line(key, value) for key, value in settings.items() if key.upper() not in seen
    )
    return _encode_config(out, newline, layout)


def config_without_keys(
    current: bytes, original: bytes | None, keys: Iterable[str], layout: Layout
) -> bytes:
    """``current`` with ``keys`` taken out and the original lines for them put back."""
    own = {key.upper() for key in keys}
    lines, newline = _decode_config(current, layout)
    out = [line for line in lines if _line_key(line).upper() not in own]
    if original:
        original_lines, _ = _decode_config(original, layout)
        out.extend(line for line in original_lines if _line_key(line).upper() in own)
    return _encode_config(out, newline, layout)


def check_value(key: str, value: str, layout: Layout) -> None:
    """An :class:`InstallError` for a value the file cannot hold as ``Input #`` reads it."""
    if '"' in value or "\r" in value or "\n" in value:
        raise InstallError(
            f"The setting {key} cannot hold a double quote or a line break ({value!r}); "
            "install Python into a folder with a plain name and try again."
        )
    try:
        value.encode(config_encoding(layout))
    except UnicodeEncodeError:
        raise InstallError(
            f"Excel cannot read the characters in {value!r} from its settings file; "
            "install Python into a folder whose path uses plain letters and try again."
        ) from None
