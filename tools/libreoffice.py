"""A small, reliable LibreOffice headless harness for tests and scripts (pure stdlib).

The project's virtualenv Python usually cannot ``import uno``; every function here therefore
runs ``tools/uno_worker.py`` with a Python that can (:func:`find_uno_python`, on Debian the
system ``/usr/bin/python3`` with ``python3-uno``). Each call is one worker run:

* a fresh temporary LibreOffice profile (``-env:UserInstallation=file:///tmp/lo-harness-...``;
  document locking off, en-US locale), so parallel or earlier runs and user settings never
  interfere; the input documents are opened as private *copies* and never modified;
* ``soffice --headless --invisible --nologo --norestore ...`` listening on a named pipe unique
  to the run; the worker connects with retries;
* a hard ``timeout`` (default 120 s): the worker's watchdog kills the office when it expires,
  and this module kills the worker's process group and every process still running on the
  run's profile a little later as a backstop; no soffice process outlives a call
  (:func:`leftover_processes` checks that);
* any failure raises :class:`LibreOfficeError` with a readable message, the tail of the
  worker's stderr and of the soffice log.

A call costs about 1.5-3 s (starting soffice is most of it), so ask for many cells at once.

Public API
----------
``find_soffice()``, ``find_uno_python()``, ``find_pdftoppm()``, ``skip_reason()``
``recalculate(path, cells, *, addins=(), allow_macros=False) -> Recalculation``
``convert_to_pdf(path, outdir) -> Path``
``render_pngs(path, outdir, dpi=80, *, gridlines=False, include_hidden=True) -> list[Path]``
``basic_modules(path) -> dict[library, dict[module, source]]``
``basic_compile_check(path) -> dict[library, dict[module, bool | None]]``
``evaluate_with_document_macros(path, formula_cells, *, sheet=None, syntax="excel")
-> dict[address, value]``
``run_macro(path, macro_url, args=(), *, read_cells=None) -> MacroResult``
``create_basic_document(path, modules, *, library="Standard", cells=None) -> Path``
``libreoffice_version() -> str``

Values everywhere: numbers (dates, booleans too) as ``float``, text as ``str``, empty cells as
``None``, and formula errors as LibreOffice's error text: the Excel-style name where Calc has
one (``"#NAME?"``, ``"#DIV/0!"``, ``"#N/A"``, ``"#VALUE!"``, ``"#REF!"``, ``"#NUM!"``,
``"#NULL!"``), else ``"Err:5xx"`` (``CellValue.excel_error`` gives the Excel name Calc would
write to .xlsx for those).

Formulas are reported in LibreOffice's API syntax: English function names, ``;`` between
arguments, ``$Sheet.A1`` for references to other sheets, structured references kept as
``Table[Column]`` (e.g. ``=COUNTIFS(Events[Type];"Conference")``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_TIMEOUT",
    "EXCEL_ERROR_NAMES",
    "VBA_XML_FILTER",
    "CellValue",
    "LibreOfficeError",
    "MacroResult",
    "Recalculation",
    "basic_compile_check",
    "basic_modules",
    "convert_to_pdf",
    "create_basic_document",
    "evaluate_with_document_macros",
    "find_pdftoppm",
    "find_soffice",
    "find_uno_python",
    "leftover_processes",
    "libreoffice_version",
    "recalculate",
    "render_pngs",
    "run_macro",
    "skip_reason",
    "slugify",
]

DEFAULT_TIMEOUT = 120.0
#: Seconds this module waits beyond ``timeout`` before it kills the worker itself (the worker's
#: own watchdog normally fires first and reports the timeout properly).
_BACKSTOP_GRACE = 20.0
WORKER = Path(__file__).resolve().with_name("uno_worker.py")
_RESULT_MARKER = "@@UNO-WORKER-RESULT@@ "
_WORKDIR_PREFIX = "lo-harness-"
#: Filter that loads .xlam (and .xlsm) with the VBA project; the worker uses it for .xlam, and
#: for .xlsm/.xlsx when type detection fails.
VBA_XML_FILTER = "Calc MS Excel 2007 VBA XML"
#: LibreOffice formula error code -> the Excel error Calc writes for it to .xlsx (best effort).
EXCEL_ERROR_NAMES: dict[int, str] = {
    502: "#NUM!",  # invalid argument, e.g. SQRT(-1)
    503: "#NUM!",  # invalid floating point operation
    504: "#VALUE!",  # error in parameter list
    519: "#VALUE!",  # no result / wrong type
    521: "#NULL!",
    522: "#VALUE!",  # circular reference (Excel warns and shows 0)
    523: "#NUM!",  # calculation does not converge
    524: "#REF!",
    525: "#NAME?",
    532: "#DIV/0!",
    32767: "#N/A",
}
_STDERR_TAIL = 3000

#: Work directories created by this process: :func:`leftover_processes` looks for them.
_workdirs: list[str] = []


class LibreOfficeError(RuntimeError):
    """LibreOffice, the UNO worker or a tool it needs failed; the message says what and why."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------


