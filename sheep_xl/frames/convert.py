"""API records -> a typed pandas DataFrame, one column per selected field.

Each kind becomes a real dtype (see ``catalogue``). Bad values never stop a table: a value that
cannot be read (a date like ``2023-13-45``, a time like ``9:5``, text in a number field) becomes an
empty cell and is counted in the frame's warnings, as are text cells cut at Excel's limit.

The frame carries what later layers need in ``frame.attrs["sheep_xl"]``: the API field name and
kind of every column, and the warnings. ``column_specs`` reads it back. It is a `FrameMeta`,
which copies in constant time: pandas deep-copies ``attrs`` into every column it hands out, and
per-column lists there made a table of n fields cost n² (8,000 fields: minutes).

Field names come from the server, so they are not trusted as column titles either (see
`safe_field_name`): characters a workbook or a CSV cannot hold are removed, a name with nothing
left is dropped with a warning, and every title is unique.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sheep_xl.exceptions import UnknownColumnsError
from sheep_xl.frames.catalogue import BY_NAME, DERIVED, EVENTS, Catalogue, Field, field_for
from sheep_xl.frames.columns import ColumnsArg, ColumnSelection, resolve_columns
from sheep_xl.frames.excel_text import EXCEL_CELL_LIMIT, clean_text, has_illegal_characters

log = logging.getLogger(__name__)

ATTRS_KEY = "sheep_xl"
LIST_SEPARATOR = "; "

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


@dataclass
class ConversionReport:
    """What could not be taken over as it was, for one frame."""

    malformed: Counter[str] = field(default_factory=Counter)  # field -> values left empty
    examples: dict[str, str] = field(default_factory=dict)  # field -> first bad value
    truncated: Counter[str] = field(default_factory=Counter)  # field -> cells cut at 32,767
    cleaned: Counter[str] = field(default_factory=Counter)  # field -> cells with chars removed
    timezones: Counter[str] = field(default_factory=Counter)  # field -> offsets ignored
    renamed: list[str] = field(default_factory=list)  # field names that had to be cleaned
    dropped: list[str] = field(default_factory=list)  # field names with nothing usable left
    mixed_currencies: int = 0  # events whose ticket income is in more than one currency

    def bad(self, name: str, value: Any) -> None:
        self.malformed[name] += 1
        self.examples.setdefault(name, repr(value)[:40])

    def sentences(self) -> list[str]:
        out = []
        if self.malformed:
            detail = ", ".join(
                f"{name} {count} (e.g. {self.examples[name]})"
                for name, count in sorted(self.malformed.items())
            )
            total = sum(self.malformed.values())
            out.append(f"{total} value(s) could not be read and were left empty: {detail}.")
        if self.truncated:
            detail = ", ".join(f"{n} {c}" for n, c in sorted(self.truncated.items()))
            out.append(
                f"{sum(self.truncated.values())} text cell(s) were longer than Excel's "
                f"{EXCEL_CELL_LIMIT:,}-character limit and were cut: {detail}."
            )
        if self.cleaned:
            detail = ", ".join(f"{n} {c}" for n, c in sorted(self.cleaned.items()))
            out.append(
                f"Characters that Excel files cannot hold were removed from "
                f"{sum(self.cleaned.values())} cell(s): {detail}."
            )
        if self.timezones:
            detail = ", ".join(f"{n} {c}" for n, c in sorted(self.timezones.items()))
            out.append(
                f"{sum(self.timezones.values())} date-time(s) carried a UTC offset, which was "
                f"ignored so the wall-clock time is shown unchanged: {detail}."
            )
        if self.renamed:
            detail = ", ".join(ascii(n)[:40] for n in self.renamed[:3])
            more = f" and {len(self.renamed) - 3} more" if len(self.renamed) > 3 else ""
            out.append(
                f"{len(self.renamed)} field name(s) from the server held characters a column "
                f"title cannot, which were removed: {detail}{more}."
            )
        if self.dropped:
            detail = ", ".join(ascii(n)[:40] for n in self.dropped[:3])
            more = f" and {len(self.dropped) - 3} more" if len(self.dropped) > 3 else ""
            out.append(
                f"{len(self.dropped)} field(s) from the server had names with no usable "
                f"characters and were left out: {detail}{more}."
            )
        if self.mixed_currencies:
            out.append(
                f"Ticket income was left empty for {self.mixed_currencies} event(s) whose ticket "
                "types are sold in more than one currency (amounts in different currencies "
                "do not add up): see their orders, one row per currency."
            )
        return out


class FrameMeta(Mapping[str, Any]):
    """The frame's metadata: read-only, and copied by reference.

    pandas deep-copies ``frame.attrs`` into every Series it returns (``frame[title]``), so
    metadata with one entry per column would make reading every column quadratic in the number
    of columns. Immutable tuples shared between copies keep that constant."""

    __slots__ = ("_items",)

    def __init__(self, **items: Any) -> None:
        self._items = {k: tuple(v) if isinstance(v, list) else v for k, v in items.items()}

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __copy__(self) -> FrameMeta:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrameMeta:
        return self

    def __repr__(self) -> str:
        return f"FrameMeta({self._items!r})"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a typed frame: its header, API field and kind."""

    title: str
    field: Field


