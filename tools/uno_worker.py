#!/usr/bin/env python3
"""One-shot UNO worker: start a private headless LibreOffice, perform one request, stop it.

Run with a Python that can ``import uno`` (on Debian: the system ``/usr/bin/python3`` with
``python3-uno``); ``tools.libreoffice`` does that for you. Self-contained: stdlib + uno only.

Usage::

    python3 uno_worker.py '{"op": "recalculate", "args": {...}, "workdir": "/tmp/x"}'
    python3 uno_worker.py request.json
    python3 uno_worker.py < request.json

Request keys: ``op`` and ``args`` (see ``OPS`` below), ``workdir`` (an empty private directory:
the LibreOffice profile, copies of the input documents and the soffice log go there; created
when missing), ``soffice`` (the executable, default ``soffice``), ``timeout`` (seconds for the
whole run, default 120), ``startup_timeout`` (seconds to wait for the office socket, default 60).

The result is printed on stdout as one line ``@@UNO-WORKER-RESULT@@ {json}`` holding either
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "...", "timed_out": bool,
"traceback": "...", "soffice_log": "..."}``. Exit status 0 when ok, 1 otherwise.

Every run uses its own LibreOffice user profile inside ``workdir`` (document locking switched
off, en-US locale, always recalculate on load), opens *copies* of the input documents (no lock
files next to the originals, originals never modified), connects through a named pipe unique to
the run, and always shuts the office down at the end: close the documents, ``terminate()`` the
desktop, wait, then kill the office's process group and any process whose command line names
this run's profile. A watchdog thread kills the office when ``timeout`` expires, which makes a
blocked UNO call fail so the worker can report the timeout and exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uno  # only importable by a Python with LibreOffice's pyuno (python3-uno)

RESULT_MARKER = "@@UNO-WORKER-RESULT@@ "
#: LibreOffice filter that loads .xlsm and .xlam files with their VBA project. Type detection
#: does not recognise the .xlam extension: loading one without an explicit filter returns None.
VBA_XML_FILTER = "Calc MS Excel 2007 VBA XML"
_VBA_XML_SUFFIXES = {".xlam", ".xlsm", ".xltm", ".xlsx", ".xltx"}
_MACRO_ALWAYS_EXECUTE_NO_WARN = 4  # com.sun.star.document.MacroExecMode
_MACRO_NEVER_EXECUTE = 0
_FORMULA_RESULT_VALUE = 1  # com.sun.star.sheet.FormulaResult
_FORMULA_RESULT_STRING = 2
_FORMULA_RESULT_ERROR = 4
_MODULE_TYPE_NORMAL = 1  # com.sun.star.script.ModuleType
_MODULE_TYPE_NAMES = {0: "unknown", 1: "standard", 2: "class", 3: "form", 4: "document"}
_MAX_CELLS_PER_REQUEST = 20_000
_MAX_ERROR_CELLS_PER_SHEET = 200
_PROBE = "ZzHarnessProbe"

# Preset profile settings. Locking off: lock files from killed runs can never block a load.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentSystemFileLocking"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentOOoLockFile"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Save/Document"><prop oor:name="AutoSave"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Recovery/AutoSave"><prop oor:name="Enabled"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale"
 oor:op="fuse"><value>en-US</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class WorkerError(Exception):
    """A failure with a message meant for the caller (no traceback needed)."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def prop(name: str, value: Any) -> Any:
    pv = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    pv.Name = name
    pv.Value = value
    return pv


def props(**values: Any) -> tuple[Any, ...]:
    return tuple(prop(k, v) for k, v in values.items())


def filter_data(**values: Any) -> Any:
    return uno.Any("[]com.sun.star.beans.PropertyValue", props(**values))


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(column: int, row: int) -> str:
    return f"{column_letters(column)}{row + 1}"


