"""The add-in's VBA on real desktops, read back from the built .xlam with olevba: every class it
uses exists (xlwings' Dictionary included), every entry point has an error handler and checks
the workbook and sheet, the load path refreshes workbooks already open, and Python is started
with a constant command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sheep_xl.addin import build, vba_types
from sheep_xl.addin.build import AddinSources, build_addin_bytes, collect_sources
from sheep_xl.addin.ovba import VbaModule


@pytest.fixture(scope="module")
def modules(tmp_path_factory) -> dict[str, str]:
    from oletools.olevba import VBA_Parser

    xlam = build.build_addin(tmp_path_factory.mktemp("addin"))
    parser = VBA_Parser(str(xlam))
    try:
        return {
            name.rsplit(".", 1)[0]: code.replace("\r\n", "\n")
            for _, _, name, code in parser.extract_macros()
        }
    finally:
        parser.close()


def procedure(modules: dict[str, str], module: str, name: str) -> str:
    """The text of one Sub/Function, from its first line to its End line."""
    match = re.search(
        rf"^(?:Public |Private )?(Sub|Function) {name}\b.*?^End \1", modules[module], re.M | re.S
    )
    assert match, f"{module}.{name} not found"
    return match.group(0)


def test_the_addin_holds_xlwings_dictionary_class(modules) -> None:
    assert "Dictionary" in modules
    dictionary = modules["Dictionary"]
    assert 'Attribute VB_Name = "Dictionary"' in dictionary
    assert "Public Property Get Item(" in dictionary
    assert "VERSION 1.0 CLASS" not in dictionary, "the export header is not module text"
    assert "Dim d As Dictionary" in modules["xlwings"]  # what needed it (Mac branch)


def test_every_class_the_vba_uses_exists(modules) -> None:
    kinds = {"ThisWorkbook": "document", "SheepConfig": "document"}
    classes = {"Dictionary", "SheepEvents"}
    project = [
        VbaModule(name, kinds.get(name, "class" if name in classes else "standard"), code)
        for name, code in modules.items()
    ]
    assert vba_types.missing_types(project) == {}
    used = set().union(*(vba_types.used_types(m.source) for m in project))
    assert {"Dictionary", "SheepEvents", "Workbook", "IRibbonControl"} <= used


def test_build_fails_for_a_module_using_a_missing_class() -> None:
    sources = collect_sources()
    broken = VbaModule(
        "Broken",
        "standard",
        'Attribute VB_Name = "Broken"\n'
        "Sub UsesMissing()\n"
        "    Dim a As New Widget  ' a class nobody wrote\n"
        "    Dim b As Gadget, c As String\n"
        '    Set c = "As Phantom"  \' not code: a string\n'
        "    Set b = New Gizmo\n"
        "    Dim d As Scripting.Dictionary\n"
        "    Dim e As Excel.Range, f As Collection\n"
        "    Open c For Input As iFile\n"
        "End Sub\n",
    )
    assert vba_types.missing_types([broken]) == {
        "Broken": ["Gadget", "Gizmo", "Scripting.Dictionary", "Widget"]
    }
    with pytest.raises(ValueError, match=r"Broken uses Gadget, Gizmo, Scripting\.Dictionary"):
        build_addin_bytes(AddinSources((*sources.modules, broken), sources.custom_ui, ()))
    without_dictionary = tuple(m for m in sources.modules if m.name != "Dictionary")
    with pytest.raises(ValueError, match="xlwings uses Dictionary"):
        build_addin_bytes(AddinSources(without_dictionary, sources.custom_ui, ()))


def test_scanner_reads_continuations_types_and_enums() -> None:
    module = VbaModule(
        "M",
        "standard",
        "Public Enum Colour\n    Red\nEnd Enum\n"
        "Private Type Pair\n    a As Long\nEnd Type\n"
        "Function F(x As Colour, _\n      y As Pair) As Thing\nEnd Function\n"
        "Rem Dim z As Ghost\n",
    )
    assert vba_types.missing_types([module]) == {"M": ["Thing"]}


RIBBON_CALLBACKS = {
    # callback -> what it needs of the active workbook and sheet
    "SheepRefreshAll": "NEED_WORKBOOK",
    "SheepRefreshSheet": "NEED_EDITABLE_SHEET",
    "SheepToggleRefreshOnOpen": "NEED_WORKBOOK",
    "SheepInsertTable": "NEED_NEW_SHEET",
    "SheepInsertFormula": "NEED_EDITABLE_SHEET",
    "SheepAttendees": "NEED_NEW_SHEET",
    "SheepOrders": "NEED_NEW_SHEET",
    "SheepTickets": "NEED_NEW_SHEET",
    "SheepSignIn": "NEED_NOTHING",
    "SheepSignOut": "NEED_NOTHING",
    "SheepDiagnostics": "NEED_NOTHING",
}


def test_every_ribbon_callback_has_a_handler_and_the_checks(modules) -> None:
    ui = (Path(build.__file__).parent / "vba" / "customUI14.xml").read_text()
    assert set(re.findall(r'onAction="(\w+)"', ui)) == set(RIBBON_CALLBACKS)
    for name, need in RIBBON_CALLBACKS.items():
        text = procedure(modules, "SheepRibbon", name)
        code = [line.strip() for line in text.splitlines() if not line.strip().startswith("'")]
        assert code[1] == "On Error GoTo failed", f"{name}: handler first"
        assert f"If Not SheepStart({need}) Then Exit Sub" in text, name
        assert re.search(r"^failed:\n    SheepFail \"[^\"]+\", Err.Description$", text, re.M), name
        assert "RunPython" not in text and "PyStr" not in text
        # nothing touches the active workbook, sheet or cell before the checks
        before = text.split("SheepStart(")[0]
        assert not re.search(r"Active(Workbook|Sheet|Cell)", before), name


def test_the_checks_cover_no_workbook_chart_sheets_and_protection(modules) -> None:
    checks = procedure(modules, "SheepRun", "SheepProblem")
    assert "On Error GoTo failed" in checks
    assert "If ActiveWorkbook Is Nothing Then" in checks
    assert 'If TypeName(ActiveSheet) <> "Worksheet" Then' in checks
    assert "If ActiveSheet.ProtectContents Then" in checks
    assert "If ActiveWorkbook.ProtectStructure Then" in checks
    assert "InProtectedView()" in checks
    start = procedure(modules, "SheepRun", "SheepStart")
    assert "SheepEnsureEvents" in start and "SheepClearStatus" in start and "MsgBox" in start
    ensure = procedure(modules, "SheepRun", "SheepEnsureEvents")
    assert "If SheepApp Is Nothing Then" in ensure and "Set SheepApp = New SheepEvents" in ensure


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("ThisWorkbook", "Workbook_Open"),
        ("SheepEvents", "App_WorkbookOpen"),
        ("SheepEvents", "App_ProtectedViewWindowOpen"),
        ("SheepOnOpen", "SheepOnWorkbookOpen"),
        ("SheepOnOpen", "SheepRefreshOpenWorkbooks"),
        ("SheepOnOpen", "SheepRunPendingRefresh"),
    ],
)
def test_events_and_ontime_macros_have_handlers(modules, module, name) -> None:
    text = procedure(modules, module, name)
    assert "On Error GoTo failed" in text, f"{module}.{name}"
    assert re.search(r"^failed:\n    SheepFail .*, True$", text, re.M), "quietly: status bar"


def test_the_other_ontime_macros_cannot_raise(modules) -> None:
    for name in ("SheepClearStatus", "SheepStatus", "SheepFail", "SheepEnsureEvents"):
        assert "On Error Resume Next" in procedure(modules, "SheepRun", name), name


def test_load_refreshes_workbooks_already_open(modules) -> None:
    on_load = procedure(modules, "ThisWorkbook", "Workbook_Open")
    assert on_load.index("SheepEnsureEvents") < on_load.index("SheepRefreshOpenWorkbooks")
    loop = procedure(modules, "SheepOnOpen", "SheepRefreshOpenWorkbooks")
    assert "For Each Wb In Application.Workbooks" in loop
    assert "If Not Wb Is ThisWorkbook Then SheepOnWorkbookOpen Wb" in loop
    rules = procedure(modules, "SheepOnOpen", "SheepOnWorkbookOpen")
    for rule in ("Wb.IsAddin", "HasRefreshMarker(Wb)", "REFRESH_ON_OPEN", "Wb.ReadOnly"):
        assert rule in rules
    assert "IsPending(Wb.FullName)" in rules, "a workbook is queued once"


def test_status_messages_are_cleared(modules) -> None:
    status = procedure(modules, "SheepRun", "SheepStatus")
    assert "Application.OnTime Now + TimeSerial(0, 0, seconds)" in status
    assert "!SheepClearStatus" in status
    clear = procedure(modules, "SheepRun", "SheepClearStatus")
    assert "Application.StatusBar = False" in clear
    # every status bar message of our VBA goes through SheepStatus
    for name, code in modules.items():
        if name.startswith("Sheep") or name == "ThisWorkbook":
            sets = re.findall(r"Application\.StatusBar = (.+)", code)
            assert set(sets) <= {'"SheepCRM: " & text', "False"}, name
    pending = procedure(modules, "SheepOnOpen", "SheepRunPendingRefresh")
    assert "!SheepClearStatus" in pending, "Python's on-open message goes away too"


def test_python_is_started_with_a_constant_command(modules) -> None:
    ours = "\n".join(
        "\n".join(vba_types.code_lines(code))
        for name, code in modules.items()
        if name.startswith("Sheep")
    )
    assert not re.search(r"\bRunPython\b", ours), "xlwings' RunPython uses the active workbook"
    request = procedure(modules, "SheepRun", "SheepRequest")
    (command,) = re.findall(r"SheepRunPython (.+?)\n(?!\s+&)", request, re.S)
    assert command.replace(" _\n        ", " ") == (
        '"import sheep_xl.excel.ribbon as sheep_ribbon; sheep_ribbon.run_request(\'" & id & "\')"'
    )
    ids = procedure(modules, "SheepRun", "NewRequestId")
    assert ids.count("Hex$(") == 3, "the id is hex digits only"
    assert "Environ(" not in procedure(modules, "SheepRun", "SheepRunPython")
    assert 'pythonPath = "false;;;;;"' in procedure(modules, "SheepRun", "SheepRunPython")


def test_xlwings_module_names_no_workbook_on_a_command_line(modules) -> None:
    xlwings = modules["xlwings"]
    for _, old, new in build.XLWINGS_EDITS:
        assert old not in xlwings and new in xlwings
    for name in ("ExecuteMac", "ExecuteWindows"):
        assert "ActiveWorkbook" not in procedure(modules, "xlwings", name), name
    assert 'If SheepActiveFullName() <> "" Then' in procedure(modules, "xlwings", "GetConfig")


def test_an_unsupported_xlwings_stops_the_build(monkeypatch, tmp_path) -> None:
    folder = tmp_path / "xlwings"
    (folder / "addin").mkdir(parents=True)
    text = (build.xlwings_folder() / "xlwings_custom_addin.bas").read_text(encoding="utf-8")
    (folder / "xlwings_custom_addin.bas").write_text(
        text.replace('"|" + ActiveWorkbook.Name', '"|" + ActiveWorkbook.FullName'),
        encoding="utf-8",
    )
    monkeypatch.setattr(build, "xlwings_folder", lambda: folder)
    with pytest.raises(RuntimeError, match="cannot apply the edit 'Mac: no workbook name"):
        build.xlwings_module()
    with pytest.raises(RuntimeError, match=r"Dictionary\.cls is missing"):
        build.xlwings_dictionary()