def events_frame(records: Iterable[Mapping[str, Any]], columns: ColumnsArg = None) -> pd.DataFrame:
    """A typed DataFrame of ``records`` with the chosen columns (default set, ``all`` or names)."""
    selection = resolve_columns(columns)
    rows = list(records)
    report = ConversionReport()
    chosen = fields_for(selection, rows, report)
    data: dict[str, Any] = {}
    for fld, key in chosen:
        derive = DERIVERS.get(fld.name)
        values = [derive(r) if derive else r.get(key) for r in rows]
        if fld.name == "ticket_income":
            report.mixed_currencies += sum(1 for v in values if v is MIXED_CURRENCIES)
            values = [None if v is MIXED_CURRENCIES else v for v in values]
        data[fld.title] = _convert(fld, values, report)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    warnings = report.sentences()
    for sentence in warnings:
        log.warning("%s", sentence)
    frame.attrs[ATTRS_KEY] = FrameMeta(
        fields=[f.name for f, _ in chosen],
        kinds=[f.kind for f, _ in chosen],
        warnings=warnings,
    )
    return frame


MIXED_CURRENCIES = object()  # an event's ticket income in more than one currency: no sum


def _income_currencies(record: Mapping[str, Any]) -> set[str]:
    """The currencies of the ticket types that have income (upper case; unknown ones left out)."""
    income = record.get("ticket_type_income")
    types = record.get("ticket_types")
    if not isinstance(income, Mapping) or not isinstance(types, Mapping):
        return set()
    found = set()
    for name, amount in income.items():
        spec = types.get(name)
        number = _as_number(amount)
        if isinstance(spec, Mapping) and isinstance(spec.get("currency"), str) and number:
            found.add(spec["currency"].strip().upper())
    return found


def _ticket_income(record: Mapping[str, Any]) -> Any:
    """The event's income from ticket sales, the sum of ``ticket_type_income``: only when its
    ticket types are sold in one currency (pounds and euros do not add up)."""
    income = record.get("ticket_type_income")
    if not isinstance(income, Mapping):
        return None
    if len(_income_currencies(record)) > 1:
        return MIXED_CURRENCIES
    amounts = [_as_number(v) for v in income.values()]
    return round_money(sum(a for a in amounts if a is not None))


def _ticket_income_currency(record: Mapping[str, Any]) -> Any:
    """The one currency of the ticket income; ``mixed`` when there are several."""
    found = _income_currencies(record)
    if len(found) > 1:
        return "mixed"
    return next(iter(found), None)


MONEY_PLACES = decimal.Decimal("0.01")  # sheepCRM's currencies (GBP, EUR, USD) have cents