def to_json(value: Any) -> Any:
    """Turn what UNO/Basic hands back into JSON-able data."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, uno.Any):
        return to_json(value.value)
    return str(value)


def tail(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


def processes_with_token(token: str) -> list[int]:
    """Pids whose command line contains ``token`` (Linux /proc; empty elsewhere)."""
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(entry.name))
    return found


# --------------------------------------------------------------------------------------------
# The office process
# --------------------------------------------------------------------------------------------


class Office:
    """A private headless soffice with its own profile, reached over a named pipe."""

    def __init__(self, soffice: str, workdir: Path, startup_timeout: float) -> None:
        self.soffice = soffice
        self.workdir = workdir
        self.startup_timeout = startup_timeout
        self.profile = workdir / "profile"
        self.log_path = workdir / "soffice.log"
        self.pipe = f"loharness_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ctx: Any = None
        self.desktop: Any = None
        self.documents: list[Any] = []
        self.timed_out = False
        self._copies = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        user = self.profile / "user"
        user.mkdir(parents=True, exist_ok=True)
        (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        cmd = [
            self.soffice,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation={uno.systemPathToFileUrl(str(self.profile))}",
            f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext",
        ]
        env = dict(os.environ)
        env.setdefault("SAL_USE_VCLPLUGIN", "svp")
        with self.log_path.open("wb") as log:
            # Own session: the office's whole process tree can be killed as one group.
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        (self.workdir / "soffice.pgid").write_text(str(self.proc.pid), encoding="ascii")
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.05
        last_error: Exception | None = None
        while True:
            if self.timed_out:
                raise WorkerError("timed out while LibreOffice was starting")
            if self.proc.poll() is not None:
                raise WorkerError(
                    f"soffice exited with status {self.proc.returncode} before accepting "
                    f"connections (see the soffice log)"
                )
            try:
                self.ctx = resolver.resolve(url)
                break
            except Exception as exc:  # NoConnectException until the pipe exists
                last_error = exc
            if time.monotonic() > deadline:
                raise WorkerError(
                    f"could not connect to soffice within {self.startup_timeout:.0f} s "
                    f"({last_error})"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)

    def stop(self) -> None:
        """Close documents, terminate the office, then make sure nothing of it is left."""
        for doc in reversed(self.documents):
            with contextlib.suppress(Exception):
                doc.close(True)
        self.documents.clear()
        if self.desktop is not None:
            with contextlib.suppress(Exception):
                self.desktop.terminate()
            self.desktop = None
        self.ctx = None
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=20)
            self.kill()

    def kill(self) -> None:
        """Kill the office's process group and every process running on this profile."""
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and processes_with_token(str(self.profile)):
                time.sleep(0.1)
            if not processes_with_token(str(self.profile)):
                break
        for pid in processes_with_token(str(self.profile)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)

    def log_tail(self) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        # Debian's soffice always warns about javaldx (no Java): noise, not a cause.
        lines = [line for line in text.splitlines() if "failed to launch javaldx" not in line]
        return tail("\n".join(lines))

    # -- documents ---------------------------------------------------------------------------

    def private_copy(self, path: str) -> Path:
        """Copy a document into the work directory, keeping its file name."""
        src = Path(path)
        if not src.is_file():
            raise WorkerError(f"no such file: {src}")
        self._copies += 1
        folder = self.workdir / "docs" / str(self._copies)
        folder.mkdir(parents=True)
        dst = folder / src.name
        shutil.copyfile(src, dst)
        return dst

    def load(self, path: str, *, macros: bool, filter_name: str | None = None) -> Any:
        copy = self.private_copy(path)
        url = uno.systemPathToFileUrl(str(copy))
        base = {
            "Hidden": True,
            "MacroExecutionMode": (
                _MACRO_ALWAYS_EXECUTE_NO_WARN if macros else _MACRO_NEVER_EXECUTE
            ),
            "UpdateDocMode": 0,  # com.sun.star.document.UpdateDocMode.NO_UPDATE
        }
        attempts: list[str | None] = [filter_name]
        if filter_name is None:
            if copy.suffix.lower() == ".xlam":
                attempts = [VBA_XML_FILTER]
            elif copy.suffix.lower() in _VBA_XML_SUFFIXES:
                attempts = [None, VBA_XML_FILTER]
        for name in attempts:
            extra = {"FilterName": name} if name else {}
            doc = self.desktop.loadComponentFromURL(url, "_blank", 0, props(**base, **extra))
            if doc is not None:
                self.documents.append(doc)
                return doc
        tried = ", ".join(repr(a) if a else "type detection" for a in attempts)
        raise WorkerError(f"LibreOffice could not open {path} (tried {tried})")

    def new_spreadsheet(self) -> Any:
        doc = self.desktop.loadComponentFromURL(
            "private:factory/scalc", "_blank", 0, props(Hidden=True)
        )
        if doc is None:
            raise WorkerError("LibreOffice could not create a new spreadsheet")
        self.documents.append(doc)
        return doc

    def close(self, doc: Any) -> None:
        with contextlib.suppress(Exception):
            doc.close(True)
        if doc in self.documents:
            self.documents.remove(doc)

    def application_basic(self) -> Any:
        smgr = self.ctx.ServiceManager
        return smgr.createInstanceWithContext(
            "com.sun.star.script.ApplicationScriptLibraryContainer", self.ctx
        )


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


