"""Build the SheepCRM Excel add-in (``sheepcrm.xlam``) from text, on any machine, without Excel.

Sources (``sheep_xl/addin/vba``): the VBA modules and classes, the ribbon (``customUI14.xml``)
and the settings sheet (``sheepcrm.conf.txt``). Two modules are produced at build time:

* ``xlwings``: xlwings' BSD-licensed custom add-in module, read from the installed xlwings
  package (never committed here) with its ``PROJECT_NAME`` set to ``sheepcrm``, so the add-in's
  settings live in a ``sheepcrm.conf`` sheet and file, and three exact edits (`XLWINGS_EDITS`)
  so that no workbook name or path is ever put on a command line and settings can be read with
  no workbook open;
* ``Dictionary``: the class module xlwings ships beside it (``xlwings/addin/Dictionary.cls``,
  MIT), which xlwings' module uses on a Mac (``GetConfigFromSheet``);
* ``SheepFunctions``: one VBA wrapper per worksheet function, generated from the metadata the
  functions record (``sheep_xl.excel.registry``).

The package holds a source-only VBA project (``sheep_xl.addin.ovba``), the ribbon part and its
relationship, the add-in content type, and workbook/sheet code names matching the document
modules. Every byte is deterministic: fixed timestamps, fixed order, no random ids. The build
fails when a module uses a class the project does not contain (``sheep_xl.addin.vba_types``).
"""

from __future__ import annotations

import importlib
import io
import re
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import xlwings

from sheep_xl import __version__
from sheep_xl.addin.names import ADDIN_FILE, ADDIN_PROJECT, CONFIG_NAME, UDF_MODULE
from sheep_xl.addin.ovba import ModuleKind, VbaModule, VbaProject, build_vba_project_bin
from sheep_xl.addin.vba_types import check_types
from sheep_xl.excel.registry import REGISTRY, FunctionSpec
from sheep_xl.files import write_atomic

CONFIG_SHEET_CODE_NAME = "SheepConfig"
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
CORE_TIME = "2026-01-01T00:00:00Z"

CT_ADDIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
REL_UI = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships/"

# module name -> (source file, kind), in the order of the VBA project
SOURCE_MODULES: tuple[tuple[str, str, ModuleKind], ...] = (
    ("ThisWorkbook", "ThisWorkbook.cls", "document"),
    (CONFIG_SHEET_CODE_NAME, "SheepConfig.cls", "document"),
    ("SheepEvents", "SheepEvents.cls", "class"),
    ("SheepOnOpen", "SheepOnOpen.bas", "standard"),
    ("SheepRun", "SheepRun.bas", "standard"),
    ("SheepRibbon", "SheepRibbon.bas", "standard"),
    ("SheepProbe", "SheepProbe.bas", "standard"),  # for sheep-xl excel-check
)


@dataclass(frozen=True)
class AddinSources:
    modules: tuple[VbaModule, ...]
    custom_ui: str
    config: tuple[tuple[str, str], ...]


def source_text(name: str) -> str:
    return resources.files("sheep_xl.addin").joinpath("vba", name).read_text(encoding="utf-8")


# Exact edits of xlwings' module, each of which must match once (else the build stops: the
# pinned xlwings changed). The add-in runs Python through ExecuteWindows/ExecuteMac itself
# (SheepRun.bas), with a constant command and its arguments in a request file, so:
XLWINGS_EDITS: tuple[tuple[str, str, str], ...] = (
    (
        # GetConfig's directory layer needs a workbook; with none open it raised error 91
        "settings with no workbook open",
        'If GetFullName(ActiveWorkbook) <> "" Then',
        'If SheepActiveFullName() <> "" Then',
    ),
    (
        # Mac: the AppleScript splits this on "|" and runs it in a shell string; the add-in's
        # own name is safe there, and Python finds the user's workbook from the request file
        "Mac: no workbook name in the shell command",
        'ParameterString = ParameterString + "|" + ActiveWorkbook.Name\n',
        'ParameterString = ParameterString + "|" + ThisWorkbook.Name\n',
    ),
    (
        "Windows: no workbook name in the cmd.exe command",
        '" --wb=" & """" & ActiveWorkbook.Name & """ --from_xl=1"',
        '" --wb=" & """" & ThisWorkbook.Name & """ --from_xl=1"',
    ),
)


def xlwings_folder() -> Path:
    return Path(xlwings.__file__).parent


