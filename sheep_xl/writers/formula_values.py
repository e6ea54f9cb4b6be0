"""Cached values for formula cells, so a report reads well before anything recalculates.

A formula cell in a workbook file is ``<c><f>SUM(B5:B9)</f><v>42</v></c>``: Excel keeps the
formula *and* its last result. Excel recalculates on open (we set ``fullCalcOnLoad``), but
Protected View (every e-mailed report), file previewers and readers such as python-calamine
never calculate: they show the cached ``<v>``. So after a build or a headless refresh, every
formula cell gets the value Excel would compute from the data just written.

How it works, in three steps:

1. **parse**: openpyxl's ``Tokenizer`` splits a formula into tokens; ``_Parser`` (precedence
   climbing) turns them into a small tree of ``Literal``/``Ref``/``Call``/``Unary``/``Binary``.
2. **evaluate**: ``FormulaEvaluator`` walks the tree with Excel's rules (blanks, text versus
   numbers, booleans, errors that propagate, criteria strings such as ``">="&A5``). A
   reference is an ``Area`` read lazily, so a formula over other formula cells (a summary's
   ``SUM(B5:B9)``, ``COUNTIFS`` over a calculated table column) evaluates them first,
   memoised, with cycle detection. Dates are Excel serial numbers; ``TODAY()`` is the run's
   date passed in, never the wall clock, so builds stay deterministic.
3. **write**: ``write_cached_values`` stores each result (``t="str"`` text, ``t="b"``
   booleans, ``t="e"`` errors, plain numbers).

Anything it does not compute exactly as Excel would raises ``Uncomputable`` and the cell is
left *without* a cached value (a stale one is removed): a blank is better than a wrong number.
That covers unknown functions (the add-in's ``SHEEP_EVENTS``, whatever a person typed),
implicit intersection, whole-column references, text Excel might read as a date, shared
formulas, circular references and the 1900 leap-year bug. Array formulas (``t="array"``,
dynamic arrays marked ``cm``) are left exactly as they are.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Union

from lxml import etree
from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

from sheep_xl.frames.excel_text import unescape_ooxml
from sheep_xl.writers.ooxml import (
    EPOCH_1900,
    EPOCH_1904,
    Box,
    M,
    R,
    TableInfo,
    XlsxPackage,
    cells_with_columns,
    column_letter,
    parse_cell,
    rows_with_numbers,
)
from sheep_xl.writers.sheet_xml import number_text, serial
from sheep_xl.writers.xlsx_refresh import WorkbookEditor

# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class XlError:
    """An Excel error value (``#DIV/0!``, ``#N/A``...): a value like any other."""

    code: str


DIV0, NA, NUM, REF, VALUE = (XlError(c) for c in ("#DIV/0!", "#N/A", "#NUM!", "#REF!", "#VALUE!"))
ERROR_CODES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)

Scalar = Union[float, str, bool, XlError, None]  # None is a blank cell  # noqa: UP007
Matrix = list[list[Scalar]]  # an array computed inside SUMPRODUCT


@dataclass(frozen=True)
class Area:
    """A reference to a rectangle of one worksheet; its cells are read only when needed."""

    part: str
    box: Box

    @property
    def shape(self) -> tuple[int, int]:
        return self.box.bottom - self.box.top + 1, self.box.width


Value = Union[Scalar, Area, Matrix]  # noqa: UP007


class Uncomputable(Exception):
    """Not computed exactly as Excel would: the cell is left without a cached value."""


class FormulaError(Exception):
    """An Excel error on its way up: most operators and functions pass errors on."""

    def __init__(self, error: XlError) -> None:
        super().__init__(error.code)
        self.error = error


def _shape(matrix: Matrix) -> tuple[int, int]:
    return len(matrix), len(matrix[0]) if matrix else 0


def _raise_error(value: Scalar) -> None:
    if isinstance(value, XlError):
        raise FormulaError(value)


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise FormulaError(NUM)
    return number + 0.0  # -0.0 -> 0.0


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")


def _text_to_number(text: str) -> float:
    """Numeric text as Excel reads it; text Excel might read as a date, a time, money or a
    fraction (anything else with a digit in it) is not guessed at."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        if stripped.endswith("%"):
            return float(stripped[:-1]) / 100
        return float(stripped)
    if any(ch.isdigit() for ch in stripped):
        raise Uncomputable(f"text {text!r} that Excel may read as a number or date")
    raise FormulaError(VALUE)


def _number(value: Scalar) -> float:
    """A value as an operator sees it: blank is 0, TRUE is 1, numeric text is read."""
    _raise_error(value)
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        return value
    return _text_to_number(str(value))


def _number_as_text(number: float) -> str:
    """Excel's General format as ``&`` and ``LEN`` use it (15 significant digits)."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.15g}"
    if "e" in text:
        raise Uncomputable("a number Excel would write in scientific notation")
    return text


def _text(value: Scalar) -> str:
    _raise_error(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _number_as_text(value)
    return str(value)


def _logical(value: Scalar) -> bool:
    _raise_error(value)
    if isinstance(value, str):
        raise Uncomputable("text used as TRUE/FALSE")
    return bool(value)


def _same_number(a: float, b: float) -> bool:
    """Excel compares to about 15 significant digits: 0.1+0.2=0.3 is TRUE."""
    return a == b or math.isclose(a, b, rel_tol=1e-15, abs_tol=0.0)


_ORDERABLE_TEXT = re.compile(r"[A-Za-z0-9 ]*")


def _compare_text(a: str, b: str) -> int:
    """Case-insensitive order; only for plain letters, digits and spaces, where Excel's
    collation and code-point order agree."""
    a, b = a.casefold(), b.casefold()
    if a == b:
        return 0
    if not (_ORDERABLE_TEXT.fullmatch(a) and _ORDERABLE_TEXT.fullmatch(b)):
        raise Uncomputable("ordering text with punctuation (Excel's collation)")
    return -1 if a < b else 1


def _compare(a: Scalar, b: Scalar) -> int:
    """-1, 0 or 1 in Excel's order: numbers < text < FALSE < TRUE; a blank is 0, "" or FALSE."""
    _raise_error(a)
    _raise_error(b)
    blank_as: dict[type, Scalar] = {float: 0.0, str: "", bool: False}
    if a is None and b is None:
        return 0
    if a is None:
        a = blank_as[type(b)]
    if b is None:
        b = blank_as[type(a)]
    rank = {float: 0, str: 1, bool: 2}
    if type(a) is not type(b):
        return -1 if rank[type(a)] < rank[type(b)] else 1
    if isinstance(a, str):
        return _compare_text(a, str(b))
    if isinstance(a, float) and _same_number(a, float(b)):  # type: ignore[arg-type]
        return 0
    return -1 if a < b else (1 if a > b else 0)  # type: ignore[operator]


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "<>": lambda c: c != 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def _power(x: float, y: float) -> float:
    if x == 0 and y == 0:
        raise FormulaError(NUM)
    if x == 0 and y < 0:
        raise FormulaError(DIV0)
    if x < 0 and not y.is_integer():
        raise FormulaError(NUM)
    try:
        return _finite(x**y)
    except OverflowError:
        raise FormulaError(NUM) from None


def _divide(x: float, y: float) -> float:
    if y == 0:
        raise FormulaError(DIV0)
    return _finite(x / y)


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda x, y: _finite(x + y),
    "-": lambda x, y: _finite(x - y),
    "*": lambda x, y: _finite(x * y),
    "/": _divide,
    "^": _power,
}