def get_sheet(doc: Any, name: str | None) -> Any:
    sheets = doc.Sheets
    if name is None:
        return sheets.getByIndex(0)
    if not sheets.hasByName(name):
        raise WorkerError(f"no sheet named {name!r}; sheets are {list(sheets.ElementNames)}")
    return sheets.getByName(name)


def read_cell(cell: Any) -> dict[str, Any]:
    """``{"kind", "value", "formula", "error_code"}`` of one cell (see tools.libreoffice)."""
    kind = cell.Type.value  # EMPTY, VALUE, TEXT, FORMULA
    formula = cell.getFormula() if kind == "FORMULA" else None
    code = cell.getError()
    if code:
        text = cell.getString() or f"Err:{code}"
        return {"kind": "error", "value": text, "formula": formula, "error_code": code}
    if kind == "EMPTY":
        return {"kind": "empty", "value": None, "formula": None, "error_code": None}
    if kind == "VALUE":
        return {"kind": "number", "value": cell.getValue(), "formula": None, "error_code": None}
    if kind == "TEXT":
        return {"kind": "text", "value": cell.getString(), "formula": None, "error_code": None}
    result_type = cell.FormulaResultType2
    if result_type == _FORMULA_RESULT_VALUE:
        return {"kind": "number", "value": cell.getValue(), "formula": formula, "error_code": None}
    return {"kind": "text", "value": cell.getString(), "formula": formula, "error_code": None}


def iter_addresses(sheet: Any, address: str) -> Iterator[tuple[str, Any]]:
    """A1 names and cells of ``address`` (a cell like ``B2`` or a range like ``A1:C3``)."""
    try:
        rng = sheet.getCellRangeByName(address.replace("$", ""))
    except Exception as exc:
        raise WorkerError(f"bad cell address {address!r} on sheet {sheet.Name!r}") from exc
    ra = rng.getRangeAddress()
    count = (ra.EndColumn - ra.StartColumn + 1) * (ra.EndRow - ra.StartRow + 1)
    if count > _MAX_CELLS_PER_REQUEST:
        raise WorkerError(f"range {address!r} has {count} cells; ask for fewer")
    for row in range(ra.StartRow, ra.EndRow + 1):
        for col in range(ra.StartColumn, ra.EndColumn + 1):
            yield a1(col, row), sheet.getCellByPosition(col, row)


