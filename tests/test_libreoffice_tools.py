"""Tests for the LibreOffice headless harness (tools.libreoffice, tools/uno_worker.py).

Each harness call starts a private soffice (about 1.5 s), so the checks are batched: one
recalculation of a small report workbook serves all the value/error tests, one rendering all
the PNG tests. Every test skips when LibreOffice or a Python with ``uno`` is missing.
"""

from __future__ import annotations

import importlib.util
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.table import Table

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tools import libreoffice as lo  # noqa: E402
from tools.render_sheets import main as render_main  # noqa: E402

pytestmark = pytest.mark.libreoffice

_REASON = lo.skip_reason()
needs_office = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")
needs_render = pytest.mark.skipif(
    lo.skip_reason(need_pdftoppm=True) is not None,
    reason=lo.skip_reason(need_pdftoppm=True) or "",
)

TWICE = "Function TWICE(x)\n    TWICE = 2 * x\nEnd Function\n"


def _xlwings_file(name: str) -> Path:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        pytest.skip("xlwings is not installed")
    path = Path(spec.origin).parent / name
    if not path.is_file():
        pytest.skip(f"xlwings does not ship {name}")
    return path


# --------------------------------------------------------------------------------------------
# Workbooks made for the tests
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sheets: an Excel table ``Events`` and a ``Summary`` of formulas over it."""
    wb = Workbook()
    events = wb.active
    events.title = "Events"
    events.append(["Name", "Type", "Seats"])
    for row in [
        ("Spring Gala", "Conference", 120),
        ("AGM", "Meeting", 40),
        ("Autumn Summit", "Conference", 300),
        ("Webinar 1", "Webinar", 0),
    ]:
        events.append(row)
    events.add_table(Table(displayName="Events", ref="A1:C5"))
    summary = wb.create_sheet("Summary")
    summary["A1"] = 1
    summary["A2"] = 2
    summary["A3"] = 3
    summary["A5"] = "Conference"
    summary["B1"] = "=SUM(A1:A3)"
    summary["B2"] = '=COUNTIF(Events!B2:B5,"Conference")'
    summary["B3"] = '=COUNTIFS(Events[Type],"Conference")'  # structured reference
    summary["B4"] = "=SUM(Events[Seats])"
    summary["B5"] = '=A5&" events"'
    summary["B6"] = "=NOSUCHFUNCTION(1)"  # deliberate #NAME?
    summary["B7"] = "=1/0"
    summary["B8"] = '=VLOOKUP("Nope",Events!A2:C5,2,FALSE)'
    summary["B9"] = '=IF(A1>0,"","x")'
    path = tmp_path_factory.mktemp("wb") / "report.xlsx"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def recalc(report_workbook: Path) -> lo.Recalculation:
    if _REASON:
        pytest.skip(_REASON)
    return lo.recalculate(report_workbook, {"Summary": ["A1:A5", "B1:B9"], "Events": ["A1", "C3"]})


def _vba_workbook(path: Path, modules: dict[str, str], *, addin: bool = False) -> Path:
    """An .xlsm/.xlam whose VBA project is written by sheep_xl.addin.ovba from ``modules``:
    an Excel-made xlwings file with its ``xl/vbaProject.bin`` replaced."""
    ovba = pytest.importorskip("sheep_xl.addin.ovba")
    base = _xlwings_file("quickstart_addin.xlam" if addin else "quickstart.xlsm")
    project = ovba.VbaProject(
        name="VBAProject",
        modules=(
            ovba.VbaModule("ThisWorkbook", "document", ""),
            ovba.VbaModule("Sheet1", "document", ""),
            *(
                ovba.VbaModule(name, "standard", f'Attribute VB_Name = "{name}"\n{source}')
                for name, source in modules.items()
            ),
        ),
    )
    binary = ovba.build_vba_project_bin(project)
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, binary if item.filename == "xl/vbaProject.bin" else data)
    return path


HELPERS = (
    TWICE
    + 'Function GREET(name As String) As String\n    GREET = "Hello " & name\nEnd Function\n'
    + 'Sub Main()\n    ThisWorkbook.Worksheets(1).Range("C1").Value = 99\nEnd Sub\n'
    + "Function RATIO(x)\n    Dim z\n    z = 0\n    RATIO = x / z\nEnd Function\n"
)


@pytest.fixture(scope="module")
def vba_xlsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _vba_workbook(tmp_path_factory.mktemp("vba") / "helpers.xlsm", {"Helpers": HELPERS})


# --------------------------------------------------------------------------------------------
# PNG check without Pillow
# --------------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_colours(path: Path, enough: int = 2) -> tuple[int, int, int]:
    """(width, height, distinct pixel colours, stopping at ``enough``) of an 8-bit PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    pos, idat = 8, b""
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8, "only 8-bit PNGs are decoded here"
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                upper_left = previous[i - bpp] if i >= bpp else 0
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[i] = (line[i] + pred) & 0xFF
        colours.update(bytes(line[i : i + bpp]) for i in range(0, stride, bpp))
        if len(colours) >= enough:
            break
        previous = line
    return width, height, len(colours)


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------


