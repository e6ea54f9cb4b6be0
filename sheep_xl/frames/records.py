"""Records of any catalogued kind -> a typed DataFrame, exactly as ``convert.events_frame``
does for events: the same typing per kind, text safety, warnings and extra-field handling.

It exists beside ``events_frame`` rather than inside it so the events path (shared with the
worksheet functions and the refresh) stays untouched; both use the same conversion functions.
The frame's metadata also carries the `Field` objects themselves (``field_objects``), because
``column_specs`` cannot find a money or count format of an attendee or order field in the
events catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from sheep_xl.frames.catalogue import Catalogue
from sheep_xl.frames.columns import ColumnsArg, resolve_columns
from sheep_xl.frames.convert import (
    ATTRS_KEY,
    ConversionReport,
    FrameMeta,
    _convert,
    fields_for,
)

log = logging.getLogger(__name__)

Deriver = Callable[[Mapping[str, Any]], Any]


def records_frame(
    records: Iterable[Mapping[str, Any]],
    catalogue: Catalogue,
    columns: ColumnsArg = None,
    *,
    derivers: Mapping[str, Deriver] | None = None,
    warnings: Sequence[str] = (),
) -> pd.DataFrame:
    """A typed DataFrame of ``records`` with the chosen columns of ``catalogue`` (its default
    set, ``all`` or names). ``warnings`` are sentences about the records found before typing
    (e.g. an order total that was not a map), kept with the frame's own."""
    selection = resolve_columns(columns, catalogue)
    rows = list(records)
    report = ConversionReport()
    chosen = fields_for(
        selection, rows, report, catalogue.field_for, catalogue.known | set(selection.fields)
    )
    data: dict[str, Any] = {}
    derive_by = derivers or {}
    for fld, key in chosen:
        derive = derive_by.get(fld.name)
        values = [derive(r) if derive else r.get(key) for r in rows]
        data[fld.title] = _convert(fld, values, report)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    sentences = [*warnings, *report.sentences()]
    for sentence in sentences:
        log.warning("%s", sentence)
    frame.attrs[ATTRS_KEY] = FrameMeta(
        fields=[f.name for f, _ in chosen],
        kinds=[f.kind for f, _ in chosen],
        field_objects=[f for f, _ in chosen],
        warnings=sentences,
        catalogue=catalogue.noun,
    )
    return frame
