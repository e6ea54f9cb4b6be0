"""Metadata of the worksheet functions, recorded once for every consumer.

``worksheet_function`` applies xlwings' decorators (which on Windows record what xlwings' UDF
server needs) and keeps our own description of each function, which the add-in builder uses to
generate the VBA wrappers and the Insert Function descriptions on any machine.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import xlwings as xw

from sheep_xl.exceptions import SheepError

CATEGORY = "SheepCRM"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ArgumentSpec:
    name: str
    doc: str
    optional: bool


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    module: str
    doc: str  # first line of the docstring: Excel's function description
    args: tuple[ArgumentSpec, ...]
    category: str = CATEGORY
    volatile: bool = False
    raw_result: bool = False  # the result is already in the form the COM call returns

    @property
    def ret_options(self) -> dict[str, Any]:
        """xlwings' return options (what ``@xw.ret`` records for its UDF server)."""
        return {"convert": "raw"} if self.raw_result else {}


REGISTRY: dict[str, FunctionSpec] = {}


PREFIX = "SheepCRM: "
log = logging.getLogger(__name__)


def worksheet_function(*, raw_result: bool = False, **arg_docs: str) -> Callable[[F], F]:
    """Mark a Python function as an Excel worksheet function of the add-in.

    xlwings' decorators see the real signature (on Windows they record what its UDF server
    needs); the function returned also turns every failure into one sentence for the cell.

    ``raw_result``: the function returns a 2-D list already in the form xlwings' conversion
    would hand COM (``""`` for empty cells, UTC-stamped datetimes, see
    ``udfs.excel_result``), declared with xlwings' ``raw`` return converter so the call path
    passes it through untouched: a cached 50,000-row result then costs a lookup, not a
    conversion of every cell on every recalculation (``benchmarks/bench_perf_goals.py``)."""

    def wrap(func: F) -> F:
        params = inspect.signature(func).parameters.values()
        args = tuple(
            ArgumentSpec(p.name, arg_docs.get(p.name, ""), p.default is not inspect.Parameter.empty)
            for p in params
        )
        doc = (inspect.getdoc(func) or "").split("\n", 1)[0]
        spec = FunctionSpec(func.__name__, func.__module__, doc, args, raw_result=raw_result)
        REGISTRY[func.__name__] = spec
        for arg in args:
            func = xw.arg(arg.name, doc=arg.doc)(func)
        if raw_result:
            func = xw.ret(**spec.ret_options)(func)
        func = xw.func(category=CATEGORY, call_in_wizard=False, volatile=False)(func)
        return _sentences_not_tracebacks(func, as_table=raw_result)

    return wrap


def _sentences_not_tracebacks(func: F, as_table: bool = False) -> F:
    """Every failure becomes one cell with one sentence; never a traceback, never the key.
    (``functools.wraps`` copies xlwings' ``__xlfunc__`` metadata onto the wrapper.) With
    ``as_table`` (a raw result) the sentence is a 1x1 table, what xlwings' conversion makes of
    a text result, so Excel gets the same either way."""

    @functools.wraps(func)
    def call(*args: Any) -> Any:
        try:
            return func(*args)
        except SheepError as exc:
            sentence = PREFIX + str(exc)
        except Exception as exc:  # a bug must still read as a sentence in the cell
            log.exception("unexpected error in %s", func.__name__)
            sentence = (
                f"{PREFIX}unexpected {type(exc).__name__} in {func.__name__}: run "
                "'sheep-xl doctor' and report it."
            )
        return [[sentence]] if as_table else sentence

    return call  # type: ignore[return-value]
