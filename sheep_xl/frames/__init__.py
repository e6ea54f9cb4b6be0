"""Typed frames: the field catalogue, column selection and records -> DataFrame."""

from sheep_xl.frames.catalogue import BY_NAME, CATALOGUE, DEFAULT_COLUMNS, Field, NumberFormat
from sheep_xl.frames.columns import ColumnSelection, resolve_columns
from sheep_xl.frames.convert import ColumnSpec, column_specs, events_frame, frame_warnings

__all__ = [
    "BY_NAME",
    "CATALOGUE",
    "DEFAULT_COLUMNS",
    "ColumnSelection",
    "ColumnSpec",
    "Field",
    "NumberFormat",
    "column_specs",
    "events_frame",
    "frame_warnings",
    "resolve_columns",
]