def _binary(op: str, a: Scalar, b: Scalar, final: bool = False) -> Scalar:
    """``a op b``; ``final`` for a formula's last operation, where Excel turns an addition or
    subtraction that cancels out (``=0.5-0.4-0.1``, a total minus its parts) into exactly 0."""
    if op in _ARITHMETIC:
        x = _number(a)  # the left operand's error wins, as in Excel
        y = _number(b)
        if final and op in ("+", "-") and _same_number(x, y if op == "-" else -y):
            return 0.0
        return _ARITHMETIC[op](x, y)
    if op == "&":
        left = _text(a)
        return left + _text(b)
    if op in ("=", "<>") and isinstance(a, str | None) and isinstance(b, str | None):
        if a is None or b is None:  # a blank is "" next to text
            a, b = a or "", b or ""
        same = _same_text(a, b)
        if same is None:
            raise Uncomputable("texts Excel may or may not find equal")
        return same == (op == "=")
    return _COMPARISONS[op](_compare(a, b))


def _same_text(a: str, b: str) -> bool | None:
    """Whether Excel's ``=`` finds two texts equal, which needs no collation: it ignores letter
    case (and the form, composed or not, of accented letters) and nothing else. None where that
    is not certain: texts with invisible format characters, or equal only under full case
    folding (``ß`` and ``ss``)."""
    if a.lower() == b.lower():
        return True
    if not a or not b or (a.isascii() and b.isascii()):
        return False
    if any(unicodedata.category(ch) in ("Cf", "Cc") for ch in a + b):
        return None
    a, b = unicodedata.normalize("NFC", a), unicodedata.normalize("NFC", b)
    if a.lower() == b.lower():
        return True
    return None if a.casefold() == b.casefold() else False


def _unary(op: str, a: Scalar) -> Scalar:
    if op == "+":
        return a  # Excel's unary plus changes nothing, not even text
    if op == "-":
        return _finite(-_number(a))
    return _number(a) / 100  # "%"


def _wildcard(pattern: str) -> re.Pattern[str]:
    """Excel's ``*``, ``?`` and ``~`` escapes as a case-insensitive regular expression."""
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "~":
            out.append(re.escape(next(chars, "~")))
        elif ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


# --- criteria (COUNTIFS, SUMIFS) -----------------------------------------------------------------

_CRITERIA_OPERATORS = ("<=", ">=", "<>", "<", ">", "=")


@dataclass(frozen=True)
class Criterion:
    """One COUNTIFS/SUMIFS condition, read as Excel reads ``">=0.9"``, ``"<>TRUE"`` or ``5``.

    ``operator`` is ``""`` when the text had none (then ``""`` matches blanks and empty text,
    while ``"="`` matches blanks only); ``operand`` None is the empty operand."""

    operator: str
    operand: float | str | bool | None

    @classmethod
    def parse(cls, value: Scalar) -> Criterion:
        if isinstance(value, XlError):
            raise Uncomputable("an error value as a criterion")
        if value is None:
            return cls("=", 0.0)  # a blank criterion cell counts as 0 (Excel's rule)
        if isinstance(value, (bool, float)):
            return cls("=", value)
        operator = next((o for o in _CRITERIA_OPERATORS if value.startswith(o)), "")
        rest = value[len(operator) :]
        if rest == "":
            if operator not in ("", "=", "<>"):
                raise Uncomputable(f"criterion {value!r}")
            return cls(operator, None)
        if rest.strip().upper() in ("TRUE", "FALSE"):
            return cls(operator, rest.strip().upper() == "TRUE")
        if rest.strip().upper() in ERROR_CODES:
            raise Uncomputable("an error as a criterion")
        if _NUMBER.fullmatch(rest.strip()):
            return cls(operator, _text_to_number(rest))
        if any(ch.isdigit() for ch in rest) and not _plainly_text(rest):
            raise Uncomputable(f"criterion {value!r} that Excel may read as a date or number")
        return cls(operator, rest)

    @property
    def indexable(self) -> bool:
        """Plain text equality (no wildcards), which `_TextIndex` answers without a scan."""
        operand = self.operand
        return (
            self.operator in ("", "=")
            and isinstance(operand, str)
            and operand.isascii()
            and not any(ch in operand for ch in "*?~")
        )

    def matches(self, cell: Scalar) -> bool:
        if isinstance(cell, XlError):
            raise Uncomputable("an error value in a criteria range")
        if isinstance(cell, str) and (_NUMBER.fullmatch(cell.strip()) or cell.upper() in _BOOLS):
            raise Uncomputable("numbers or TRUE/FALSE stored as text in a criteria range")
        operator = self.operator or "="
        if self.operand is None:
            if operator == "<>":
                return cell is not None
            return cell is None or (self.operator == "" and cell == "")
        if operator in ("=", "<>"):
            return self._equal(cell) == (operator == "=")
        return self._ordered(operator, cell)

    def _equal(self, cell: Scalar) -> bool:
        operand = self.operand
        if isinstance(operand, bool):
            return isinstance(cell, bool) and cell == operand
        if isinstance(operand, float):
            return isinstance(cell, float) and _same_number(cell, operand)
        return isinstance(cell, str) and bool(_wildcard(str(operand)).fullmatch(cell))

    def _ordered(self, operator: str, cell: Scalar) -> bool:
        operand = self.operand
        if isinstance(operand, bool):
            raise Uncomputable("ordering TRUE/FALSE in a criterion")
        same_kind = isinstance(cell, float) if isinstance(operand, float) else isinstance(cell, str)
        return same_kind and _COMPARISONS[operator](_compare(cell, operand))


_BOOLS = ("TRUE", "FALSE")

# Text with digits that Excel cannot read as a number, date or time, so a criterion holding it
# is plain text: a sheepCRM uid (one word of 12 or more ASCII letters and digits with at least two
# runs of letters, e.g. 2bb96d6b308e1412b04361b0: no date, time or number is written so) and a
# sheepCRM URI (/example/person/6305f074683e800f3abe809e/: slashes around words, one of them
# four letters or more that is no month's name, so no date). Anything else with a digit in it
# is still not guessed at.
_UID_LIKE = re.compile(r"[A-Za-z0-9]{12,}")
_URI_LIKE = re.compile(r"/(?:[A-Za-z0-9_-]+/)+")
_MONTHS = frozenset(
    {
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "sept", "october", "november", "december"),
    }
)