def test_skip_reason_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFFICE", "/nonexistent/soffice")
    reason = lo.skip_reason()
    assert reason is not None
    assert "LibreOffice" in reason and reason.endswith(".")
    monkeypatch.setenv("UNO_PYTHON", "/nonexistent/python3")
    assert "import uno" in (lo.skip_reason() or "")


def test_missing_file_raises_before_starting_anything(tmp_path: Path) -> None:
    with pytest.raises(lo.LibreOfficeError, match="no such file"):
        lo.recalculate(tmp_path / "absent.xlsx", {"Sheet": ["A1"]})


@needs_office
def test_discovery_finds_office_and_uno_python() -> None:
    assert lo.find_soffice()
    assert lo.find_uno_python()
    assert lo.skip_reason() is None


# --------------------------------------------------------------------------------------------
# recalculate
# --------------------------------------------------------------------------------------------


@needs_office
def test_recalculate_values(recalc: lo.Recalculation) -> None:
    summary = recalc["Summary"]
    assert summary["B1"] == 6.0
    assert summary["B2"] == 2.0
    assert summary["B5"] == "Conference events"
    assert summary["A5"] == "Conference"
    assert summary["A4"] is None
    assert summary["B9"] == ""  # a formula giving empty text is text, not empty
    assert recalc["Events"] == {"A1": "Name", "C3": 40.0}
    assert isinstance(summary["A1"], float)
    assert recalc.cells["Summary"]["A4"].kind == "empty"
    assert recalc.cells["Summary"]["B9"].kind == "text"


@needs_office
def test_recalculate_resolves_structured_references_from_xlsx(recalc: lo.Recalculation) -> None:
    assert recalc["Summary"]["B3"] == 2.0
    assert recalc["Summary"]["B4"] == 460.0
    assert recalc.formulas["Summary"]["B3"] == '=COUNTIFS(Events[Type];"Conference")'


@needs_office
def test_recalculate_reports_formulas_in_libreoffice_syntax(recalc: lo.Recalculation) -> None:
    formulas = recalc.formulas["Summary"]
    assert formulas["B1"] == "=SUM(A1:A3)"
    assert formulas["B2"] == '=COUNTIF($Events.B2:B5;"Conference")'
    assert formulas["A1"] is None


@needs_office
def test_recalculate_detects_errors(recalc: lo.Recalculation) -> None:
    cells = recalc.cells["Summary"]
    assert cells["B6"].kind == "error"
    assert cells["B6"].value == "#NAME?"
    assert cells["B6"].error_code == 525
    assert cells["B6"].excel_error == "#NAME?"
    assert cells["B7"].value == "#DIV/0!"
    assert cells["B8"].value == "#N/A"
    assert not cells["B1"].is_error and cells["B1"].excel_error is None


@needs_office
def test_recalculate_reports_sheets_and_errors_anywhere(recalc: lo.Recalculation) -> None:
    assert recalc.sheets == ["Events", "Summary"]
    assert recalc.hidden_sheets == []
    assert not recalc.has_errors("Events")
    assert recalc.has_errors("Summary") and recalc.has_errors()
    assert recalc.error_counts == {"Events": 0, "Summary": 3}
    assert recalc.errors["Summary"] == {"B6": "#NAME?", "B7": "#DIV/0!", "B8": "#N/A"}
    assert recalc.cells_with_error("#NAME?") == {"Summary": ["B6"]}


