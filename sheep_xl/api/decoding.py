"""Reading a listing page with only the fields a caller needs.

A listing page is JSON, ``{"bookings": [...]}``, of events with some 70 fields each; a table of
the default columns needs 21 of them. ``json.loads`` builds every field of every event (a third
of ``sheep-xl events``' time with the default columns). `page_reader` instead decodes with
msgspec into a struct of the wanted fields only, so the others are skipped unread at C speed:
8.3 ms against 1.2 ms for a page of 250 demo events (``benchmarks/bench_perf_goals.py``, case 4).

The fast reading is for well-formed pages only. Anything msgspec does not take as such (bad
JSON, a lone surrogate escape, NaN, text in UTF-16, a page without ``bookings``, an event that
is not an object) makes the reader answer None, and the client reads that page the ordinary way,
so every error and every tolerance of the ordinary reading stays as it is. A field the server
left out stays out of the record; a field it sent as null is None, as ``json.loads`` makes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import Any

PageReader = Callable[[bytes], dict[str, Any] | None]


def page_reader(fields: Collection[str]) -> PageReader:
    """A reader of listing pages that keeps only ``fields`` of each event (see the module)."""
    return _reader(frozenset(fields))


@functools.cache
def _reader(fields: frozenset[str]) -> PageReader:
    import msgspec  # here, not at import: only a listing's pages are read with it

    names = sorted(f for f in fields if f.isidentifier())
    if len(names) != len(fields):  # a key that cannot be a struct field: read pages whole
        return lambda content: None
    absent = msgspec.UNSET
    event = msgspec.defstruct("Event", [(name, Any, absent) for name in names])
    page = msgspec.defstruct("Page", [("bookings", list[event])])  # type: ignore[valid-type]
    decoder = msgspec.json.Decoder(page)
    errors = (msgspec.DecodeError, msgspec.ValidationError)

    def read(content: bytes) -> dict[str, Any] | None:
        try:
            bookings = decoder.decode(content).bookings  # type: ignore[attr-defined]
        except errors:
            return None
        records = []
        for booking in bookings:
            record = {}
            for name in names:
                value = getattr(booking, name)
                if value is not absent:
                    record[name] = value
            records.append(record)
        return {"bookings": records}

    return read