def read_cells(doc: Any, cells: dict[str, list[str]]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for sheet_name, addresses in cells.items():
        sheet = get_sheet(doc, sheet_name)
        target = out.setdefault(sheet_name, {})
        for address in addresses:
            for name, cell in iter_addresses(sheet, address):
                target[name] = read_cell(cell)
    return out


def error_cells(sheet: Any) -> tuple[int, dict[str, str]]:
    """Count and (capped) map address -> error text of formula cells holding an error."""
    ranges = sheet.queryFormulaCells(_FORMULA_RESULT_ERROR).getRangeAddresses()
    count = 0
    found: dict[str, str] = {}
    for ra in ranges:
        for row in range(ra.StartRow, ra.EndRow + 1):
            for col in range(ra.StartColumn, ra.EndColumn + 1):
                count += 1
                if len(found) < _MAX_ERROR_CELLS_PER_SHEET:
                    cell = sheet.getCellByPosition(col, row)
                    found[a1(col, row)] = cell.getString() or f"Err:{cell.getError()}"
    return count, found


def workbook_report(doc: Any) -> dict[str, Any]:
    sheets, hidden, counts, errors = [], [], {}, {}
    for sheet in doc.Sheets:
        sheets.append(sheet.Name)
        if not sheet.IsVisible:
            hidden.append(sheet.Name)
        counts[sheet.Name], errors[sheet.Name] = error_cells(sheet)
    return {"sheets": sheets, "hidden_sheets": hidden, "error_counts": counts, "errors": errors}


def set_formula(doc: Any, cell: Any, formula: str, syntax: str) -> None:
    if syntax == "libreoffice":
        cell.setFormula(formula)
        return
    if syntax != "excel":
        raise WorkerError(f"unknown formula syntax {syntax!r} (use 'excel' or 'libreoffice')")
    parser = doc.createInstance("com.sun.star.sheet.FormulaParser")
    mapper = doc.createInstance("com.sun.star.sheet.FormulaOpCodeMapper")
    language = uno.getConstantByName("com.sun.star.sheet.FormulaLanguage.XL_ENGLISH")
    group = uno.getConstantByName("com.sun.star.sheet.FormulaMapGroup.ALL_EXCEPT_SPECIAL")
    parser.OpCodeMap = mapper.getAvailableMappings(language, group)
    parser.FormulaConvention = uno.getConstantByName("com.sun.star.sheet.AddressConvention.XL_A1")
    text = formula[1:] if formula.startswith("=") else formula
    cell.setTokens(parser.parseFormula(text, cell.getCellAddress()))


# --------------------------------------------------------------------------------------------
# Basic
# --------------------------------------------------------------------------------------------


def module_type(lib: Any, name: str) -> int | None:
    """com.sun.star.script.ModuleType of a module of a VBA-imported library, else None."""
    try:
        if lib.hasModuleInfo(name):
            return int(lib.getModuleInfo(name).ModuleType)
    except Exception:
        return None
    return None


def library_modules(container: Any) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lib_name in container.getElementNames():
        if not container.isLibraryLoaded(lib_name):
            container.loadLibrary(lib_name)
        lib = container.getByName(lib_name)
        out[lib_name] = {name: lib.getByName(name) for name in lib.getElementNames()}
    return out


def script(doc: Any, url: str) -> Any:
    return doc.getScriptProvider().getScript(url)


def invoke(doc: Any, url: str, args: list[Any]) -> Any:
    result = script(doc, url).invoke(tuple(args), (), ())
    return result[0]


def parse_basic_url(url: str) -> tuple[str, str, str, dict[str, str]] | None:
    """``(library, module, procedure, query)`` of a Basic script URL, else None."""
    match = re.fullmatch(r"vnd\.sun\.star\.script:([^?]+)\?(.*)", url)
    if not match:
        return None
    query = dict(part.split("=", 1) for part in match.group(2).split("&") if "=" in part)
    if query.get("language") != "Basic":
        return None
    parts = match.group(1).split(".")
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2], query


def add_harness(doc: Any, library: str, module: str, procedure: str, argc: int) -> str:
    """A document library with a wrapper that calls the procedure and traps Basic errors.

    The call is written ``Module.Procedure(...)``: plain (non-VBA) Basic does not compile the
    fully qualified ``Library.Module.Procedure`` form.
    """
    libs = doc.BasicLibraries
    if libs.hasByName(library) and not libs.isLibraryLoaded(library):
        libs.loadLibrary(library)
    target = f"{module}.{procedure}"
    name = "ZzHarness"
    while libs.hasByName(name):
        name += "X"
    libs.createLibrary(name)
    libs.loadLibrary(name)
    params = ", ".join(f"ZzArg{i}" for i in range(argc))
    vba = bool(getattr(libs, "VBACompatibilityMode", False))
    # The Err object is VBA; plain Basic has the Err and Error$ functions instead.
    number, description = ("Err.Number", "Err.Description") if vba else ("Err", "Error$")
    source = "\n".join(
        [
            "Option VBASupport 1" if vba else "REM harness",
            f"Function ZzRun({params})",
            "    On Error GoTo ZzFailed",
            "    Dim ZzResult",
            f"    ZzResult = {target}({params})",
            "    ZzRun = Array(True, ZzResult)",
            "    Exit Function",
            "ZzFailed:",
            f'    ZzRun = Array(False, "Basic error " & {number} & ": " & {description})',
            "End Function",
            "",
        ]
    )
    libs.getByName(name).insertByName("Runner", source)
    return f"vnd.sun.star.script:{name}.Runner.ZzRun?language=Basic&location=document"