def find_soffice() -> str | None:
    """``$SOFFICE`` when set (and executable), else ``soffice`` or ``libreoffice`` on PATH."""
    env = os.environ.get("SOFFICE")
    if env:
        return shutil.which(env)
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def _python_has_uno(python: str) -> bool:
    try:
        proc = subprocess.run(
            [python, "-c", "import uno"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            env=_worker_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_uno_python() -> str | None:
    """A Python that can ``import uno``: ``$UNO_PYTHON`` when set, else this interpreter when
    it can, else ``/usr/bin/python3``. Checked once per interpreter path (cached)."""
    env = os.environ.get("UNO_PYTHON")
    if env:
        resolved = shutil.which(env)
        return resolved if resolved and _python_has_uno(resolved) else None
    if _python_has_uno(sys.executable):
        return sys.executable
    system = "/usr/bin/python3"
    if os.access(system, os.X_OK) and _python_has_uno(system):
        return system
    return None


def find_pdftoppm() -> str | None:
    """``pdftoppm`` (poppler-utils) on PATH, needed by :func:`render_pngs`."""
    return shutil.which("pdftoppm")


def skip_reason(*, need_pdftoppm: bool = False) -> str | None:
    """A sentence naming what is missing for this harness (for ``pytest.skip``), or None."""
    missing = []
    if find_soffice() is None:
        missing.append(
            "LibreOffice (no 'soffice'/'libreoffice' on PATH; set SOFFICE or install "
            "libreoffice-calc-nogui)"
        )
    if find_uno_python() is None:
        missing.append(
            "a Python that can 'import uno' (set UNO_PYTHON or install python3-uno for "
            "/usr/bin/python3)"
        )
    if need_pdftoppm and find_pdftoppm() is None:
        missing.append("pdftoppm (install poppler-utils)")
    if not missing:
        return None
    return "LibreOffice harness unavailable: missing " + "; ".join(missing) + "."


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellValue:
    """One cell after recalculation.

    ``kind`` is ``"number"``, ``"text"``, ``"empty"`` or ``"error"``; ``value`` is a float, a
    str, None or the error text; ``formula`` is the cell's formula in LibreOffice syntax (None
    for constants); ``error_code`` is LibreOffice's numeric error code (e.g. 525 for #NAME?).
    """

    kind: Literal["number", "text", "empty", "error"]
    value: float | str | None
    formula: str | None = None
    error_code: int | None = None

    @property
    def is_error(self) -> bool:
        return self.kind == "error"

    @property
    def excel_error(self) -> str | None:
        """The Excel error name of an error cell (``"#NAME?"``...); None for other cells and for
        LibreOffice errors without an Excel counterpart (e.g. Err:508, a syntax error)."""
        if self.error_code is None:
            return None
        if isinstance(self.value, str) and self.value.startswith("#"):
            return self.value
        return EXCEL_ERROR_NAMES.get(self.error_code)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CellValue:
        return cls(data["kind"], data["value"], data.get("formula"), data.get("error_code"))


@dataclass(frozen=True)
class Recalculation:
    """The result of :func:`recalculate`.

    * ``cells[sheet][address]`` -> :class:`CellValue` for every requested cell (ranges are
      expanded to single cells, addresses normalised to ``B2`` form);
    * ``values`` / ``formulas``: the same as plain ``{sheet: {address: value | formula}}``;
      ``result["Summary"]`` is a shortcut for ``result.values["Summary"]``;
    * ``sheets``: every sheet name in workbook order; ``hidden_sheets``: the hidden ones;
    * ``error_counts[sheet]``: how many formula cells of the sheet hold an error (whole used
      area, not only the requested cells); ``errors[sheet]``: address -> error text of those
      cells (at most 200 per sheet).
    * ``addins``: add-in path -> ``Library.Module`` names installed for the call.
    """

    cells: dict[str, dict[str, CellValue]]
    sheets: list[str]
    hidden_sheets: list[str] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    addins: dict[str, list[str]] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        return {s: {a: c.value for a, c in cells.items()} for s, cells in self.cells.items()}

    @property
    def formulas(self) -> dict[str, dict[str, str | None]]:
        return {s: {a: c.formula for a, c in cells.items()} for s, cells in self.cells.items()}

    def __getitem__(self, sheet: str) -> dict[str, Any]:
        return self.values[sheet]

    def has_errors(self, sheet: str | None = None) -> bool:
        """Whether any formula cell (of ``sheet``, or of any sheet) holds an error."""
        if sheet is not None:
            return self.error_counts.get(sheet, 0) > 0
        return any(self.error_counts.values())

    def cells_with_error(self, error: str) -> dict[str, list[str]]:
        """``{sheet: [addresses]}`` of cells showing ``error`` (e.g. ``"#NAME?"``)."""
        out: dict[str, list[str]] = {}
        for sheet, found in self.errors.items():
            hits = [address for address, text in found.items() if text == error]
            if hits:
                out[sheet] = hits
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recalculation:
        return cls(
            cells={
                sheet: {a: CellValue.from_json(c) for a, c in cells.items()}
                for sheet, cells in data["cells"].items()
            },
            sheets=list(data["sheets"]),
            hidden_sheets=list(data.get("hidden_sheets", [])),
            error_counts=dict(data.get("error_counts", {})),
            errors={s: dict(e) for s, e in data.get("errors", {}).items()},
            addins={k: list(v) for k, v in data.get("addins", {}).items()},
        )


@dataclass(frozen=True)
class MacroResult:
    """The result of :func:`run_macro`: ``ok``; ``value`` (what the Basic function returned,
    None for a Sub; arrays as lists); ``error`` (Basic's ``Err.Number``/``Err.Description`` or
    the scripting framework's message); ``cells`` (values of ``read_cells`` after the run)."""

    ok: bool
    value: Any = None
    error: str | None = None
    cells: dict[str, dict[str, CellValue]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Running the worker
# --------------------------------------------------------------------------------------------


def _worker_env() -> dict[str, str]:
    """The environment for the system Python: nothing of this virtualenv leaks into it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _processes_with_token(token: str) -> list[int]:
    found: list[int] = []
    proc = Path("/proc")
    if not token or not proc.is_dir():
        return found
    needle = token.encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _kill_token(token: str) -> None:
    for pid in _processes_with_token(token):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def leftover_processes() -> list[int]:
    """Pids of processes still running on a profile created by a call from this process
    (expected: none, once every call has returned). Linux only; empty elsewhere."""
    return sorted({pid for d in _workdirs for pid in _processes_with_token(d)})


def _tail(text: str, limit: int = _STDERR_TAIL) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _run_worker(op: str, args: Mapping[str, Any], timeout: float = DEFAULT_TIMEOUT) -> Any:
    reason = skip_reason()
    if reason:
        raise LibreOfficeError(reason)
    python = find_uno_python()
    soffice = find_soffice()
    assert python is not None and soffice is not None
    workdir = tempfile.mkdtemp(prefix=_WORKDIR_PREFIX)
    _workdirs.append(workdir)
    request = {
        "op": op,
        "args": dict(args),
        "workdir": workdir,
        "soffice": soffice,
        "timeout": timeout,
        "startup_timeout": min(60.0, timeout),
    }
    timed_out = False
    try:
        proc = subprocess.Popen(
            [python, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
            env=_worker_env(),
        )
        try:
            out, err = proc.communicate(json.dumps(request), timeout=timeout + _BACKSTOP_GRACE)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            _kill_token(workdir)
            out, err = proc.communicate()
    finally:
        _kill_token(workdir)  # the office runs in its own session: find it by its profile
        shutil.rmtree(workdir, ignore_errors=True)
    payload = None
    for line in out.splitlines():
        if line.startswith(_RESULT_MARKER):
            payload = json.loads(line[len(_RESULT_MARKER) :])
    if timed_out:
        raise LibreOfficeError(
            f"LibreOffice {op} timed out after {timeout:g} s; the worker and soffice were "
            f"killed.\n--- worker stderr ---\n{_tail(err)}",
            timed_out=True,
        )
    if payload is None:
        raise LibreOfficeError(
            f"LibreOffice {op}: the UNO worker ({python}) exited with status "
            f"{proc.returncode} without a result.\n--- worker stderr ---\n{_tail(err)}\n"
            f"--- worker stdout ---\n{_tail(out)}"
        )
    if not payload.get("ok"):
        parts = [f"LibreOffice {op} failed: {payload.get('error')}"]
        if payload.get("traceback"):
            parts.append("--- worker traceback ---\n" + _tail(payload["traceback"]))
        if err.strip():
            parts.append("--- worker stderr ---\n" + _tail(err))
        if payload.get("soffice_log", "").strip():
            parts.append("--- soffice log ---\n" + _tail(payload["soffice_log"]))
        raise LibreOfficeError("\n".join(parts), timed_out=bool(payload.get("timed_out")))
    return payload["result"]


def _existing(path: str | os.PathLike[str]) -> str:
    p = Path(path).resolve()
    if not p.is_file():
        raise LibreOfficeError(f"no such file: {p}")
    return str(p)


def _cells_request(cells: Mapping[str, Sequence[str] | str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sheet, addresses in (cells or {}).items():
        out[sheet] = [addresses] if isinstance(addresses, str) else list(addresses)
    return out


def _cells_from_json(data: Mapping[str, Any]) -> dict[str, dict[str, CellValue]]:
    return {s: {a: CellValue.from_json(c) for a, c in cs.items()} for s, cs in data.items()}


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def libreoffice_version(*, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The version of the office the harness runs, e.g. ``"7.4.7.2"``."""
    return str(_run_worker("version", {}, timeout)["version"])


def recalculate(
    path: str | os.PathLike[str],
    cells: Mapping[str, Sequence[str] | str],
    *,
    addins: Iterable[str | os.PathLike[str]] = (),
    allow_macros: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> Recalculation:
    """Open ``path`` in LibreOffice, ``calculateAll()`` and read ``cells``.

    ``cells`` maps sheet names to cell addresses or ranges (``{"Summary": ["B2", "C1:C3"]}``).
    ``addins``: .xlam/.xlsm/.ods files whose standard and class modules are copied into the
    application Basic ``Standard`` library first, so the workbook's formulas can call their
    functions (as Excel does for installed add-ins); this enables macros. ``allow_macros``
    opens the workbook with its own macros enabled (needed for formulas calling its VBA).
    Returns a :class:`Recalculation` (``result["Summary"]["B2"]`` is the value).
    """
    args = {
        "path": _existing(path),
        "cells": _cells_request(cells),
        "addins": [_existing(a) for a in addins],
        "allow_macros": allow_macros,
    }
    return Recalculation.from_json(_run_worker("recalculate", args, timeout))


def convert_to_pdf(
    path: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Recalculate and export the whole workbook to ``outdir/<stem>.pdf`` (visible sheets,
    their print ranges and page styles, as LibreOffice prints them); returns the PDF path."""
    source = _existing(path)
    target = Path(outdir).resolve() / f"{Path(source).stem}.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(_run_worker("pdf", {"path": source, "target": str(target)}, timeout))


def slugify(name: str) -> str:
    """A file-name-safe, lower-case form of a sheet name (``"Event Summary"`` ->
    ``"event-summary"``)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return slug or "sheet"


def _pdftoppm(
    pdf: Path, prefix: Path, dpi: int, timeout: float, page: int | None = None
) -> list[Path]:
    exe = find_pdftoppm()
    if exe is None:
        raise LibreOfficeError("pdftoppm is not installed (poppler-utils); cannot render PNGs")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    try:
        proc = subprocess.run(
            [exe, "-png", "-r", str(dpi), *pages, str(pdf), str(prefix)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise LibreOfficeError(f"pdftoppm timed out after {timeout:g} s on {pdf}") from exc
    if proc.returncode != 0:
        raise LibreOfficeError(f"pdftoppm failed on {pdf}: {_tail(proc.stderr)}")
    pattern = re.compile(re.escape(prefix.name) + r"-(\d+)\.png$")
    pages = []
    for png in prefix.parent.iterdir():
        match = pattern.match(png.name)
        if match:
            pages.append((int(match.group(1)), png))
    return [png for _, png in sorted(pages)]


def render_pngs(
    path: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    dpi: int = 80,
    *,
    gridlines: bool = False,
    include_hidden: bool = True,
    whole_sheet: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Path]:
    """Render every sheet of a workbook to PNG files in ``outdir``; returns their paths in
    sheet order.

    Each sheet is exported on its own (PDF export with the sheet as ``Selection``, after
    ``calculateAll()``), then rasterised with ``pdftoppm -png -r dpi``. Files are named
    ``<stem>-<NN>-<sheet-slug>.png`` (``NN``: 1-based sheet position), with ``-p<K>`` added when
    a sheet spans several pages. An empty sheet gives one blank page. ``gridlines`` prints cell
    grid and row/column headers; ``whole_sheet`` puts each sheet on one page sized to fit it
    (PDF option ``SinglePageSheets``: no page breaks, print ranges ignored);
    ``include_hidden=False`` skips hidden sheets.
    """
    source = _existing(path)
    out = Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(source).stem
    results: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="lo-render-") as tmp:
        sheets = _run_worker(
            "sheet_pdfs",
            {
                "path": source,
                "outdir": tmp,
                "gridlines": gridlines,
                "include_hidden": include_hidden,
                "whole_sheet": whole_sheet,
            },
            timeout,
        )
        for sheet in sheets:
            base = f"{stem}-{sheet['index']:02d}-{slugify(sheet['name'])}"
            pages = _pdftoppm(Path(sheet["pdf"]), Path(tmp) / base, dpi, timeout, sheet.get("page"))
            for number, page in enumerate(pages, start=1):
                name = f"{base}.png" if len(pages) == 1 else f"{base}-p{number}.png"
                target = out / name
                shutil.move(str(page), target)
                results.append(target)
    return results


def basic_modules(
    path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, dict[str, str]]:
    """``{library: {module: source}}`` of the Basic libraries LibreOffice sees in a document.

    VBA projects of .xlsm/.xlam files are imported into a library named after the VBA project
    (``VBAProject`` by default), every module starting with ``Rem Attribute VBA_ModuleType=...``
    and ``Option VBASupport 1``; an empty ``Standard`` library is always present. .xlam files
    are loaded with the ``Calc MS Excel 2007 VBA XML`` filter (type detection rejects them).
    """
    result = _run_worker("basic_modules", {"path": _existing(path)}, timeout)
    return {lib: dict(mods) for lib, mods in result["modules"].items()}


def basic_compile_check(
    path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, dict[str, bool | None]]:
    """Whether LibreOffice Basic can compile each module: ``{library: {module: ok}}``.

    Each standard module is copied alone into a scratch library with a probe function that is
    then called; ``False`` means it does not compile in LibreOffice (then none of its functions
    run: formulas calling them give an empty string, :func:`run_macro` an error). Class,
    document and form modules are not checked (``None``).
    """
    result = _run_worker("compile_check", {"path": _existing(path)}, timeout)
    return {lib: dict(mods) for lib, mods in result.items()}


def evaluate_with_document_macros(
    path: str | os.PathLike[str],
    formula_cells: Mapping[str, str],
    *,
    sheet: str | None = None,
    syntax: Literal["excel", "libreoffice"] = "excel",
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """Open a macro-bearing document with macros allowed (MacroExecutionMode 4), write
    ``formula_cells`` (``{"A1": "=TWICE(21)"}``) into ``sheet`` (default: the first sheet),
    recalculate and return ``{address: value}``.

    Formulas are Excel syntax by default (``,`` between arguments, ``Sheet!A1``), or
    LibreOffice API syntax with ``syntax="libreoffice"``. Calc resolves a function name it
    does not know by looking for a Basic function of that name in the document's libraries
    (VBA modules included) and in the application's ``Standard`` library.
    """
    args = {
        "path": _existing(path),
        "formulas": dict(formula_cells),
        "sheet": sheet,
        "syntax": syntax,
    }
    result = _run_worker("evaluate", args, timeout)
    return {address: cell["value"] for address, cell in result["cells"].items()}


def run_macro(
    path: str | os.PathLike[str],
    macro_url: str,
    args: Sequence[Any] = (),
    *,
    read_cells: Mapping[str, Sequence[str] | str] | None = None,
    trap_errors: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> MacroResult:
    """Run a macro of a document (macros allowed) and return a :class:`MacroResult`.

    ``macro_url`` is a script URL such as
    ``vnd.sun.star.script:VBAProject.Module1.Main?language=Basic&location=document``; ``args``
    are passed to it (JSON types). For Basic macros in the document the call goes through a
    small generated wrapper with ``On Error GoTo`` so that Basic runtime errors are reported
    (``error="Basic error 11: Division by zero."``): called directly, a failing Basic macro
    returns nothing and says nothing in headless mode. A procedure in a module LibreOffice
    cannot compile fails with an unhelpful Basic error (e.g. 380); see
    :func:`basic_compile_check`. ``read_cells`` (as for
    :func:`recalculate`) are read after the macro ran, e.g. to see what a Sub wrote.
    """
    request = {
        "path": _existing(path),
        "url": macro_url,
        "args": list(args),
        "read_cells": _cells_request(read_cells),
        "trap_errors": trap_errors,
    }
    result = _run_worker("run_macro", request, timeout)
    return MacroResult(
        ok=bool(result["ok"]),
        value=result.get("value"),
        error=result.get("error"),
        cells=_cells_from_json(result.get("cells") or {}),
    )


def create_basic_document(
    path: str | os.PathLike[str],
    modules: Mapping[str, str],
    *,
    library: str = "Standard",
    cells: Mapping[str, str | float] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Create an .ods spreadsheet whose Basic ``library`` holds ``modules`` (name -> source),
    optionally with constants/formulas (LibreOffice syntax) in the first sheet. LibreOffice
    cannot write Basic into .xlsm as VBA, so only .ods is supported."""
    target = Path(path).resolve()
    args = {
        "target": str(target),
        "modules": dict(modules),
        "library": library,
        "cells": dict(cells or {}),
    }
    return Path(_run_worker("create_basic_document", args, timeout))
