"""Text that an Excel file can hold.

* Characters XML 1.0 cannot carry (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are removed:
  a workbook holding them will not open.
* A cell holds at most 32,767 characters; longer text is cut, and the caller counts it.

Text that begins with ``=``, ``+``, ``-`` or ``@`` is left as it is here: it is data, and every
writer stores it as a text cell, never as a formula (see ``is_formula_like``).
"""

from __future__ import annotations

import re

EXCEL_CELL_LIMIT = 32_767

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_PREFIXES = ("=", "+", "-", "@")


def clean_text(text: str) -> tuple[str, bool, bool]:
    """``(safe text, characters were removed, text was cut)``."""
    removed = False
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
        removed = True
    cut = len(text) > EXCEL_CELL_LIMIT
    if cut:
        text = text[:EXCEL_CELL_LIMIT]
    return text, removed, cut


def is_formula_like(text: str) -> bool:
    """Text a spreadsheet would take for a formula if it were typed or imported naively."""
    return text.startswith(FORMULA_PREFIXES)
