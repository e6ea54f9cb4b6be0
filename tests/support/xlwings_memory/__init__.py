"""Test support: an in-memory xlwings engine, so xlwings' real classes run without Excel.

See :mod:`xlwings_memory.engine` for what is modelled and what is not.
"""

from support.xlwings_memory.engine import (
    Area,
    MemoryApp,
    MemoryBook,
    MemoryEngine,
    MemoryRange,
    MemorySheet,
    MemoryTable,
    cell_format,
    cell_formula,
    cell_text,
    cell_value,
    display_text,
    engine_of,
    install,
    installed,
    is_empty,
    new_book,
    set_formula_result,
    table_ref,
    uninstall,
)

__all__ = [
    "Area",
    "MemoryApp",
    "MemoryBook",
    "MemoryEngine",
    "MemoryRange",
    "MemorySheet",
    "MemoryTable",
    "cell_format",
    "cell_formula",
    "cell_text",
    "cell_value",
    "display_text",
    "engine_of",
    "install",
    "installed",
    "is_empty",
    "new_book",
    "set_formula_result",
    "table_ref",
    "uninstall",
]
