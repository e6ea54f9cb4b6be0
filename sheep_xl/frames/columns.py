"""Which columns a table holds: the default set, ``all``, or names/titles the user lists."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sheep_xl.exceptions import UnknownColumnsError
from sheep_xl.frames.catalogue import EVENTS, Catalogue

ALL = "all"
DEFAULT = "default"

# Every spelling a user may type for an event field: its API name and its title, any case
# (each catalogue keeps its own: `Catalogue.lookup`).
_LOOKUP: dict[str, str] = EVENTS.lookup


@dataclass(frozen=True)
class ColumnSelection:
    fields: tuple[str, ...]  # catalogue names, in order
    include_unknown: bool = False  # append fields the server sent that the catalogue lacks

    @property
    def is_all(self) -> bool:
        return self.include_unknown


ColumnsArg = str | Iterable[str] | ColumnSelection | None


def split_columns(text: str) -> list[str]:
    """``"title, start date"`` -> ``["title", "start date"]`` (commas or semicolons)."""
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def resolve_columns(columns: ColumnsArg = None, catalogue: Catalogue = EVENTS) -> ColumnSelection:
    """Turn what a user typed into field names of ``catalogue`` (events unless another kind of
    record is meant); unknown names are a clear error that suggests the closest match."""
    if isinstance(columns, ColumnSelection):
        return columns
    if columns is None:
        return ColumnSelection(catalogue.defaults)
    names = (
        split_columns(columns)
        if isinstance(columns, str)
        else [str(c).strip() for c in columns if c is not None and str(c).strip()]
    )
    lowered = [n.lower() for n in names]
    if not names or lowered == [DEFAULT]:
        return ColumnSelection(catalogue.defaults)
    if lowered == [ALL]:
        return ColumnSelection(tuple(f.name for f in catalogue.fields), include_unknown=True)

    lookup = catalogue.lookup
    resolved: list[str] = []
    unknown: list[str] = []
    for name in names:
        field = lookup.get(name.lower()) or lookup.get(name.lower().replace(" ", "_"))
        if field is None:
            unknown.append(name)
        elif field not in resolved:
            resolved.append(field)
    if unknown:
        raise UnknownColumnsError(_unknown_message(unknown, catalogue), unknown)
    return ColumnSelection(tuple(resolved))


def _unknown_message(unknown: list[str], catalogue: Catalogue = EVENTS) -> str:
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name.lower(), catalogue.lookup, n=1, cutoff=0.6)
        hint = f" (did you mean '{_display(close[0], catalogue)}'?)" if close else ""
        parts.append(f"'{name}'{hint}")
    noun = "column" if len(unknown) == 1 else "columns"
    *first, last = (f"'{e}'" for e in catalogue.examples)
    examples = f"{', '.join(first)} or {last}" if first else last
    return (
        f"Unknown {noun} {', '.join(parts)}: use {catalogue.noun} field names or titles such as "
        f"{examples}, or 'all' for every field."
    )


def _display(key: str, catalogue: Catalogue = EVENTS) -> str:
    """Show a suggestion as the user would type it: the field name, or the title."""
    name = catalogue.lookup[key]
    return name if key == name else catalogue.field_for(name).title
