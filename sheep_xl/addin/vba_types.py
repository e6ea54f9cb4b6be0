"""Which classes a VBA project uses, so the build fails before Excel's compiler would.

VBA compiles a module only when every type it names exists: a missing class module (xlwings'
``Dictionary`` on a Mac, say) stops the whole project, every button included, and Excel says so
only when someone clicks. `missing_types` reads the modules' text (comments and string literals
removed, ``_`` continuations joined, every ``#If`` branch included, since Windows and Mac compile
different ones) and returns each type named in ``As X``, ``As New X``, ``New X`` or
``Implements X`` that is neither built in (VBA, Excel, Office: `BUILTIN_TYPES`) nor a class
module, ``Type`` or ``Enum`` of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sheep_xl.addin.ovba import VbaModule

# Types of the libraries every Excel VBA project references (VBA, Excel, stdole, Office), as far
# as this project's modules and xlwings' use them or plausibly will. Lower-case.
_VBA = (
    "Any Boolean Byte Collection Currency Date Decimal Double ErrObject Integer Long LongLong "
    "LongPtr Object Single String Variant VbCompareMethod VbMsgBoxResult VbMsgBoxStyle VbVarType"
)
_EXCEL = (
    "AddIn AddIns Application Areas Border Borders Chart ChartObject ChartObjects Charts Comment "
    "Font Hyperlink Hyperlinks Interior ListColumn ListObject ListObjects ListRow Name Names "
    "OLEObject PivotCache PivotTable ProtectedViewWindow ProtectedViewWindows Range Shape Shapes "
    "Sheets Style Window Windows Workbook Workbooks Worksheet WorksheetFunction Worksheets "
    "XlCalculation"
)
_OFFICE = (  # and stdole
    "IPictureDisp StdFont StdPicture CommandBar CommandBarButton CommandBarControl CommandBars "
    "DocumentProperties DocumentProperty FileDialog IRibbonControl IRibbonUI MsoFileDialogType"
)
BUILTIN_TYPES: frozenset[str] = frozenset(
    name.lower() for group in (_VBA, _EXCEL, _OFFICE) for name in group.split(" ")
)

#: libraries a dotted type may name (``Excel.Range``); anything else (``Scripting.Dictionary``)
#: needs a reference the project does not have
BUILTIN_LIBRARIES: frozenset[str] = frozenset({"vba", "excel", "office", "stdole"})

_STRING = re.compile(r'"(?:[^"]|"")*"')
_NAME = r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
_USES = (
    re.compile(rf"\bAs\s+(?:New\s+)?{_NAME}", re.I),
    re.compile(rf"\bNew\s+{_NAME}", re.I),
    re.compile(rf"^\s*Implements\s+{_NAME}", re.I),
)
# ``Open f For Input As #1`` / ``As iFileNum`` and ``Name a As b`` (rename a file) are statements
_FILE_STATEMENT = re.compile(r"^\s*(?:Open\s|Name\s+\S.*\sAs\s)", re.I)
_DECLARED = re.compile(r"^\s*(?:(?:Public|Private|Friend)\s+)?(?:Type|Enum)\s+([A-Za-z_]\w*)", re.I)


def code_lines(source: str) -> list[str]:
    """The module's statements: continuations joined, strings emptied, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _STRING.sub('""', raw)
        quote = line.find("'")
        if quote >= 0:
            line = line[:quote]
        if re.match(r"^\s*(?:\d+\s+)?Rem\b", line, re.I) or line.lstrip().startswith("Attribute "):
            line = ""
        if line.rstrip().endswith(" _"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def used_types(source: str) -> set[str]:
    """Every type name one module's code refers to, as written."""
    found: set[str] = set()
    for line in code_lines(source):
        if _FILE_STATEMENT.match(line):
            continue
        for pattern in _USES:
            found.update(m.group(1) for m in pattern.finditer(line))
    return found


def declared_types(modules: Iterable[VbaModule]) -> set[str]:
    """Class modules (document modules are classes too), ``Type`` and ``Enum`` names; lower."""
    names: set[str] = set()
    for module in modules:
        if module.kind != "standard":
            names.add(module.name.lower())
        for line in code_lines(module.source):
            match = _DECLARED.match(line)
            if match:
                names.add(match.group(1).lower())
    return names


def _known(name: str, project: set[str]) -> bool:
    library, dot, leaf = name.lower().rpartition(".")
    if dot and library not in BUILTIN_LIBRARIES:
        return False
    return leaf in BUILTIN_TYPES or leaf in project


def missing_types(modules: Iterable[VbaModule]) -> dict[str, list[str]]:
    """module name -> the types it uses that neither VBA, Excel, Office nor the project has."""
    modules = list(modules)
    project = declared_types(modules)
    missing: dict[str, list[str]] = {}
    for module in modules:
        unknown = sorted(t for t in used_types(module.source) if not _known(t, project))
        if unknown:
            missing[module.name] = unknown
    return missing


def check_types(modules: Iterable[VbaModule]) -> None:
    """Raise ValueError naming each module and the class it uses that the project lacks."""
    missing = missing_types(modules)
    if missing:
        listed = "; ".join(f"{name} uses {', '.join(types)}" for name, types in missing.items())
        raise ValueError(
            f"The add-in's VBA would not compile: {listed}, which the project does not contain "
            "(add the class module, or the type to BUILTIN_TYPES if VBA, Excel or Office has it)."
        )