# --------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------


def install_addins(office: Office, addins: list[str]) -> dict[str, list[str]]:
    """Copy the standard and class modules of each add-in into the application's ``Standard``
    Basic library (of this run's throwaway profile): Calc looks there for functions that a
    formula calls, so every workbook opened afterwards can use them."""
    app = office.application_basic()
    if not app.isLibraryLoaded("Standard"):
        app.loadLibrary("Standard")
    standard = app.getByName("Standard")
    installed: dict[str, list[str]] = {}
    for path in addins:
        doc = office.load(path, macros=True)
        names = installed.setdefault(path, [])
        libs = doc.BasicLibraries
        for lib_name in libs.getElementNames():
            libs.loadLibrary(lib_name)
            lib = libs.getByName(lib_name)
            for mod in lib.getElementNames():
                if module_type(lib, mod) in (3, 4):  # forms and document modules stay
                    continue
                source = lib.getByName(mod)
                if standard.hasByName(mod):
                    standard.replaceByName(mod, source)
                else:
                    standard.insertByName(mod, source)
                names.append(f"{lib_name}.{mod}")
        office.close(doc)
    return installed


def op_recalculate(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    addins = list(args.get("addins") or [])
    installed = install_addins(office, addins) if addins else {}
    macros = bool(args.get("allow_macros")) or bool(addins)
    doc = office.load(args["path"], macros=macros)
    doc.calculateAll()
    report = workbook_report(doc)
    report["cells"] = read_cells(doc, args.get("cells") or {})
    report["addins"] = installed
    return report


def op_pdf(office: Office, args: dict[str, Any]) -> str:
    doc = office.load(args["path"], macros=bool(args.get("allow_macros")))
    doc.calculateAll()
    target = Path(args["target"])
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.storeToURL(uno.systemPathToFileUrl(str(target)), props(FilterName="calc_pdf_Export"))
    return str(target)


def op_sheet_pdfs(office: Office, args: dict[str, Any]) -> list[dict[str, Any]]:
    """One PDF per sheet (hidden sheets too unless ``include_hidden`` is false)."""
    doc = office.load(args["path"], macros=bool(args.get("allow_macros")))
    doc.calculateAll()
    outdir = Path(args["outdir"])
    outdir.mkdir(parents=True, exist_ok=True)
    include_hidden = args.get("include_hidden", True)
    if args.get("gridlines"):
        styles = doc.StyleFamilies.getByName("PageStyles")
        for sheet in doc.Sheets:
            style = styles.getByName(sheet.PageStyle)
            style.PrintGrid = True
            style.PrintHeaders = True
    whole = None
    if args.get("whole_sheet"):
        # SinglePageSheets ignores Selection: one export gives one page per sheet, every sheet
        # (hidden and empty ones too) in workbook order.
        whole = outdir / "whole-sheets.pdf"
        doc.storeToURL(
            uno.systemPathToFileUrl(str(whole)),
            props(FilterName="calc_pdf_Export", FilterData=filter_data(SinglePageSheets=True)),
        )
    out = []
    for index, sheet in enumerate(doc.Sheets):
        if not sheet.IsVisible and not include_hidden:
            continue
        entry = {"index": index + 1, "name": sheet.Name, "hidden": not sheet.IsVisible}
        if whole is not None:
            out.append({**entry, "pdf": str(whole), "page": index + 1})
            continue
        target = outdir / f"sheet-{index + 1:03d}.pdf"
        uno.invoke(
            doc,
            "storeToURL",
            (
                uno.systemPathToFileUrl(str(target)),
                props(FilterName="calc_pdf_Export", FilterData=filter_data(Selection=sheet)),
            ),
        )
        out.append({**entry, "pdf": str(target), "page": None})
    return out


def op_basic_modules(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    doc = office.load(args["path"], macros=True, filter_name=args.get("filter_name"))
    libs = doc.BasicLibraries
    modules = library_modules(libs)
    types = {}
    for lib_name, mods in modules.items():
        lib = libs.getByName(lib_name)
        types[lib_name] = {m: _MODULE_TYPE_NAMES.get(module_type(lib, m) or 0) for m in mods}
    filter_used = next((a.Value for a in doc.getArgs() if a.Name == "FilterName"), None)
    return {
        "modules": modules,
        "types": types,
        "filter": filter_used,
        "vba_mode": bool(getattr(libs, "VBACompatibilityMode", False)),
    }


def op_compile_check(office: Office, args: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Compile every standard module on its own (a copy in a scratch library, plus a probe
    function) and call the probe: a module LibreOffice Basic cannot compile answers nothing."""
    doc = office.load(args["path"], macros=True)
    libs = doc.BasicLibraries
    out: dict[str, dict[str, Any]] = {}
    counter = 0
    for lib_name, mods in library_modules(libs).items():
        lib = libs.getByName(lib_name)
        result = out.setdefault(lib_name, {})
        for mod, source in mods.items():
            mtype = module_type(lib, mod)
            if mtype not in (None, _MODULE_TYPE_NORMAL) or "Option ClassModule" in source:
                result[mod] = None  # class, form and document modules are not checked
                continue
            counter += 1
            scratch = f"ZzCompileCheck{counter}"
            libs.createLibrary(scratch)
            libs.loadLibrary(scratch)
            probe = f"\nFunction {_PROBE}()\n    {_PROBE} = 1\nEnd Function\n"
            libs.getByName(scratch).insertByName(mod, source + probe)
            url = f"vnd.sun.star.script:{scratch}.{mod}.{_PROBE}?language=Basic&location=document"
            try:
                answer = invoke(doc, url, [])
            except Exception:
                answer = None
            result[mod] = answer == 1
    return out


def op_evaluate(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    doc = office.load(args["path"], macros=True)
    sheet = get_sheet(doc, args.get("sheet"))
    syntax = args.get("syntax", "excel")
    for address, formula in args["formulas"].items():
        try:
            cell = sheet.getCellRangeByName(address.replace("$", ""))
        except Exception as exc:
            raise WorkerError(f"bad cell address {address!r}") from exc
        try:
            set_formula(doc, cell, formula, syntax)
        except WorkerError:
            raise
        except Exception as exc:
            raise WorkerError(f"LibreOffice rejected the formula {formula!r}: {exc}") from exc
    doc.calculateAll()
    return {
        "sheet": sheet.Name,
        "cells": {
            a: read_cell(sheet.getCellRangeByName(a.replace("$", ""))) for a in args["formulas"]
        },
    }


def op_run_macro(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    doc = office.load(args["path"], macros=True)
    url = args["url"]
    call_args = list(args.get("args") or [])
    parsed = parse_basic_url(url)
    trap = (
        args.get("trap_errors", True)
        and parsed is not None
        and parsed[3].get("location") == "document"
    )
    ok, value, error = True, None, None
    try:
        if trap:
            assert parsed is not None
            harness = add_harness(doc, parsed[0], parsed[1], parsed[2], len(call_args))
            answer = invoke(doc, harness, call_args)
            if not isinstance(answer, tuple) or len(answer) != 2:
                ok, error = False, f"the Basic harness returned {answer!r} (did it compile?)"
            else:
                ok = bool(answer[0])
                value, error = (answer[1], None) if ok else (None, str(answer[1]))
        else:
            value = invoke(doc, url, call_args)
    except Exception as exc:
        ok, error = False, f"{type(exc).__name__}: {getattr(exc, 'Message', exc)}"
    with contextlib.suppress(Exception):
        doc.calculateAll()
    return {
        "ok": ok,
        "value": to_json(value),
        "error": error,
        "cells": read_cells(doc, args.get("read_cells") or {}),
    }


def op_create_basic_document(office: Office, args: dict[str, Any]) -> str:
    target = Path(args["target"])
    if target.suffix.lower() not in {".ods", ".ots"}:
        raise WorkerError(
            "LibreOffice only saves Basic modules in ODF (.ods): it cannot write a new VBA "
            "project into .xlsm"
        )
    doc = office.new_spreadsheet()
    libs = doc.BasicLibraries
    library = args.get("library", "Standard")
    if not libs.hasByName(library):
        libs.createLibrary(library)
    lib = libs.getByName(library)
    for name, source in args["modules"].items():
        if lib.hasByName(name):
            lib.replaceByName(name, source)
        else:
            lib.insertByName(name, source)
    sheet = doc.Sheets.getByIndex(0)
    for address, content in (args.get("cells") or {}).items():
        cell = sheet.getCellRangeByName(address)
        if isinstance(content, str) and not content.startswith("="):
            cell.setString(content)
        elif isinstance(content, str):
            cell.setFormula(content)
        else:
            cell.setValue(content)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.storeToURL(uno.systemPathToFileUrl(str(target)), props(FilterName="calc8"))
    office.close(doc)
    return str(target)


def op_version(office: Office, args: dict[str, Any]) -> dict[str, str]:
    provider = office.ctx.ServiceManager.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", office.ctx
    )
    node = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationAccess",
        props(nodepath="/org.openoffice.Setup/Product"),
    )
    return {"product": node.ooName, "version": node.ooSetupVersionAboutBox}


OPS: dict[str, Callable[[Office, dict[str, Any]], Any]] = {
    "recalculate": op_recalculate,
    "pdf": op_pdf,
    "sheet_pdfs": op_sheet_pdfs,
    "basic_modules": op_basic_modules,
    "compile_check": op_compile_check,
    "evaluate": op_evaluate,
    "run_macro": op_run_macro,
    "create_basic_document": op_create_basic_document,
    "version": op_version,
}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def read_request(argv: list[str]) -> dict[str, Any]:
    if len(argv) > 1:
        text = argv[1]
        if not text.lstrip().startswith("{"):
            text = Path(text).read_text(encoding="utf-8")
    else:
        text = sys.stdin.read()
    request = json.loads(text)
    if not isinstance(request, dict) or "op" not in request:
        raise WorkerError('the request must be a JSON object with an "op" key')
    return request


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_MARKER + json.dumps(payload) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    office: Office | None = None
    watchdog: threading.Timer | None = None
    timeout = 120.0
    try:
        request = read_request(argv)
        op = OPS.get(request["op"])
        if op is None:
            raise WorkerError(f"unknown op {request['op']!r}; known: {sorted(OPS)}")
        timeout = float(request.get("timeout", 120))
        workdir = Path(request.get("workdir") or f"/tmp/lo-harness-{uuid.uuid4().hex}")
        workdir.mkdir(parents=True, exist_ok=True)
        office = Office(
            request.get("soffice") or "soffice",
            workdir,
            float(request.get("startup_timeout", min(60.0, timeout))),
        )

        def expire() -> None:
            assert office is not None
            office.timed_out = True
            office.kill()

        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        office.start()
        result = op(office, request.get("args") or {})
        if office.timed_out:
            raise WorkerError("timed out")
        emit({"ok": True, "result": to_json(result)})
        return 0
    except Exception as exc:
        timed_out = bool(office and office.timed_out)
        message = str(exc) if isinstance(exc, WorkerError) else f"{type(exc).__name__}: {exc}"
        if timed_out:
            message = f"timed out after {timeout:g} s (LibreOffice was killed): {message}"
        emit(
            {
                "ok": False,
                "error": message,
                "timed_out": timed_out,
                "traceback": (
                    "" if isinstance(exc, WorkerError) or timed_out else traceback.format_exc()
                ),
                "soffice_log": office.log_tail() if office else "",
            }
        )
        return 1
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if office is not None:
            office.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