def _plainly_text(text: str) -> bool:
    if _UID_LIKE.fullmatch(text):
        return len(re.findall(r"[A-Za-z]+", text)) >= 2
    if _URI_LIKE.fullmatch(text):
        words = re.findall(r"[A-Za-z]{4,}", text)
        return any(word.lower() not in _MONTHS for word in words)
    return False


class _TextIndex:
    """Where each text of a range is, for COUNTIFS and SUMIFS with many plain-text criteria
    (a calculated column over a table of thousands of rows): ASCII text by its lower case,
    other text kept aside and matched as `Criterion` matches it. Built only for a range that
    holds nothing `Criterion.matches` refuses (errors, numbers or TRUE/FALSE stored as text),
    so the answers are exactly the scan's."""

    def __init__(self, grid: Matrix) -> None:
        self.positions: dict[str, list[int]] = {}
        self.others: list[tuple[int, str]] = []
        width = len(grid[0]) if grid else 0
        self.usable = True
        for r, row in enumerate(grid):
            for c, cell in enumerate(row):
                if isinstance(cell, XlError):
                    self.usable = False
                    return
                if not isinstance(cell, str):
                    continue
                if _NUMBER.fullmatch(cell.strip()) or cell.upper() in _BOOLS:
                    self.usable = False
                    return
                position = r * width + c
                if cell.isascii():
                    self.positions.setdefault(cell.lower(), []).append(position)
                else:
                    self.others.append((position, cell))

    def find(self, operand: str) -> list[int]:
        """Positions (row-major) of the cells equal to ``operand`` (ASCII, no wildcards)."""
        found = self.positions.get(operand.lower(), [])
        if self.others:
            pattern = _wildcard(operand)
            extra = [p for p, cell in self.others if pattern.fullmatch(cell)]
            if extra:
                return sorted(found + extra)
        return found


# --- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Scalar


@dataclass(frozen=True)
class Ref:
    """A cell, range, structured reference (``Table[Column]``) or defined name, as written."""

    text: str


@dataclass(frozen=True)
class Missing:
    """An empty argument, as in ``IF(A1,,0)``."""


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "+" or "%"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Union[Literal, Ref, Missing, Call, Unary, Binary]  # noqa: UP007

# Excel's precedence, loosest first; prefix minus binds tighter than ^ (=-2^2 is 4).
_INFIX_POWER = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2}
_INFIX_POWER |= {"+": 3, "-": 3, "*": 4, "/": 4, "^": 5}
_PREFIX_POWER = 6


def parse_formula(text: str) -> Node:
    """The tree of a formula as stored in ``<f>`` (with or without the leading ``=``)."""
    try:
        tokens = Tokenizer("=" + text.removeprefix("=")).items
    except TokenizerError as exc:
        raise Uncomputable(f"cannot parse the formula ({exc})") from None
    # Whitespace is dropped; where it was Excel's intersection operator, the parser then finds
    # two operands in a row and gives up, which is what we want.
    parser = _Parser([t for t in tokens if t.type != Token.WSPACE])
    node = parser.expression(0)
    if parser.peek() is not None:
        raise Uncomputable(f"unexpected {parser.peek().value!r} in the formula")  # type: ignore[union-attr]
    return node


class _Parser:
    """Precedence climbing over openpyxl's tokens."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise Uncomputable("the formula ends too early")
        self.pos += 1
        return token

    def expression(self, min_power: int) -> Node:
        left = self.primary()
        while (token := self.peek()) is not None:
            if token.type == Token.OP_POST:  # "%" binds tightest of all
                self.pos += 1
                left = Unary("%", left)
                continue
            power = _INFIX_POWER.get(token.value) if token.type == Token.OP_IN else None
            if power is None or power < min_power:
                break
            self.pos += 1
            left = Binary(token.value, left, self.expression(power + 1))  # left-associative
        return left

    def primary(self) -> Node:
        token = self.take()
        if token.type == Token.OP_PRE:
            return Unary(token.value, self.expression(_PREFIX_POWER))
        if token.type == Token.OPERAND:
            return _operand(token)
        if token.type == Token.PAREN and token.subtype == Token.OPEN:
            node = self.expression(0)
            closing = self.take()
            if closing.type != Token.PAREN:
                raise Uncomputable("a union of references")
            return node
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            return Call(token.value[:-1].upper(), self.arguments())
        raise Uncomputable(f"{token.value!r} (array constants and the like)")

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        token = self.peek()
        if token is not None and token.type == Token.FUNC and token.subtype == Token.CLOSE:
            self.pos += 1
            return ()
        while True:
            token = self.peek()
            ends_argument = token is not None and (
                token.type == Token.SEP or (token.type == Token.FUNC and token.subtype == "CLOSE")
            )
            args.append(Missing() if ends_argument else self.expression(0))
            token = self.take()
            if token.type == Token.FUNC and token.subtype == Token.CLOSE:
                return tuple(args)
            if token.type != Token.SEP or token.subtype != Token.ARG:
                raise Uncomputable(f"unexpected {token.value!r} in a function's arguments")


def _operand(token: Token) -> Node:
    text = token.value
    if token.subtype == Token.NUMBER:
        return Literal(float(text))
    if token.subtype == Token.TEXT:
        return Literal(text[1:-1].replace('""', '"'))
    if token.subtype == Token.LOGICAL:
        return Literal(text.upper() == "TRUE")
    if token.subtype == Token.ERROR:
        if text.upper() not in ERROR_CODES:
            raise Uncomputable(f"unknown error {text}")
        return Literal(XlError(text.upper()))
    return Ref(text)


# --- references ---------------------------------------------------------------------------------

_A1_REF = re.compile(
    r"(?:(?P<sheet>'(?:[^']|'')+'|[^'!:\[\]\s]+)!)?"
    r"(?P<area>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)"
)
_ABSOLUTE = re.compile(r"\$[A-Za-z]{1,3}\$\d+(?::\$[A-Za-z]{1,3}\$\d+)?")
_STRUCTURED_REF = re.compile(r"(?P<table>[^\[\]]*)(?P<spec>\[.*\])", re.DOTALL)
_STRUCTURED_ITEM = re.compile(r"\s*\[((?:'.|[^'\]])*)\]\s*([,:]?)", re.DOTALL)


def _unescape(name: str) -> str:
    """Structured references escape ``[``, ``]``, ``#`` and ``'`` with a ``'``."""
    return re.sub(r"'(.)", r"\1", name, flags=re.DOTALL)