def round_money(amount: float) -> float:
    """A sum of money to whole cents, half up as accountants do (``6276.400000000001`` ->
    ``6276.4``); ``repr`` of the float is used, so a binary fraction never tips the rounding."""
    if not math.isfinite(amount) or abs(amount) >= 1e15:  # beyond cents' precision anyway
        return float(amount)
    exact = decimal.Decimal(repr(float(amount)))
    return float(exact.quantize(MONEY_PLACES, rounding=decimal.ROUND_HALF_UP))


DERIVERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "ticket_income": _ticket_income,
    "ticket_income_currency": _ticket_income_currency,
}
DERIVED_FROM: dict[str, tuple[str, ...]] = {  # the record keys each deriver reads
    "ticket_income": ("ticket_type_income", "ticket_types"),
    "ticket_income_currency": ("ticket_type_income", "ticket_types"),
}


def record_fields(selection: ColumnSelection) -> frozenset[str] | None:
    """The record keys `events_frame` reads for ``selection``; None for all of them (``all``
    keeps the fields the catalogue lacks, so every key is read)."""
    if selection.include_unknown:
        return None
    keys: set[str] = set()
    for name in selection.fields:
        keys.update(DERIVED_FROM.get(name, (name,)))
    return frozenset(keys)


def sort_frame(
    frame: pd.DataFrame, sort: str | None, catalogue: Catalogue = EVENTS
) -> pd.DataFrame:
    """Rows sorted by one column (``"Start date"``, ``"start_date desc"``) of ``catalogue``'s
    records; empty cells last, ties keep the API's order."""
    if not sort or not sort.strip():
        return frame
    text = sort.strip()
    descending = text.lower().endswith(" desc")
    if descending or text.lower().endswith(" asc"):
        text = text.rsplit(" ", 1)[0]
    title = catalogue.field_for(resolve_columns([text], catalogue).fields[0]).title
    if title not in frame.columns:
        raise UnknownColumnsError(
            f"Cannot sort by '{text}': it is not one of the table's columns; add it to the "
            "columns or sort by another one.",
            [text],
        )
    ordered = frame.sort_values(
        title, ascending=not descending, kind="mergesort", na_position="last"
    ).reset_index(drop=True)
    ordered.attrs = frame.attrs
    return ordered


def frame_warnings(frame: pd.DataFrame) -> list[str]:
    return list(frame.attrs.get(ATTRS_KEY, {}).get("warnings", []))


def column_specs(frame: pd.DataFrame) -> list[ColumnSpec]:
    """Each column's field and kind: from the frame's attrs, else by title or dtype."""
    meta = frame.attrs.get(ATTRS_KEY, {})
    names, kinds = meta.get("fields"), meta.get("kinds")
    # frames of other kinds of record (attendees, orders...) carry their own catalogue's fields
    given = meta.get("field_objects")
    specs = []
    for i, title in enumerate(frame.columns):
        if given and len(given) == len(frame.columns):
            fld = given[i]
        elif names and kinds and len(names) == len(frame.columns):
            base = BY_NAME.get(names[i]) or DERIVED.get(names[i])
            fld = base if base and base.kind == kinds[i] else Field(names[i], kinds[i], str(title))
        else:
            fld = _field_by_title(str(title)) or Field(
                str(title), _kind_of(frame[title]), str(title)
            )
        specs.append(ColumnSpec(str(title), fld))
    return specs


# --- selection --------------------------------------------------------------------------------


MAX_TITLE = 255  # Excel's limit for a table column's name


def safe_field_name(name: object) -> str:
    """A field name from the server as a column title: characters XML cannot carry (control
    characters, lone surrogates) removed, tabs and line breaks made spaces, cut at 255
    characters. ``""`` when nothing usable is left (the field is then left out)."""
    text, _removed, _cut = clean_text(str(name))
    text = " ".join(text.split())
    return text[:MAX_TITLE].strip()