def xlwings_module() -> str:
    """xlwings' custom add-in module from the installed package, named for our add-in, with
    `XLWINGS_EDITS` applied."""
    path = xlwings_folder() / "xlwings_custom_addin.bas"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r'^(Public Const PROJECT_NAME As String = )"[^"]*"', re.M)
    if not pattern.search(text):
        raise RuntimeError(f"{path} has no PROJECT_NAME constant: this xlwings is not supported")
    text = pattern.sub(rf'\1"{ADDIN_PROJECT}"', text, count=1)
    for what, old, new in XLWINGS_EDITS:
        if text.count(old) != 1:
            raise RuntimeError(f"{path}: cannot apply the edit '{what}': xlwings is not supported")
        text = text.replace(old, new)
    return text


def xlwings_dictionary() -> str:
    """xlwings' ``Dictionary`` class (Tim Hall's VBA-Dictionary, MIT), which its module needs on
    a Mac; read from the installed package like the module."""
    path = xlwings_folder() / "addin" / "Dictionary.cls"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: this xlwings is not supported")
    return path.read_text(encoding="utf-8")


def function_wrappers(specs: list[FunctionSpec]) -> str:
    """VBA wrappers that hand each call to xlwings' UDF server (``XLPy.CallUDF``), as xlwings'
    own generator does for add-ins (``ActiveWorkbook``), plus the Insert Function texts."""
    lines = [
        'Attribute VB_Name = "SheepFunctions"',
        "Option Explicit",
        "",
        "' Generated by 'sheep-xl addin build' from the Python functions in " + UDF_MODULE + ".",
        "' Worksheet functions run in Python through xlwings (Windows Excel only).",
        "",
    ]
    for spec in specs:
        params = ", ".join(("Optional " if a.optional else "") + a.name for a in spec.args)
        args = ", ".join(a.name for a in spec.args)
        lines += [
            f"Public Function {spec.name}({params})",
            f"Attribute {spec.name}.VB_Description = {_vba_string(spec.doc)}",
            f'Attribute {spec.name}.VB_ProcData.VB_Invoke_Func = " \\n14"',
            "#If Mac Then",
            f'    {spec.name} = "SheepCRM: worksheet functions need Excel for Windows; '
            'on a Mac use SheepCRM > Events table."',
            "    Exit Function",
            "#End If",
            '    If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then '
            "Exit Function",
            "    If TypeOf Application.Caller Is Range Then On Error GoTo failed",
            f'    {spec.name} = XLPy.CallUDF("{UDF_MODULE}", "{spec.name}", Array({args}), '
            "ActiveWorkbook, Application.Caller)",
            "    Exit Function",
            "failed:",
            f"    {spec.name} = Err.Description",
            "End Function",
            "",
        ]
    lines += [
        "Public Sub RegisterSheepFunctions()",
        "    ' Descriptions for Insert Function; Excel may refuse this for a hidden add-in,",
        "    ' which only costs the descriptions.",
        "    On Error Resume Next",
    ]
    for spec in specs:
        described = ", ".join(_vba_string(a.doc[:250]) for a in spec.args)
        arguments = f", ArgumentDescriptions:=Array({described})" if spec.args else ""
        lines.append(
            f'    Application.MacroOptions Macro:="{spec.name}", '
            f'Description:={_vba_string(spec.doc[:250])}, Category:="{spec.category}"{arguments}'
        )
    lines += ["End Sub", ""]
    return "\n".join(lines)


def _vba_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def read_config(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("\t")
            pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def collect_sources() -> AddinSources:
    importlib.import_module(UDF_MODULE)  # registers the worksheet functions
    specs = [s for s in REGISTRY.values() if s.module == UDF_MODULE]
    modules = [VbaModule(name, kind, source_text(file)) for name, file, kind in SOURCE_MODULES]
    modules.insert(2, VbaModule("xlwings", "standard", xlwings_module()))
    modules.insert(3, VbaModule("Dictionary", "class", xlwings_dictionary()))
    modules.append(VbaModule("SheepFunctions", "standard", function_wrappers(specs)))
    return AddinSources(
        tuple(modules), source_text("customUI14.xml"), read_config(source_text("sheepcrm.conf.txt"))
    )


# --- package parts ------------------------------------------------------------------------------

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _content_types() -> str:
    ct = "application/vnd.openxmlformats-officedocument"
    return _XML + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT_ADDIN}"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="{ct}.spreadsheetml.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{ct}.extended-properties+xml"/>'
        f'<Override PartName="/docProps/custom.xml" ContentType="{ct}.custom-properties+xml"/>'
        "</Types>"
    )


def _root_rels() -> str:
    return _XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG_REL}metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_DOC_REL}extended-properties" '
        'Target="docProps/app.xml"/>'
        f'<Relationship Id="rId4" Type="{REL_UI}" Target="customUI/customUI14.xml"/>'
        f'<Relationship Id="rId5" Type="{_DOC_REL}custom-properties" '
        'Target="docProps/custom.xml"/>'
        "</Relationships>"
    )


