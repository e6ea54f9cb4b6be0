"""Call worksheet functions the way Excel does on Windows, on any machine.

On Windows, xlwings' UDF server imports ``xlwings.udfs``: its decorators record ``__xlfunc__``
metadata, and ``call_udf`` converts each argument with ``conversion.read`` and the result with
``conversion.write`` through the "excel" engine. Here the three Windows-only modules it imports
(pythoncom, pywintypes, win32com) are replaced by small stand-ins so the real ``xlwings.udfs``
decorators run, and an engine named "excel" does what xlwings' Windows engine does to values
(dates stay datetimes for COM, None and NaN become ""). ``call_like_excel`` follows the
non-async path of ``xlwings.udfs.call_udf`` line by line.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import xlwings
from xlwings import conversion

MISSING = -2147352572  # what Excel passes for an omitted optional argument (DISP_E_PARAMNOTFOUND)


def _stub_modules() -> dict[str, types.ModuleType]:
    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None  # type: ignore[attr-defined]
    pywintypes = types.ModuleType("pywintypes")
    pywintypes.TimeType = dt.datetime  # type: ignore[attr-defined]
    win32com = types.ModuleType("win32com")
    client = types.ModuleType("win32com.client")

    def dispatch(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no COM here")

    client.Dispatch = dispatch  # type: ignore[attr-defined]
    win32com.client = client  # type: ignore[attr-defined]
    return {
        "pythoncom": pythoncom,
        "pywintypes": pywintypes,
        "win32com": win32com,
        "win32com.client": client,
    }


class ComValues:
    """The value handling of xlwings' Windows engine (``_xlwindows.Engine``), restated."""

    name = "excel"
    type = "desktop"

    @staticmethod
    def prepare_xl_data_element(x: Any, options: Any) -> Any:
        if isinstance(x, (dt.datetime, dt.date)):
            return x if isinstance(x, dt.datetime) else dt.datetime(x.year, x.month, x.day)
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return ""
        try:
            import pandas as pd

            if pd.isna(x):
                return ""
        except (TypeError, ValueError):
            pass
        if hasattr(x, "item") and not isinstance(x, (str, bytes)):
            return float(x)
        return x

    @staticmethod
    def clean_value_data(
        data: Any, datetime_builder: Any, empty_as: Any, number_builder: Any, err_to_str: Any
    ) -> Any:
        return [[empty_as if c in ("", None) else c for c in row] for row in data]


@contextmanager
def windows_udf_runtime() -> Iterator[types.ModuleType]:
    """Import ``sheep_xl.excel.udfs`` with xlwings' real Windows UDF decorators."""
    stubs = _stub_modules()
    saved_modules = {name: sys.modules.get(name) for name in stubs}
    saved = {name: getattr(xlwings, name) for name in ("func", "arg", "ret")}
    sys.modules.update(stubs)
    sys.modules.pop("xlwings.udfs", None)
    import xlwings.udfs as real

    xlwings.func, xlwings.arg, xlwings.ret = real.xlfunc, real.xlarg, real.xlret
    engine = xlwings.main.Engine(impl=ComValues())
    had_excel = "excel" in [e.name for e in xlwings.engines]
    if not had_excel:
        xlwings.engines.add(engine)
    try:
        import sheep_xl.excel.registry as registry
        import sheep_xl.excel.udfs as udfs

        importlib.reload(registry)
        yield importlib.reload(udfs)
    finally:
        for name, value in saved.items():
            setattr(xlwings, name, value)
        if not had_excel:
            xlwings.engines.engines.remove(engine)
            xlwings.engines.engines_by_name.pop("excel", None)
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        sys.modules.pop("xlwings.udfs", None)
        import sheep_xl.excel.registry as registry
        import sheep_xl.excel.udfs as udfs

        importlib.reload(registry)
        importlib.reload(udfs)


def call_like_excel(func: Any, *args: Any) -> Any:
    """What Excel gets back from ``=FUNC(args...)``: ``call_udf``'s synchronous path."""
    info = func.__xlfunc__
    args_info, ret_info = info["args"], info["ret"]
    values = list(args) + [MISSING] * (len(args_info) - len(args))
    for i, arg in enumerate(values):
        arg_info = args_info[min(i, len(args_info) - 1)]
        if isinstance(arg, int) and arg == MISSING:
            values[i] = arg_info.get("optional", None)
        else:
            values[i] = conversion.read(None, arg, arg_info["options"])
    ret = func(*values)
    return conversion.write(ret, None, ret_info["options"])
