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


REGISTRY: dict[str, FunctionSpec] = {}


PREFIX = "SheepCRM: "
log = logging.getLogger(__name__)


def worksheet_function(**arg_docs: str) -> Callable[[F], F]:
    """Mark a Python function as an Excel worksheet function of the add-in.

    xlwings' decorators see the real signature (on Windows they record what its UDF server
    needs); the function returned also turns every failure into one sentence for the cell."""

    def wrap(func: F) -> F:
        params = inspect.signature(func).parameters.values()
        args = tuple(
            ArgumentSpec(p.name, arg_docs.get(p.name, ""), p.default is not inspect.Parameter.empty)
            for p in params
        )
        doc = (inspect.getdoc(func) or "").split("\n", 1)[0]
        REGISTRY[func.__name__] = FunctionSpec(func.__name__, func.__module__, doc, args)
        for arg in args:
            func = xw.arg(arg.name, doc=arg.doc)(func)
        func = xw.func(category=CATEGORY, call_in_wizard=False, volatile=False)(func)
        return _sentences_not_tracebacks(func)

    return wrap


def _sentences_not_tracebacks(func: F) -> F:
    """Every failure becomes one cell with one sentence; never a traceback, never the key.
    (``functools.wraps`` copies xlwings' ``__xlfunc__`` metadata onto the wrapper.)"""

    @functools.wraps(func)
    def call(*args: Any) -> Any:
        try:
            return func(*args)
        except SheepError as exc:
            return PREFIX + str(exc)
        except Exception as exc:  # a bug must still read as a sentence in the cell
            log.exception("unexpected error in %s", func.__name__)
            return (
                f"{PREFIX}unexpected {type(exc).__name__} in {func.__name__}: run "
                "'sheep-xl doctor' and report it."
            )

    return call  # type: ignore[return-value]