def _workbook() -> str:
    return _XML + (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<workbookPr codeName="ThisWorkbook"/>'
        "<bookViews><workbookView/></bookViews>"
        f'<sheets><sheet name={quoteattr(CONFIG_NAME)} sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def _workbook_rels() -> str:
    return _XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC_REL}styles" Target="styles.xml"/>'
        f'<Relationship Id="rId3" Type="{REL_VBA}" Target="vbaProject.bin"/>'
        "</Relationships>"
    )


def _config_sheet(config: tuple[tuple[str, str], ...]) -> str:
    rows = "".join(
        f'<row r="{n}">'
        f'<c r="A{n}" t="inlineStr"><is><t>{escape(key)}</t></is></c>'
        f'<c r="B{n}" t="inlineStr"><is><t>{escape(value)}</t></is></c></row>'
        for n, (key, value) in enumerate(config, 1)
    )
    last = max(len(config), 1)
    return _XML + (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetPr codeName="{CONFIG_SHEET_CODE_NAME}"/>'
        f'<dimension ref="A1:B{last}"/>'
        '<cols><col min="1" max="1" width="30" customWidth="1"/>'
        '<col min="2" max="2" width="40" customWidth="1"/></cols>'
        f"<sheetData>{rows}</sheetData>"
        "</worksheet>"
    )


def _styles() -> str:
    return _XML + (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _core() -> str:
    return _XML + (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:title>SheepCRM for Excel</dc:title>"
        "<dc:description>sheepCRM events in Excel: ribbon, refresh on open and worksheet "
        "functions (sheep-xl).</dc:description>"
        "<dc:creator>sheep-xl</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{CORE_TIME}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{CORE_TIME}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _app() -> str:
    return _XML + (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>Microsoft Excel</Application>'
        f"<AppVersion>16.0300</AppVersion><Company>sheep-xl {escape(__version__)}</Company>"
        "</Properties>"
    )


# Custom document properties (File > Properties > Custom in Excel) that record what the add-in
# was built with: `sheep-xl addin status` and `doctor` compare them with the environment, since
# the xlwings module inside names its DLL and AppleScript by xlwings' version.
PROPERTY_SHEEP_XL = "sheep-xl version"
PROPERTY_XLWINGS = "xlwings version"
_CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the one fmtid custom properties use


def _custom(properties: dict[str, str]) -> str:
    items = "".join(
        f'<property fmtid="{_CUSTOM_FMTID}" pid="{pid}" name={quoteattr(name)}>'
        f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(properties.items(), 2)  # pids start at 2
    )
    return _XML + (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'docPropsVTypes">{items}</Properties>'
    )


def built_with() -> dict[str, str]:
    """The versions an add-in built now records."""
    return {PROPERTY_SHEEP_XL: __version__, PROPERTY_XLWINGS: xlwings.__version__}


def read_built_with(addin: bytes) -> dict[str, str]:
    """The versions recorded in an add-in's custom properties (empty for an add-in built before
    they were recorded, or a file that is not one of ours)."""
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(io.BytesIO(addin)) as zf:
            root = ElementTree.fromstring(zf.read("docProps/custom.xml"))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}
    return {
        prop.get("name", ""): "".join(prop.itertext())
        for prop in root
        if prop.tag.endswith("}property")
    }


def build_addin_bytes(sources: AddinSources | None = None) -> bytes:
    sources = sources or collect_sources()
    check_types(sources.modules)  # a missing class would stop every macro in Excel
    project = VbaProject(name="SheepCRM", modules=sources.modules)
    parts = [
        ("[Content_Types].xml", _content_types().encode()),
        ("_rels/.rels", _root_rels().encode()),
        ("docProps/core.xml", _core().encode()),
        ("docProps/app.xml", _app().encode()),
        ("docProps/custom.xml", _custom(built_with()).encode()),
        ("customUI/customUI14.xml", sources.custom_ui.encode("utf-8")),
        ("xl/workbook.xml", _workbook().encode()),
        ("xl/_rels/workbook.xml.rels", _workbook_rels().encode()),
        ("xl/worksheets/sheet1.xml", _config_sheet(sources.config).encode()),
        ("xl/styles.xml", _styles().encode()),
        ("xl/vbaProject.bin", build_vba_project_bin(project)),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def build_addin(out: Path) -> Path:
    """Write the add-in to ``out`` (a file or a folder) and return its path."""
    out = Path(out)
    if out.is_dir():
        out = out / ADDIN_FILE
    write_atomic(out, build_addin_bytes())
    return out