def fields_for(
    selection: ColumnSelection,
    rows: Sequence[Mapping[str, Any]],
    report: ConversionReport,
    lookup: Callable[[str], Field] = field_for,
    known: Collection[str] = BY_NAME.keys(),
) -> list[tuple[Field, str]]:
    """Each column's field and the record key its values come from, for any kind of record
    (``lookup`` and ``known`` are its catalogue's; the events catalogue by default).

    With ``all``, fields the catalogue lacks follow, in the order first seen. Their names are
    made safe (`safe_field_name`) and unique among the titles, once per name and in one pass
    over the records, so the work grows in step with the number of fields."""
    chosen = [(lookup(name), name) for name in selection.fields]
    if selection.include_unknown:
        extra: dict[str, None] = {}
        for row in rows:
            for name in row:
                if name not in known and name not in extra:
                    extra[name] = None
        titles = {f.title for f, _ in chosen}
        for name in extra:
            safe = safe_field_name(name)
            if not safe:
                report.dropped.append(name)
                continue
            if safe != name:
                report.renamed.append(name)
            title = _unique(safe, titles)
            kind = _infer_kind([r.get(name) for r in rows])
            chosen.append((Field(title if safe != name else name, kind, title), name))
    return chosen


def _unique(title: str, taken: set[str]) -> str:
    """``title``, or ``title (extra)``, ``title (extra 2)``, ... whichever is free; then taken."""
    candidate, number = title, 1
    while candidate in taken:
        candidate = f"{title} (extra)" if number == 1 else f"{title} (extra {number})"
        number += 1
    taken.add(candidate)
    return candidate


