"""Text that an Excel file can hold.

* Characters XML 1.0 cannot carry (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are removed:
  a workbook holding them will not open.
* A cell holds at most 32,767 characters, counted as Excel counts them: in UTF-16 code units, so
  an emoji (outside the Basic Multilingual Plane) counts two. Longer text is cut, never inside a
  surrogate pair, and the caller counts it.
* In an ``.xlsx`` part, ``_xHHHH_`` is Excel's escape for one character (``_x000A_`` is a line
  break). Text that holds such a sequence literally is written with its underscore escaped
  (``_x005F_x0041_``), so Excel shows it as typed: see `escape_ooxml`, which every writer of
  cell text and table column names in XML uses; `unescape_ooxml` is the reader's inverse.

Text that begins with ``=``, ``+``, ``-`` or ``@`` is left as it is here: it is data, and every
writer stores it as a text cell, never as a formula (see ``is_formula_like``).
"""

from __future__ import annotations

import re

EXCEL_CELL_LIMIT = 32_767

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
FORMULA_PREFIXES = ("=", "+", "-", "@")


def utf16_length(text: str) -> int:
    """The length of ``text`` as Excel counts it (UTF-16 code units)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def cut_utf16(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units; a character needing two units that
    would straddle the limit is left out whole (never half a surrogate pair)."""
    if len(text) <= limit // 2:  # fast path: cannot exceed the limit even if all are astral
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def has_illegal_characters(text: str) -> bool:
    """Whether ``text`` holds a character an XML part cannot (control characters, lone
    surrogates, U+FFFE, U+FFFF); `clean_text` removes them."""
    return _ILLEGAL.search(text) is not None


def clean_text(text: str) -> tuple[str, bool, bool]:
    """``(safe text, characters were removed, text was cut)``."""
    removed = False
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
        removed = True
    cut_text = cut_utf16(text, EXCEL_CELL_LIMIT)
    return cut_text, removed, len(cut_text) < len(text)


def escape_ooxml(text: str) -> str:
    """``text`` with every literal ``_xHHHH_`` made ``_x005F_xHHHH_``, so Excel, which decodes
    such sequences in cell text and table column names, shows exactly ``text``."""
    if "_x" not in text:
        return text
    return _ESCAPE_LIKE.sub(r"_x005F_\1", text)


def unescape_ooxml(text: str) -> str:
    """Text as Excel reads it from a part: every ``_xHHHH_`` decoded to its character."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def is_formula_like(text: str) -> bool:
    """Text a spreadsheet would take for a formula if it were typed or imported naively."""
    return text.startswith(FORMULA_PREFIXES)