def _structured_parts(spec: str) -> tuple[list[str], list[str], bool]:
    """``[[#This Row],[Tickets]]`` -> (specials ``["#This Row"]``, columns ``["Tickets"]``,
    whether the columns are a span ``[A]:[B]``); ``[Tickets]`` -> ([], ["Tickets"], False)."""
    inner = spec[1:-1]
    if not inner.lstrip().startswith("["):
        items, separators = [_unescape(inner)] if inner else [], [""]
    else:
        items, separators, pos = [], [], 0
        while pos < len(inner):
            match = _STRUCTURED_ITEM.match(inner, pos)
            if match is None:
                raise Uncomputable(f"structured reference {spec}")
            items.append(_unescape(match.group(1)))
            separators.append(match.group(2))
            pos = match.end()
    specials = [i.strip() for i in items if i.strip().startswith("#")]
    columns = [i for i in items if not i.strip().startswith("#")]
    return specials, columns, ":" in separators


@dataclass(frozen=True)
class _Table:
    info: TableInfo
    columns: list[str]  # column titles, in order

    def column(self, title: str) -> int:
        for offset, name in enumerate(self.columns):
            if name.casefold() == title.casefold():
                return self.info.box.left + offset
        raise Uncomputable(f"table {self.info.name} has no column {title!r}")


@dataclass(frozen=True)
class _Here:
    """The formula cell being evaluated (for ``[#This Row]`` and unqualified references)."""

    part: str
    row: int
    col: int


# --- the evaluator ------------------------------------------------------------------------------

_Function = Callable[[tuple[Node, ...], _Here, bool], Value]