def _infer_kind(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if not present:
        return "text"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "number"
    if any(isinstance(v, list) for v in present):
        return "list"
    if any(isinstance(v, dict) for v in present):
        return "map"
    return "text"


def _field_by_title(title: str) -> Field | None:
    for fld in BY_NAME.values():
        if fld.title == title:
            return fld
    return None


def _kind_of(series: pd.Series) -> Any:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "text"


# --- conversion per kind ----------------------------------------------------------------------


def _convert(fld: Field, values: list[Any], report: ConversionReport) -> Any:
    kind = fld.kind
    if kind == "datetime":
        return _datetimes(fld.name, values, report)
    if kind == "date":
        return _dates(fld.name, values, report)
    if kind == "time":
        return pd.Series(_times(fld.name, values, report), dtype="object")
    if kind == "bool":
        return pd.array(_bools(fld.name, values, report), dtype="boolean")
    if kind == "number":
        return pd.array(_numbers(fld.name, values, report), dtype="Float64")
    return pd.array(_texts(fld, values, report), dtype="string")


def _datetimes(name: str, values: list[Any], report: ConversionReport) -> pd.Series:
    texts: list[str | None] = []
    for v in values:
        if v is None or v == "":
            texts.append(None)
        elif isinstance(v, str):
            stripped = _TZ_SUFFIX.sub("", v.strip())
            if stripped != v.strip() and "T" in v:
                report.timezones[name] += 1  # keep the wall-clock time; never convert
            texts.append(stripped)
        else:
            report.bad(name, v)
            texts.append(None)
    parsed = pd.to_datetime(pd.Series(texts, dtype="object"), format="ISO8601", errors="coerce")
    _count_unparsed(name, texts, parsed, report)
    return parsed.astype("datetime64[us]")


def _dates(name: str, values: list[Any], report: ConversionReport) -> pd.Series:
    texts: list[str | None] = []
    for v in values:
        if v is None or v == "":
            texts.append(None)
        elif isinstance(v, str) and _DATE.match(v.strip()):
            texts.append(v.strip()[:10])
        else:
            report.bad(name, v)
            texts.append(None)
    parsed = pd.to_datetime(pd.Series(texts, dtype="object"), format="%Y-%m-%d", errors="coerce")
    _count_unparsed(name, texts, parsed, report)
    return parsed.astype("datetime64[us]")


def _count_unparsed(
    name: str, texts: list[str | None], parsed: pd.Series, report: ConversionReport
) -> None:
    bad = parsed.isna().to_numpy() & pd.notna(pd.Series(texts, dtype="object")).to_numpy()
    for index in bad.nonzero()[0]:
        report.bad(name, texts[index])


def _times(name: str, values: list[Any], report: ConversionReport) -> list[dt.time | None]:
    out: list[dt.time | None] = []
    seen: dict[str, dt.time] = {}  # events share a few start and end times: each read once
    for v in values:
        if v is None or v == "":
            out.append(None)
            continue
        known = seen.get(v) if type(v) is str else None
        if known is not None:
            out.append(known)
            continue
        match = _TIME.fullmatch(v.strip()) if isinstance(v, str) else None
        hour, minute, second = (int(g or 0) for g in match.groups()) if match else (99, 0, 0)
        if hour < 24 and minute < 60 and second < 60:
            time = dt.time(hour, minute, second)
            out.append(time)
            if type(v) is str:
                seen[v] = time
        else:
            report.bad(name, v)
            out.append(None)
    return out


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _bools(name: str, values: list[Any], report: ConversionReport) -> list[bool | None]:
    out: list[bool | None] = []
    for v in values:
        if v is None or isinstance(v, bool):
            out.append(v)
        elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            out.append(v.strip().lower() in _TRUE)
        elif isinstance(v, (int, float)) and v in (0, 1):
            out.append(bool(v))
        else:
            report.bad(name, v)
            out.append(None)
    return out


def _numbers(name: str, values: list[Any], report: ConversionReport) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        if v is None or v == "":
            out.append(None)
            continue
        # the way JSON sends most numbers, without `_as_number`'s checks
        if (type(v) is float and math.isfinite(v)) or (type(v) is int and -_BIG < v < _BIG):
            out.append(float(v))
            continue
        number = _as_number(v)
        if number is None:
            report.bad(name, v)
        out.append(number)
    return out


def _plain_texts(values: list[Any]) -> bool:
    """Whether every value is text Excel takes as it is (or None), checked for the column at
    once: one search through the joined texts instead of `clean_text` for each value."""
    texts = [v for v in values if v is not None]
    if not all(type(v) is str for v in texts):
        return False
    if texts and max(map(len, texts)) > EXCEL_CELL_LIMIT // 2:
        return False  # perhaps too long for a cell: `clean_text` counts UTF-16 units
    return not has_illegal_characters("\n".join(texts))


def _as_number(value: Any) -> float | None:
    """A finite float from a number or numeric text (``"1,250.5"``); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float (JSON allows as many digits as sent)
        return None
    return number if math.isfinite(number) else None


_BIG = 2**63


def _texts(fld: Field, values: list[Any], report: ConversionReport) -> list[str | None]:
    if _plain_texts(values):
        return values
    out: list[str | None] = []
    as_list = fld.kind == "list"
    for v in values:
        if v is None:
            out.append(None)
            continue
        if isinstance(v, str):
            text = v
        elif as_list and isinstance(v, list):
            text = LIST_SEPARATOR.join(_item_text(item) for item in v if item is not None)
        elif isinstance(v, (dict, list)):
            text = _compact_json(v)
        elif isinstance(v, bool):
            text = "TRUE" if v else "FALSE"
        else:
            text = str(v)
        text, removed, cut = clean_text(text)
        if removed:
            report.cleaned[fld.name] += 1
        if cut:
            report.truncated[fld.name] += 1
        out.append(text)
    return out


def _item_text(item: Any) -> str:
    return item if isinstance(item, str) else _compact_json(item)


def _compact_json(value: Any) -> str:
    """Compact JSON text; a value nested too deeply to write out becomes a short note rather
    than an error (the client already refuses bodies deeper than Python's json can read, but a
    value just under that limit can still be too deep to write from further down the stack)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except RecursionError:
        return "(nested too deeply to show)"
