"""Which columns a table holds: the default set, ``all``, or names/titles the user lists."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sheep_xl.exceptions import UnknownColumnsError
from sheep_xl.frames.catalogue import CATALOGUE, DEFAULT_COLUMNS, DERIVED, field_for

ALL = "all"
DEFAULT = "default"

# Every spelling a user may type for a field: its API name and its title, case-insensitive.
_LOOKUP: dict[str, str] = {}
for _field in (*CATALOGUE, *DERIVED.values()):
    _LOOKUP[_field.name.lower()] = _field.name
    _LOOKUP[_field.title.lower()] = _field.name


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


def resolve_columns(columns: ColumnsArg = None) -> ColumnSelection:
    """Turn what a user typed into catalogue field names; unknown names are a clear error."""
    if isinstance(columns, ColumnSelection):
        return columns
    if columns is None:
        return ColumnSelection(DEFAULT_COLUMNS)
    names = (
        split_columns(columns)
        if isinstance(columns, str)
        else [str(c).strip() for c in columns if c is not None and str(c).strip()]
    )
    lowered = [n.lower() for n in names]
    if not names or lowered == [DEFAULT]:
        return ColumnSelection(DEFAULT_COLUMNS)
    if lowered == [ALL]:
        return ColumnSelection(tuple(f.name for f in CATALOGUE), include_unknown=True)

    resolved: list[str] = []
    unknown: list[str] = []
    for name in names:
        field = _LOOKUP.get(name.lower()) or _LOOKUP.get(name.lower().replace(" ", "_"))
        if field is None:
            unknown.append(name)
        elif field not in resolved:
            resolved.append(field)
    if unknown:
        raise UnknownColumnsError(_unknown_message(unknown), unknown)
    return ColumnSelection(tuple(resolved))


def _unknown_message(unknown: list[str]) -> str:
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name.lower(), _LOOKUP, n=1, cutoff=0.6)
        hint = f" (did you mean '{_display(close[0])}'?)" if close else ""
        parts.append(f"'{name}'{hint}")
    noun = "column" if len(unknown) == 1 else "columns"
    return (
        f"Unknown {noun} {', '.join(parts)}: use event field names or titles such as "
        "'title', 'start_date' or 'Event type', or 'all' for every field."
    )


def _display(key: str) -> str:
    """Show a suggestion as the user would type it: the field name, or the title."""
    name = _LOOKUP[key]
    return name if key == name else field_for(name).title