class FormulaEvaluator:
    """Evaluates the formulas of one workbook package with Excel's rules.

    ``today`` is what ``TODAY()`` returns (None: formulas using it stay uncached). Results are
    memoised per cell; a cell met again while it is being evaluated is a circular reference.
    Pass the ``WorkbookEditor`` that edited the package to share its reading of cells."""

    def __init__(
        self,
        package: XlsxPackage,
        today: dt.date | None = None,
        *,
        editor: WorkbookEditor | None = None,
    ) -> None:
        self.package = package
        self.editor = editor or WorkbookEditor(package)
        self.today = today
        self.date1904 = package.date1904
        self._sheet_parts = {name.casefold(): part for name, part in package.sheets()}
        self._tables: dict[str, _Table] = {}
        for info in self.editor.tables():
            columns = package.xml(info.table_part).iter(f"{M}tableColumn")
            names = [unescape_ooxml(c.get("name", "")) for c in columns]  # as Excel shows them
            self._tables[info.name.casefold()] = _Table(info, names)
        self._names, self._sheet_index = self._read_names()
        self._cell_index: dict[str, dict[tuple[int, int], etree._Element]] = {}
        self._parsed: dict[str, Node] = {}
        self._results: dict[tuple[str, int, int], Scalar] = {}
        self._failures: dict[tuple[str, int, int], str] = {}
        self._pending: set[tuple[str, int, int] | str] = set()
        self._areas: dict[Area, Matrix] = {}
        self._indexes: dict[Area, _TextIndex] = {}
        self._functions: dict[str, _Function] = {
            "AND": partial(self._fn_and_or, all),
            "OR": partial(self._fn_and_or, any),
            "AVERAGE": partial(self._fn_aggregate, _average),
            "COUNT": self._fn_count,
            "COUNTA": self._fn_counta,
            "COUNTIFS": self._fn_countifs,
            "DATE": self._fn_date,
            "DAY": partial(self._fn_date_part, "day"),
            "MONTH": partial(self._fn_date_part, "month"),
            "YEAR": partial(self._fn_date_part, "year"),
            "EDATE": partial(self._fn_edate, False),
            "EOMONTH": partial(self._fn_edate, True),
            "IF": self._fn_if,
            "IFERROR": self._fn_iferror,
            "INDEX": self._fn_index,
            "ISBLANK": self._fn_isblank,
            "ISNUMBER": self._fn_isnumber,
            "LEN": self._fn_len,
            "LOWER": partial(self._fn_case, str.lower),
            "UPPER": partial(self._fn_case, str.upper),
            "MATCH": self._fn_match,
            "MAX": partial(self._fn_aggregate, lambda xs: max(xs, default=0.0)),
            "MIN": partial(self._fn_aggregate, lambda xs: min(xs, default=0.0)),
            "N": self._fn_n,
            "NOT": self._fn_not,
            "ROUND": self._fn_round,
            "ROW": self._fn_row,
            "ROWS": self._fn_rows,
            "SUM": partial(self._fn_aggregate, sum),
            "SUMIFS": self._fn_sumifs,
            "SUMPRODUCT": self._fn_sumproduct,
            "TODAY": self._fn_today,
        }

    # --- public ---------------------------------------------------------------------------

    def value(self, sheet: str, ref: str) -> Scalar:
        """A cell's value as formulas see it (formula cells are computed); may raise
        ``Uncomputable``."""
        row, col = parse_cell(ref)
        return self._cell(self._sheet_part(sheet, None), row, col)

    def evaluate(self, formula: str, sheet: str, ref: str = "A1") -> Scalar:
        """What ``formula`` would show if typed into ``sheet!ref``; may raise ``Uncomputable``."""
        row, col = parse_cell(ref)
        here = _Here(self._sheet_part(sheet, None), row, col)
        return self._root(self._parse(formula), here)

    def formula_cells(self, part: str) -> Iterator[tuple[int, int, etree._Element]]:
        """(row, column, ``<c>``) of every cell of a worksheet part that holds a formula."""
        for (row, col), cell in self._cells(part).items():
            if cell.find(f"{M}f") is not None:
                yield row, col, cell

    def formula_value(self, part: str, row: int, col: int) -> Scalar:
        """The computed value of the formula cell at ``row``, ``col`` of a worksheet part."""
        return self._cell(part, row, col)

    # --- cells ----------------------------------------------------------------------------

    def _cells(self, part: str) -> dict[tuple[int, int], etree._Element]:
        cells = self._cell_index.get(part)
        if cells is None:
            cells = {}
            sheet_data = self.package.xml(part).find(f"{M}sheetData")
            if sheet_data is not None:
                for row_number, row in rows_with_numbers(sheet_data):
                    for col, cell in cells_with_columns(row):
                        cells[(row_number, col)] = cell
            self._cell_index[part] = cells
        return cells

    def _cell(self, part: str, row: int, col: int) -> Scalar:
        cell = self._cells(part).get((row, col))
        if cell is None:
            return None
        if cell.find(f"{M}f") is not None:
            return self._formula_cell(cell, _Here(part, row, col))
        return self._stored(cell)

    def _stored(self, cell: etree._Element) -> Scalar:
        """A constant cell's value; numbers (dates too) stay serial numbers, as formulas see."""
        kind = cell.get("t", "n")
        v = cell.find(f"{M}v")
        if kind == "n":
            return float(v.text) if v is not None and v.text else None
        if kind == "e":
            code = (v.text or "").strip() if v is not None else ""
            if code not in ERROR_CODES:
                raise Uncomputable(f"unknown error value {code!r}")
            return XlError(code)
        value = self.editor.cells.value(cell)  # shared and inline strings, booleans, ISO dates
        if isinstance(value, dt.datetime):
            return float(serial(value, self.date1904))
        return value

    def _formula_cell(self, cell: etree._Element, here: _Here) -> Scalar:
        key = (here.part, here.row, here.col)
        if key in self._results:
            return self._results[key]
        if key in self._failures:
            raise Uncomputable(self._failures[key])
        if key in self._pending:
            raise Uncomputable("a circular reference")
        self._pending.add(key)
        try:
            result = self._compute(cell, here)
        except Uncomputable as exc:
            self._failures[key] = str(exc)
            raise
        except RecursionError:
            self._failures[key] = "formulas nested too deep"
            raise Uncomputable(self._failures[key]) from None
        finally:
            self._pending.discard(key)
        self._results[key] = result
        return result

    def _compute(self, cell: etree._Element, here: _Here) -> Scalar:
        formula = cell.find(f"{M}f")
        assert formula is not None
        if _is_array_formula(cell):
            raise Uncomputable("an array formula (left as it is)")
        if not formula.text:
            raise Uncomputable("a shared formula")
        return self._root(self._parse(formula.text), here)

    def _root(self, node: Node, here: _Here) -> Scalar:
        """A whole formula's value, as its cell shows it."""
        try:
            if isinstance(node, Binary) and node.op in ("+", "-"):
                final = partial(_binary, node.op, final=True)
                return self._result(self._elementwise(final, (node.left, node.right), here, False))
            return self._result(self._eval(node, here, False))
        except FormulaError as exc:
            return exc.error

    def _parse(self, text: str) -> Node:
        node = self._parsed.get(text)
        if node is None:  # calculated columns repeat one formula on every row: parse it once
            node = self._parsed[text] = parse_formula(text)
        return node

    def _result(self, value: Value) -> Scalar:
        """What a cell shows for a formula's value: one value (a blank shows as 0)."""
        if isinstance(value, Area):
            if value.shape != (1, 1):
                raise Uncomputable("a range where Excel would spill or intersect implicitly")
            value = self._cell(value.part, value.box.top, value.box.left)
        elif isinstance(value, list):
            if _shape(value) != (1, 1):
                raise Uncomputable("an array where Excel would spill")
            value = value[0][0]
        if value is None:
            return 0.0
        if isinstance(value, float):
            return _finite(value)
        return value

    def _area_values(self, area: Area) -> Matrix:
        values = self._areas.get(area)
        if values is None:
            box = area.box
            values = [
                [self._cell(area.part, r, c) for c in range(box.left, box.right + 1)]
                for r in range(box.top, box.bottom + 1)
            ]
            self._areas[area] = values
        return values

    # --- references -----------------------------------------------------------------------

    def _sheet_part(self, sheet: str | None, here: _Here | None) -> str:
        if sheet is None:
            assert here is not None
            return here.part
        name = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
        part = self._sheet_parts.get(name.casefold())
        if part is None:
            raise Uncomputable(f"no sheet named {name!r}")
        return part

    def _reference(self, text: str, here: _Here, arrays: bool) -> Value:
        if "#REF!" in text.upper():
            raise FormulaError(REF)
        match = _A1_REF.fullmatch(text)
        if match:
            return Area(self._sheet_part(match.group("sheet"), here), Box.parse(match["area"]))
        match = _STRUCTURED_REF.fullmatch(text)
        if match:
            return self._structured(match.group("table"), match.group("spec"), here)
        table = self._tables.get(text.casefold())
        if table is not None:  # a table's name alone is its data
            return self._structured(text, "[]", here)
        return self._defined_name(text, here, arrays)

    def _structured(self, table_name: str, spec: str, here: _Here) -> Area:
        table = self._tables.get(table_name.casefold())
        if table is None:
            raise Uncomputable(f"no table named {table_name!r}")
        info = table.info
        specials, columns, span = _structured_parts(spec)
        if len(columns) > 2 or (len(columns) == 2 and not span) or len(specials) > 1:
            raise Uncomputable(f"structured reference {spec}")
        indexes = [table.column(c) for c in columns] or [info.box.left, info.box.right]
        special = specials[0].casefold() if specials else "#data"
        if special == "#data":
            top, bottom = info.body_top, info.body_bottom
        elif special == "#all":
            top, bottom = info.box.top, info.box.bottom
        elif special == "#headers" and info.header_rows:
            top = bottom = info.box.top
        elif special == "#totals" and info.totals_rows:
            top = bottom = info.box.bottom
        elif special == "#this row":
            if here.part != info.sheet_part or not info.body_top <= here.row <= info.body_bottom:
                raise FormulaError(VALUE)
            top = bottom = here.row
        elif special in ("#headers", "#totals"):
            raise FormulaError(REF)
        else:
            raise Uncomputable(f"structured reference {spec}")
        return Area(info.sheet_part, Box(top, min(indexes), bottom, max(indexes)))

    def _read_names(self) -> tuple[dict[tuple[str, int | None], str], dict[str, int]]:
        """Defined names by (name, local sheet index or None); each worksheet's index."""
        workbook = self.package.xml(self.package.workbook_part)
        rels = {r.id: r.part for r in self.package.relationships(self.package.workbook_part)}
        sheet_index = {
            rels.get(sheet.get(f"{R}id", ""), ""): index
            for index, sheet in enumerate(workbook.iter(f"{M}sheet"))
        }
        names = {}
        for node in workbook.iter(f"{M}definedName"):
            local = node.get("localSheetId")
            key = (node.get("name", "").casefold(), int(local) if local is not None else None)
            names[key] = node.text or ""
        return names, sheet_index

    def _defined_name(self, name: str, here: _Here, arrays: bool) -> Value:
        local = (name.casefold(), self._sheet_index.get(here.part))
        key = local if local in self._names else (name.casefold(), None)
        text = self._names.get(key)
        if text is None:
            raise Uncomputable(f"unknown name {name!r}")
        node = self._parse(text)
        if _relative_reference(node):
            raise Uncomputable(f"name {name!r} refers relatively")
        pending = f"name:{key}"
        if pending in self._pending:
            raise Uncomputable(f"name {name!r} refers to itself")
        self._pending.add(pending)
        try:
            return self._eval(node, here, arrays)
        finally:
            self._pending.discard(pending)

    # --- evaluation -----------------------------------------------------------------------

    def _eval(self, node: Node, here: _Here, arrays: bool) -> Value:
        """A node's value: a scalar, an ``Area`` (references stay references, so functions
        like ROWS or ISBLANK see them) or, inside SUMPRODUCT (``arrays``), a matrix."""
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Ref):
            return self._reference(node.text, here, arrays)
        if isinstance(node, Call):
            function = self._functions.get(node.name)
            if function is None:
                raise Uncomputable(f"function {node.name} is not evaluated here")
            return function(node.args, here, arrays)
        if isinstance(node, Unary):
            return self._elementwise(partial(_unary, node.op), (node.operand,), here, arrays)
        if isinstance(node, Binary):
            operands = (node.left, node.right)
            return self._elementwise(partial(_binary, node.op), operands, here, arrays)
        raise Uncomputable("an empty argument")

    def _operand(self, node: Node, here: _Here, arrays: bool) -> Scalar | Matrix:
        """A node's value for an operator: one value, or a matrix inside SUMPRODUCT. A range
        elsewhere would be Excel's implicit intersection, which we do not guess at."""
        value = self._eval(node, here, arrays)
        if isinstance(value, Area):
            if value.shape == (1, 1):
                return self._cell(value.part, value.box.top, value.box.left)
            if not arrays:
                raise Uncomputable("a range where Excel would intersect implicitly")
            return self._area_values(value)
        if isinstance(value, list):
            if _shape(value) == (1, 1):
                return value[0][0]
            if not arrays:
                raise Uncomputable("an array outside SUMPRODUCT")
        return value

    def _error_as_value(self, node: Node, here: _Here, arrays: bool) -> Scalar | Matrix:
        """An operand whose error is kept as a value, so the leftmost error wins."""
        try:
            return self._operand(node, here, arrays)
        except FormulaError as exc:
            return exc.error

    def _scalar(self, node: Node, here: _Here) -> Scalar:
        value = self._operand(node, here, False)
        assert not isinstance(value, list)
        return value

    def _elementwise(
        self, op: Callable[..., Scalar], nodes: Sequence[Node], here: _Here, arrays: bool
    ) -> Scalar | Matrix:
        operands = [self._error_as_value(n, here, arrays) for n in nodes]
        grids = [o for o in operands if isinstance(o, list)]
        if not grids:
            return op(*operands)
        rows, cols = _shape(grids[0])
        if any(_shape(g) != (rows, cols) for g in grids):
            raise Uncomputable("arrays of different sizes")

        def at(r: int, c: int) -> Scalar:
            args = [o[r][c] if isinstance(o, list) else o for o in operands]
            try:
                return op(*args)
            except FormulaError as exc:  # an error stays in its own element
                return exc.error

        return [[at(r, c) for c in range(cols)] for r in range(rows)]

    def _grid(self, node: Node, here: _Here, arrays: bool) -> Matrix:
        value = self._eval(node, here, arrays)
        if isinstance(value, Area):
            return self._area_values(value)
        if isinstance(value, list):
            return value
        return [[value]]

    def _area(self, node: Node, here: _Here) -> Area:
        value = self._eval(node, here, False)
        if not isinstance(value, Area):
            raise Uncomputable("a value where Excel needs a range")
        return value

    def _arguments(self, args: Sequence[Node], here: _Here) -> Iterator[tuple[Scalar, bool]]:
        """(value, came from a range) for aggregate functions: ranges count only numbers,
        values typed as arguments are converted."""
        for arg in args:
            try:
                value = self._eval(arg, here, False)
            except FormulaError as exc:
                yield exc.error, False
                continue
            if isinstance(value, (Area, list)):
                for row in self._area_values(value) if isinstance(value, Area) else value:
                    for item in row:
                        yield item, True
            else:
                yield value, False

    def _integer(self, node: Node, here: _Here) -> int:
        return math.trunc(_number(self._scalar(node, here)))

    # --- dates ----------------------------------------------------------------------------

    def _date(self, number: float) -> dt.date:
        days = math.floor(number)
        if days < 0:
            raise FormulaError(NUM)
        if not self.date1904 and days < 61:
            raise Uncomputable("a date before March 1900 (Excel's leap-year bug)")
        epoch = (EPOCH_1904 if self.date1904 else EPOCH_1900).date()
        try:
            return epoch + dt.timedelta(days=days)
        except OverflowError:
            raise FormulaError(NUM) from None

    def _serial(self, date: dt.date) -> float:
        if not self.date1904 and date < dt.date(1900, 3, 1):
            raise Uncomputable("a date before March 1900 (Excel's leap-year bug)")
        return float(serial(date, self.date1904))

    def _month_start(self, year: int, month: int) -> dt.date:
        """The first day of ``month`` months after January of ``year`` (months may overflow)."""
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        if not 1900 <= year <= 9999:
            raise FormulaError(NUM)
        return dt.date(year, month, 1)

    def _fn_today(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        if args:
            raise Uncomputable("TODAY takes no arguments")
        if self.today is None:
            raise Uncomputable("TODAY() without the run's date")
        return self._serial(self.today)

    def _fn_date(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        year, month, day = (self._integer(a, here) for a in _exactly(args, 3))
        if 0 <= year < 1900:
            year += 1900  # Excel's rule: DATE(26,1,1) is 1926
        if not 1900 <= year <= 9999:
            raise FormulaError(NUM)
        try:
            date = self._month_start(year, month) + dt.timedelta(days=day - 1)
        except OverflowError:
            raise FormulaError(NUM) from None
        return self._serial(date)

    def _fn_date_part(self, part: str, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        """YEAR, MONTH and DAY (``part`` is the ``dt.date`` attribute)."""
        (arg,) = _exactly(args, 1)
        date = self._date(_number(self._scalar(arg, here)))
        return float(getattr(date, part))

    def _fn_edate(
        self, month_end: bool, args: tuple[Node, ...], here: _Here, arrays: bool
    ) -> Value:
        """EDATE (same day, clamped to the month's length) and EOMONTH (the month's last day)."""
        start_node, months_node = _exactly(args, 2)
        start = self._date(_number(self._scalar(start_node, here)))
        first = self._month_start(start.year, start.month + self._integer(months_node, here))
        last_day = calendar.monthrange(first.year, first.month)[1]
        return self._serial(first.replace(day=last_day if month_end else min(start.day, last_day)))

    # --- logic ----------------------------------------------------------------------------

    def _fn_if(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        if not 1 <= len(args) <= 3:
            raise Uncomputable("IF takes one to three arguments")
        chosen = args[1] if _logical(self._scalar(args[0], here)) else None
        if chosen is None:
            if len(args) < 3:
                return False
            chosen = args[2]
        if isinstance(chosen, Missing):
            return 0.0  # IF(A1,,x): an empty branch is 0
        return self._eval(chosen, here, arrays)  # only the chosen branch is evaluated

    def _fn_iferror(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        value_node, fallback = _exactly(args, 2)
        try:
            value = self._operand(value_node, here, arrays)
        except FormulaError:
            return self._operand(fallback, here, arrays)
        if isinstance(value, list):
            alternative = self._scalar(fallback, here)
            return [[alternative if isinstance(v, XlError) else v for v in row] for row in value]
        if isinstance(value, XlError):
            return self._operand(fallback, here, arrays)
        return 0.0 if value is None else value

    def _fn_and_or(
        self,
        combine: Callable[[list[bool]], bool],
        args: tuple[Node, ...],
        here: _Here,
        arrays: bool,
    ) -> Value:
        """AND (``all``) and OR (``any``): ranges give their TRUE/FALSE and numbers (text and
        blanks in them are skipped); no logical value at all is #VALUE!."""
        flags = []
        for value, from_range in self._arguments(args, here):
            _raise_error(value)
            if isinstance(value, (bool, float)):
                flags.append(bool(value))
            elif not from_range:
                raise Uncomputable("text or an empty argument in AND/OR")
        if not flags:
            raise FormulaError(VALUE)
        return combine(flags)

    def _fn_not(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        (arg,) = _exactly(args, 1)
        return not _logical(self._scalar(arg, here))

    def _fn_isblank(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        (arg,) = _exactly(args, 1)
        try:
            value = self._eval(arg, here, False)
        except FormulaError:
            return False
        if isinstance(value, Area):
            if value.shape != (1, 1):
                raise Uncomputable("ISBLANK of a range")
            return self._cell(value.part, value.box.top, value.box.left) is None
        return False  # a value typed or computed is never blank

    def _fn_isnumber(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        (arg,) = _exactly(args, 1)
        try:
            return isinstance(self._scalar(arg, here), float)
        except FormulaError:
            return False

    def _fn_n(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        (arg,) = _exactly(args, 1)
        value = self._scalar(arg, here)
        _raise_error(value)
        if isinstance(value, bool):
            return float(value)
        return value if isinstance(value, float) else 0.0  # text and blanks are 0

    # --- text and numbers -----------------------------------------------------------------

    def _fn_len(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        (arg,) = _exactly(args, 1)
        return float(len(_text(self._scalar(arg, here))))

    def _fn_case(
        self, change: Callable[[str], str], args: tuple[Node, ...], here: _Here, arrays: bool
    ) -> Value:
        """UPPER and LOWER, for ASCII text (Excel's rules for other letters are its own)."""
        (arg,) = _exactly(args, 1)
        text = _text(self._scalar(arg, here))
        if not text.isascii():
            raise Uncomputable("UPPER/LOWER of text beyond ASCII")
        return change(text)

    def _fn_round(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        number_node, digits_node = _exactly(args, 2)
        number = _number(self._scalar(number_node, here))
        digits = self._integer(digits_node, here)
        try:  # half away from zero on the decimal digits Excel shows, not on binary noise
            rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
        except InvalidOperation:
            raise Uncomputable("ROUND beyond the precision of a number") from None
        return _finite(float(rounded))

    # --- aggregates -----------------------------------------------------------------------

    def _fn_aggregate(
        self,
        combine: Callable[[list[float]], float],
        args: tuple[Node, ...],
        here: _Here,
        arrays: bool,
    ) -> Value:
        """SUM, MIN, MAX, AVERAGE: numbers in ranges (text, TRUE/FALSE and blanks there are
        skipped); values given directly are converted (TRUE is 1, "3" is 3); errors win."""
        numbers = []
        for value, from_range in self._arguments(args, here):
            _raise_error(value)
            if isinstance(value, float):
                numbers.append(value)
            elif not from_range:
                numbers.append(_number(value))
        return _finite(combine(numbers))

    def _fn_count(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        count = 0
        for value, from_range in self._arguments(args, here):
            if isinstance(value, float) or (not from_range and isinstance(value, bool)):
                count += 1
            elif not from_range and isinstance(value, str):
                try:
                    _text_to_number(value)
                    count += 1
                except FormulaError:
                    pass
        return float(count)

    def _fn_counta(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        return float(
            sum(
                1
                for value, from_range in self._arguments(args, here)
                if value is not None or not from_range
            )
        )

    def _criteria(self, args: Sequence[Node], here: _Here) -> list[tuple[Matrix, Criterion, Area]]:
        if not args or len(args) % 2:
            raise Uncomputable("criteria come in (range, criterion) pairs")
        pairs = []
        for range_node, criterion_node in zip(args[::2], args[1::2], strict=True):
            area = self._area(range_node, here)
            pairs.append(
                (
                    self._area_values(area),
                    Criterion.parse(self._scalar(criterion_node, here)),
                    area,
                )
            )
        shapes = {_shape(grid) for grid, _, _ in pairs}
        if len(shapes) > 1:
            raise FormulaError(VALUE)
        return pairs

    def _index(self, area: Area, grid: Matrix) -> _TextIndex | None:
        index = self._indexes.get(area)
        if index is None:
            index = self._indexes[area] = _TextIndex(grid)
        return index if index.usable else None

    def _matching(self, pairs: list[tuple[Matrix, Criterion, Area]]) -> Iterator[tuple[int, int]]:
        rows, cols = _shape(pairs[0][0])
        indexed = [
            (index, criterion)
            for grid, criterion, area in pairs
            if criterion.indexable and (index := self._index(area, grid)) is not None
        ]
        if indexed and cols:
            # the plain-text criteria narrow the rows first; the others check those rows only
            found = [set(index.find(str(criterion.operand))) for index, criterion in indexed]
            candidates = sorted(set.intersection(*found))
            used = {id(criterion) for _, criterion in indexed}
            rest = [(grid, criterion) for grid, criterion, _ in pairs if id(criterion) not in used]
            for position in candidates:
                r, c = divmod(position, cols)
                if all(criterion.matches(grid[r][c]) for grid, criterion in rest):
                    yield r, c
            return
        for r in range(rows):
            for c in range(cols):
                if all(criterion.matches(grid[r][c]) for grid, criterion, _ in pairs):
                    yield r, c

    def _fn_countifs(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        return float(sum(1 for _ in self._matching(self._criteria(args, here))))

    def _fn_sumifs(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        if len(args) < 3:
            raise Uncomputable("SUMIFS needs a sum range and criteria")
        values = self._area_values(self._area(args[0], here))
        pairs = self._criteria(args[1:], here)
        if _shape(values) != _shape(pairs[0][0]):
            raise FormulaError(VALUE)
        total = 0.0
        for r, c in self._matching(pairs):
            value = values[r][c]
            _raise_error(value)
            if isinstance(value, float):
                total += value
        return _finite(total)

    def _fn_sumproduct(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        if not args:
            raise Uncomputable("SUMPRODUCT needs arguments")
        grids = [self._grid(arg, here, True) for arg in args]
        shape = _shape(grids[0])
        if any(_shape(g) != shape for g in grids):
            raise FormulaError(VALUE)
        total = 0.0
        for r in range(shape[0]):
            for c in range(shape[1]):
                product = 1.0
                for grid in grids:
                    value = grid[r][c]
                    _raise_error(value)
                    product *= value if isinstance(value, float) else 0.0  # text, TRUE: 0
                total += product
        return _finite(total)

    def _fn_row(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        """ROW() is the formula's own row; ROW(reference) the reference's first row."""
        if not args:
            return float(here.row)
        (arg,) = _exactly(args, 1)
        area = self._area(arg, here)
        if area.shape[0] != 1:
            raise Uncomputable("ROW of several rows (an array)")
        return float(area.box.top)

    def _fn_rows(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        (arg,) = _exactly(args, 1)
        value = self._eval(arg, here, False)
        if isinstance(value, Area):
            return float(value.shape[0])
        return float(len(value)) if isinstance(value, list) else 1.0

    # --- lookups --------------------------------------------------------------------------

    def _fn_index(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        if len(args) not in (2, 3):
            raise Uncomputable("INDEX with area numbers")
        source = self._eval(args[0], here, arrays)
        rows, cols = (
            source.shape if isinstance(source, Area) else _shape(self._grid(args[0], here, arrays))
        )
        row = self._integer(args[1], here)
        col = self._integer(args[2], here) if len(args) == 3 else 1
        if len(args) == 2 and rows == 1:
            row, col = 1, row  # INDEX(A1:E1, 3) is C1
        if row < 0 or col < 0:
            raise FormulaError(VALUE)
        if row == 0 or col == 0:
            raise Uncomputable("INDEX of a whole row or column")
        if row > rows or col > cols:
            raise FormulaError(REF)
        if isinstance(source, Area):
            top, left = source.box.top + row - 1, source.box.left + col - 1
            return Area(source.part, Box(top, left, top, left))  # still a reference
        return self._grid(args[0], here, arrays)[row - 1][col - 1]

    def _fn_match(self, args: tuple[Node, ...], here: _Here, arrays: bool) -> Value:
        if len(args) != 3 or _number(self._scalar(args[2], here)) != 0:
            raise Uncomputable("MATCH other than exact (match type 0)")
        wanted = self._scalar(args[0], here)
        _raise_error(wanted)
        if wanted is None:
            raise Uncomputable("MATCH of a blank")
        grid = self._grid(args[1], here, False)
        rows, cols = _shape(grid)
        if rows != 1 and cols != 1:
            raise FormulaError(NA)
        items = grid[0] if rows == 1 else [row[0] for row in grid]
        pattern = _wildcard(wanted) if isinstance(wanted, str) else None
        for position, item in enumerate(items, 1):
            if isinstance(item, XlError) or type(item) is not type(wanted):
                continue
            if pattern is not None:
                found = bool(pattern.fullmatch(str(item)))
            elif isinstance(wanted, float):
                found = _same_number(wanted, float(item))
            else:
                found = item == wanted
            if found:
                return float(position)
        raise FormulaError(NA)


def _average(numbers: list[float]) -> float:
    if not numbers:
        raise FormulaError(DIV0)
    return sum(numbers) / len(numbers)


def _exactly(args: tuple[Node, ...], count: int) -> tuple[Node, ...]:
    if len(args) != count:
        raise Uncomputable(f"expected {count} argument(s), got {len(args)}")
    return args


def _relative_reference(node: Node) -> bool:
    """Whether a defined name's formula holds a relative cell reference (which would depend on
    the cell it is used from)."""
    if isinstance(node, Ref):
        match = _A1_REF.fullmatch(node.text)
        return bool(match) and not _ABSOLUTE.fullmatch(match.group("area"))  # type: ignore[union-attr]
    if isinstance(node, Call):
        return any(_relative_reference(a) for a in node.args)
    if isinstance(node, Unary):
        return _relative_reference(node.operand)
    if isinstance(node, Binary):
        return _relative_reference(node.left) or _relative_reference(node.right)
    return False


def _is_array_formula(cell: etree._Element) -> bool:
    formula = cell.find(f"{M}f")
    return cell.get("cm") is not None or (
        formula is not None and formula.get("t") in ("array", "dataTable")
    )


# --- writing cached values ------------------------------------------------------------------


@dataclass
class CacheResult:
    """What ``write_cached_values`` did (for tests and diagnostics)."""

    cached: int = 0  # formula cells that now carry their value
    uncached: dict[str, str] = field(default_factory=dict)  # "Sheet!B3" -> why not
    kept: list[str] = field(default_factory=list)  # array formulas, left exactly as they were


def write_cached_values(
    package: XlsxPackage,
    today: dt.date | None = None,
    *,
    editor: WorkbookEditor | None = None,
) -> CacheResult:
    """Give every formula cell of every worksheet the value Excel would compute from the cells
    as they are now; cells that cannot be computed lose any stale value. Sheets whose cells
    end up unchanged keep their exact bytes."""
    evaluator = FormulaEvaluator(package, today, editor=editor)
    result = CacheResult()
    for sheet_name, part in package.sheets():
        if not package.has_formula_cells(part):
            continue  # nothing to compute (and a big sheet is not parsed for nothing)
        changed = False
        for row, col, cell in list(evaluator.formula_cells(part)):
            where = f"{sheet_name}!{column_letter(col)}{row}"
            if _is_array_formula(cell):
                result.kept.append(where)
                continue
            try:
                value: Scalar | Uncomputable = evaluator.formula_value(part, row, col)
                result.cached += 1
            except Uncomputable as exc:
                value = exc
                result.uncached[where] = str(exc)
            try:
                changed |= _store(cell, value)
            except ValueError:  # text XML cannot hold (control characters)
                result.cached -= 1
                result.uncached[where] = "text that XML cannot hold"
                changed |= _store(cell, Uncomputable())
        if changed:
            package.mark_changed(part)
    return result


def _cached_xml(value: Scalar | Uncomputable) -> tuple[str | None, str | None]:
    """The ``t`` attribute and ``<v>`` text for a value; (None, None) for no cached value."""
    if isinstance(value, Uncomputable) or value is None:
        return None, None
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, XlError):
        return "e", value.code
    if isinstance(value, float):
        return None, number_text(value)
    return "str", value


def _store(cell: etree._Element, value: Scalar | Uncomputable) -> bool:
    """Write a formula cell's cached value; returns whether the cell changed."""
    kind, text = _cached_xml(value)
    old = cell.find(f"{M}v")
    stale = [child for child in cell if child.tag in (f"{M}v", f"{M}is")]
    old_text = None if old is None else (old.text or "")
    if cell.get("t") == kind and old_text == text and len(stale) == (text is not None):
        return False
    for child in stale:
        cell.remove(child)
    if kind is None:
        cell.attrib.pop("t", None)
    else:
        cell.set("t", kind)
    if text is not None:
        v = etree.Element(f"{M}v")
        v.text = text  # raises ValueError for characters XML cannot hold
        formula = cell.find(f"{M}f")
        assert formula is not None
        formula.addnext(v)
    return True