def test_excel_error_names_for_libreoffice_only_codes() -> None:
    assert lo.CellValue("error", "Err:504", "=X", 504).excel_error == "#VALUE!"
    assert lo.CellValue("error", "Err:502", "=X", 502).excel_error == "#NUM!"
    assert lo.CellValue("error", "Err:508", "=X", 508).excel_error is None


@needs_office
def test_errors_are_reported_with_context(report_workbook: Path) -> None:
    with pytest.raises(lo.LibreOfficeError, match=r"no sheet named 'Nope'.*Events"):
        lo.recalculate(report_workbook, {"Nope": ["A1"]})
    assert lo.leftover_processes() == []


# --------------------------------------------------------------------------------------------
# PDF and PNG
# --------------------------------------------------------------------------------------------


@needs_render
def test_render_pngs_one_png_per_sheet(report_workbook: Path, tmp_path: Path) -> None:
    pngs = lo.render_pngs(report_workbook, tmp_path / "png", dpi=40)
    assert [p.name for p in pngs] == ["report-01-events.png", "report-02-summary.png"]
    for png in pngs:
        width, height, colours = _png_colours(png)
        assert width > 100 and height > 100
        assert colours > 1, f"{png.name} is blank"


@needs_render
def test_render_sheets_cli(
    report_workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = render_main(
        [str(report_workbook), "--out", str(tmp_path), "--dpi", "30", "--gridlines"]
    )
    assert status == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == ["report-01-events.png", "report-02-summary.png"]
    assert all(Path(p).read_bytes()[:8] == PNG_SIGNATURE for p in printed)


def test_render_sheets_runs_as_module_and_as_script(tmp_path: Path) -> None:
    for command in (
        [sys.executable, "-m", "tools.render_sheets", "--help"],
        [sys.executable, str(REPO_ROOT / "tools" / "render_sheets.py"), "--help"],
    ):
        proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "--dpi" in proc.stdout


@needs_office
def test_convert_to_pdf(report_workbook: Path, tmp_path: Path) -> None:
    pdf = lo.convert_to_pdf(report_workbook, tmp_path)
    assert pdf == tmp_path.resolve() / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"


# --------------------------------------------------------------------------------------------
# Basic / VBA
# --------------------------------------------------------------------------------------------


@needs_office
def test_basic_modules_of_an_excel_made_xlsm() -> None:
    modules = lo.basic_modules(_xlwings_file("quickstart.xlsm"))
    assert set(modules["VBAProject"]) == {"Module1", "Sheet1", "Sheet2", "ThisWorkbook"}
    source = modules["VBAProject"]["Module1"]
    assert "Option VBASupport 1" in source
    assert "Sub SampleCall()" in source
    assert modules["Standard"] == {}


@needs_office
def test_basic_modules_of_an_excel_made_xlam() -> None:
    modules = lo.basic_modules(_xlwings_file("quickstart_addin_ribbon.xlam"))
    project = modules["MyAddin"]  # the library is named after the VBA project
    assert {"RibbonMyAddin", "xlwings", "Dictionary", "ThisWorkbook"} <= set(project)
    assert "Sub RunMain(control As IRibbonControl)" in project["RibbonMyAddin"]


@needs_office
def test_macros_in_a_basic_document_made_by_libreoffice(tmp_path: Path) -> None:
    """The harness's own .ods with a Basic module: a cell formula calls TWICE."""
    ods = lo.create_basic_document(
        tmp_path / "twice.ods",
        {"Module1": TWICE + "Function Spin()\n    Do\n    Loop\nEnd Function\n"},
        cells={"A1": "=TWICE(4)", "B1": "label", "C1": 3},
    )
    assert ods.is_file()
    values = lo.evaluate_with_document_macros(
        ods, {"A2": "=TWICE(21)", "A3": "=TWICE(A1)+SUM(C1,1)", "A4": "=NOPE(1)"}
    )
    assert values == {"A2": 42.0, "A3": 20.0, "A4": "#NAME?"}
    # Without macros allowed, the saved formula calling Basic gives an error.
    plain = lo.recalculate(ods, {"Sheet1": ["A1"]})
    assert plain.cells["Sheet1"]["A1"].is_error


@needs_office
def test_evaluate_vba_functions_of_a_generated_xlsm(vba_xlsm: Path) -> None:
    values = lo.evaluate_with_document_macros(
        vba_xlsm,
        {
            "A10": "=TWICE(21)",
            "A11": '=GREET("Ann")&"|"&TWICE(1)',
            "A12": "=RATIO(1)",  # Basic runtime error: LibreOffice gives an empty string
        },
    )
    assert values == {"A10": 42.0, "A11": "Hello Ann|2", "A12": ""}


@needs_office
def test_run_macro_returns_values_cells_and_basic_errors(vba_xlsm: Path, tmp_path: Path) -> None:
    url = "vnd.sun.star.script:VBAProject.Helpers.{}?language=Basic&location=document"
    main = lo.run_macro(vba_xlsm, url.format("Main"), read_cells={"Sheet1": ["C1"]})
    assert main.ok and main.value is None and main.error is None
    assert main.cells["Sheet1"]["C1"].value == 99.0
    greet = lo.run_macro(vba_xlsm, url.format("GREET"), ["Bob"])
    assert greet == lo.MacroResult(ok=True, value="Hello Bob")
    failing = lo.run_macro(vba_xlsm, url.format("RATIO"), [1])
    assert not failing.ok
    assert failing.error == "Basic error 11: Division by zero."
    missing = lo.run_macro(vba_xlsm, url.format("NoSuchMacro"))
    assert not missing.ok and "NoSuchMacro" in (missing.error or "")


@needs_office
def test_compile_check_finds_modules_libreoffice_cannot_compile(tmp_path: Path) -> None:
    broken = _vba_workbook(
        tmp_path / "broken.xlsm",
        {"Good": TWICE, "Bad": "Function B()\n    B = 1 / 0\nEnd Function\n"},
    )
    check = lo.basic_compile_check(broken)
    assert check["VBAProject"] == {
        "Good": True,
        "Bad": False,  # a constant division by zero is a compile error in LibreOffice Basic
        "Sheet1": None,
        "ThisWorkbook": None,
    }
    # One module that does not compile breaks every formula calling the library's functions.
    assert lo.evaluate_with_document_macros(broken, {"A1": "=TWICE(2)"}) == {"A1": ""}


@needs_office
def test_add_in_functions_reach_other_workbooks(tmp_path: Path) -> None:
    addin = _vba_workbook(tmp_path / "helpers.xlam", {"Helpers": HELPERS}, addin=True)
    wb = Workbook()
    wb.active.title = "Data"
    wb.active["A1"] = "=TWICE(21)"
    wb.active["A2"] = '=GREET("add-in")'
    book = tmp_path / "uses_addin.xlsx"
    wb.save(book)
    result = lo.recalculate(book, {"Data": ["A1:A2"]}, addins=[addin])
    assert result["Data"] == {"A1": 42.0, "A2": "Hello add-in"}
    assert result.addins == {str(addin.resolve()): ["VBAProject.Helpers"]}
    assert not result.has_errors()


# --------------------------------------------------------------------------------------------
# Timeouts and clean-up
# --------------------------------------------------------------------------------------------


@needs_office
def test_timeout_kills_office_and_leaves_nothing_behind(tmp_path: Path) -> None:
    ods = lo.create_basic_document(
        tmp_path / "spin.ods", {"Module1": "Function Spin()\n    Do\n    Loop\nEnd Function\n"}
    )
    started = time.monotonic()
    with pytest.raises(lo.LibreOfficeError, match="timed out") as info:
        lo.evaluate_with_document_macros(ods, {"A1": "=Spin()"}, timeout=6)
    assert info.value.timed_out
    assert time.monotonic() - started < 40
    assert lo.leftover_processes() == []
