"""Is a package (``.xlsx``, ``.xlsm``, ``.xlam``) valid, as Excel will judge it?

We have no Excel to open our files, and Excel's answer to a broken part is a "We found a problem
with some content" repair dialog, or silently dropped tables and charts. This helper is the
nearest check we can run anywhere, in two halves:

1. **The schemas.** Every XML part is validated with lxml against the ISO/IEC 29500-4:2016
   Transitional schemas (SpreadsheetML, DrawingML), the OPC schemas (content types,
   relationships, core properties) and Microsoft's customUI schemas, chosen by the part's content
   type (or, for the ribbon, which has none of its own, by its root namespace). Markup
   compatibility is processed first, as Excel does: what ``mc:Ignorable`` names is dropped and
   ``mc:AlternateContent`` becomes its first understood ``mc:Choice``, else its ``mc:Fallback``.
   ``extLst`` content is already lax in the schemas; ``xml:space`` on SpreadsheetML elements,
   which Excel writes on ``<t>`` but the schema does not declare, is removed.
2. **Excel's own rules the schemas cannot express** (the ones that make Excel repair a file),
   each reported under its rule name: ``content-type``, ``stale-override``, ``relationship``,
   ``table-header``, ``table-unique``, ``style-index``, ``row-order``, ``cell-order``,
   ``defined-name``, ``shared-string``, ``date``, ``cell-text``, ``sheet-name``,
   ``markup-compatibility`` and ``schema``.

The schemas live beside the project, never inside it: ``../shared/schemas/ooxml`` from the repo
root, or ``SHEEP_OOXML_SCHEMAS``. Tests skip with a reason when they are absent (`require`).
"""

from __future__ import annotations

import functools
import io
import os
import posixpath
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.styles.numbers import is_date_format

SCHEMA_DIR = Path(
    os.environ.get(
        "SHEEP_OOXML_SCHEMAS",
        Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "ooxml",
    )
)

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_XML = "http://www.w3.org/XML/1998/namespace"
NS_DML = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
NS_EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_UI_2006 = "http://schemas.microsoft.com/office/2006/01/customui"
NS_UI_2009 = "http://schemas.microsoft.com/office/2009/07/customui"
M = f"{{{NS_MAIN}}}"
REL_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_MAIN_ROOT = (NS_MAIN, "workbook")

# Content type -> the root element its part must have (and so the schema that validates it).
ROOTS: dict[str, tuple[str, str]] = {
    _SML + "sheet.main+xml": _MAIN_ROOT,
    _SML + "template.main+xml": _MAIN_ROOT,
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": _MAIN_ROOT,
    "application/vnd.ms-excel.template.macroEnabled.main+xml": _MAIN_ROOT,
    "application/vnd.ms-excel.addin.macroEnabled.main+xml": _MAIN_ROOT,
    _SML + "worksheet+xml": (NS_MAIN, "worksheet"),
    _SML + "chartsheet+xml": (NS_MAIN, "chartsheet"),
    _SML + "styles+xml": (NS_MAIN, "styleSheet"),
    _SML + "sharedStrings+xml": (NS_MAIN, "sst"),
    _SML + "table+xml": (NS_MAIN, "table"),
    _SML + "calcChain+xml": (NS_MAIN, "calcChain"),
    _SML + "sheetMetadata+xml": (NS_MAIN, "metadata"),
    _SML + "comments+xml": (NS_MAIN, "comments"),
    _SML + "pivotTable+xml": (NS_MAIN, "pivotTableDefinition"),
    _SML + "pivotCacheDefinition+xml": (NS_MAIN, "pivotCacheDefinition"),
    _SML + "pivotCacheRecords+xml": (NS_MAIN, "pivotCacheRecords"),
    _SML + "externalLink+xml": (NS_MAIN, "externalLink"),
    _SML + "connections+xml": (NS_MAIN, "connections"),
    _SML + "queryTable+xml": (NS_MAIN, "queryTable"),
    "application/vnd.openxmlformats-officedocument.theme+xml": (NS_DML, "theme"),
    "application/vnd.openxmlformats-officedocument.drawing+xml": (NS_XDR, "wsDr"),
    "application/vnd.openxmlformats-officedocument.drawingml.chart+xml": (NS_CHART, "chartSpace"),
    "application/vnd.openxmlformats-package.core-properties+xml": (NS_CP, "coreProperties"),
    "application/vnd.openxmlformats-officedocument.extended-properties+xml": (NS_EP, "Properties"),
    "application/vnd.openxmlformats-officedocument.custom-properties+xml": (
        NS_CUSTOM,
        "Properties",
    ),
    CT_RELS: (NS_PKG_REL, "Relationships"),
}
# Parts that hold plain XML by content type but a known vocabulary by root namespace.
ROOTS_BY_NAMESPACE = {
    NS_UI_2006: (NS_UI_2006, "customUI"),
    NS_UI_2009: (NS_UI_2009, "customUI"),
}
# XML parts Excel writes for which no published schema exists here (Office 2013+ chart styles,
# legacy VML); they are parsed (well-formedness) but not validated.
NO_SCHEMA = {
    "application/vnd.ms-office.chartstyle+xml",
    "application/vnd.ms-office.chartcolorstyle+xml",
    "application/vnd.openxmlformats-officedocument.vmlDrawing",
}
BINARY = {
    "application/vnd.ms-office.vbaProject",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings",
    "image/png",
    "image/jpeg",
    "image/gif",
}

# Namespaces the schema set declares: markup compatibility keeps these, drops other ignorables.
UNDERSTOOD = {
    NS_MAIN,
    NS_R,
    NS_DML,
    NS_CHART,
    NS_XDR,
    NS_CP,
    NS_EP,
    NS_CUSTOM,
    NS_CT,
    NS_PKG_REL,
    NS_UI_2006,
    NS_UI_2009,
    NS_MC,
    NS_XML,
    "http://schemas.openxmlformats.org/officeDocument/2006/sharedTypes",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    "http://schemas.openxmlformats.org/drawingml/2006/chartDrawing",
    "http://schemas.openxmlformats.org/drawingml/2006/picture",
    "http://schemas.openxmlformats.org/drawingml/2006/diagram",
    "http://schemas.openxmlformats.org/drawingml/2006/lockedCanvas",
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "http://purl.org/dc/dcmitype/",
    "http://www.w3.org/2001/XMLSchema-instance",
}

MAX_ROWS, MAX_COLS, MAX_TEXT = 1_048_576, 16_384, 32_767
FIRST_CUSTOM_NUMBER_FORMAT = 164  # ids below are Excel's built-in (some locale-dependent) formats
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")
_NAME = re.compile(r"[A-Za-z_\\\u00a0-\uffff][\w.\\\u00a0-\uffff]*")
_BAD_SHEET_CHARS = set("[]:*?/\\")


@dataclass(frozen=True)
class Problem:
    """One reason Excel would repair or refuse a package."""

    rule: str
    part: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.part}: {self.message}"


class PackageInvalid(AssertionError):
    """Raised by `assert_valid`, listing every problem (each line names its rule)."""


# --- the schemas ------------------------------------------------------------------------------


def schemas_available() -> bool:
    return (SCHEMA_DIR / "ISO-IEC29500-4_2016" / "sml.xsd").is_file()


def require() -> None:
    """Skip the calling test when the shared schemas are not beside the repository."""
    import pytest

    if not schemas_available():
        pytest.skip(f"OOXML schemas not found at {SCHEMA_DIR} (set SHEEP_OOXML_SCHEMAS)")


@functools.cache
def schema() -> etree.XMLSchema:
    """One schema set for every vocabulary: a root element is then checked against its own
    namespace's declarations (the content type decides which root is expected)."""
    iso = SCHEMA_DIR / "ISO-IEC29500-4_2016"
    opc = SCHEMA_DIR / "ecma" / "fouth-edition"
    imports = {
        NS_XML: iso / "xml.xsd",  # first: opc-coreProperties.xsd imports it without a location
        NS_MAIN: iso / "sml.xsd",
        NS_CHART: iso / "dml-chart.xsd",
        NS_XDR: iso / "dml-spreadsheetDrawing.xsd",
        NS_DML: iso / "dml-main.xsd",
        NS_EP: iso / "shared-documentPropertiesExtended.xsd",
        NS_CUSTOM: iso / "shared-documentPropertiesCustom.xsd",
        NS_PKG_REL: opc / "opc-relationships.xsd",
        NS_CT: opc / "opc-contentTypes.xsd",
        NS_CP: opc / "opc-coreProperties.xsd",
        NS_UI_2006: SCHEMA_DIR / "customui" / "customUI.libxml2.xsd",
        NS_UI_2009: SCHEMA_DIR / "customui" / "customui14.libxml2.xsd",
    }
    xsd = "http://www.w3.org/2001/XMLSchema"
    wrapper = etree.Element(f"{{{xsd}}}schema", nsmap={"xsd": xsd})
    for namespace, location in imports.items():
        etree.SubElement(
            wrapper, f"{{{xsd}}}import", namespace=namespace, schemaLocation=location.as_uri()
        )
    parser = etree.XMLParser()
    parser.resolvers.add(_LocalDublinCore())
    document = etree.fromstring(etree.tostring(wrapper), parser)
    return etree.XMLSchema(document)


class _LocalDublinCore(etree.Resolver):
    """opc-coreProperties.xsd imports Dublin Core from dublincore.org: use the local copies."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if system_url and "dublincore.org" in system_url:
            name = system_url.rsplit("/", 1)[-1]
            return self.resolve_filename(str(SCHEMA_DIR / "local" / name), context)
        return None


# --- markup compatibility -------------------------------------------------------------------


def process_markup_compatibility(root: etree._Element) -> list[str]:
    """Apply markup compatibility to ``root`` in place, as a consumer that understands only the
    standard vocabularies; returns what cannot be processed (must-understand namespaces)."""
    errors: list[str] = []

    def prefixes(element: etree._Element, value: str | None) -> set[str]:
        found = set()
        for prefix in (value or "").split():
            namespace = element.nsmap.get(prefix)
            if namespace is None:
                errors.append(f"undeclared prefix {prefix!r} in markup compatibility")
            else:
                found.add(namespace)
        return found

    def walk(element: etree._Element, ignorable: frozenset[str]) -> None:
        mine = prefixes(element, element.get(f"{{{NS_MC}}}Ignorable"))
        ignorable = ignorable | mine
        for namespace in prefixes(element, element.get(f"{{{NS_MC}}}MustUnderstand")):
            if namespace not in UNDERSTOOD:
                errors.append(f"must understand {namespace}")
        for name in list(element.attrib):
            namespace = etree.QName(name).namespace
            if namespace == NS_MC or (namespace in ignorable and namespace not in UNDERSTOOD):
                del element.attrib[name]
        for child in list(element):
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            if qname.namespace == NS_MC and qname.localname == "AlternateContent":
                chosen = _choose(child, prefixes)
                position = element.index(child)
                element.remove(child)
                for offset, grandchild in enumerate(list(chosen) if chosen is not None else []):
                    element.insert(position + offset, grandchild)
                    walk(grandchild, ignorable)
            elif qname.namespace in ignorable and qname.namespace not in UNDERSTOOD:
                element.remove(child)
            else:
                walk(child, ignorable)

    walk(root, frozenset())
    return errors


def _choose(alternate: etree._Element, prefixes: object) -> etree._Element | None:
    for branch in alternate:
        if not isinstance(branch.tag, str):
            continue
        name = etree.QName(branch).localname
        if name == "Choice":
            required = prefixes(branch, branch.get("Requires"))  # type: ignore[operator]
            if required <= UNDERSTOOD:
                return branch
        elif name == "Fallback":
            return branch
    return None


def _strip_xml_space(root: etree._Element) -> None:
    for element in root.iter(f"{M}*"):
        element.attrib.pop(f"{{{NS_XML}}}space", None)


# --- reading a package ------------------------------------------------------------------------


def read_package(source: Path | str | bytes) -> dict[str, bytes]:
    """Every part of a package by name (directory entries left out)."""
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.filename.endswith("/")}


def write_package(parts: Mapping[str, bytes]) -> bytes:
    """A package from parts (for tests that break a good one on purpose)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _source_of_rels(rels: str) -> str:
    folder, name = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])


@dataclass(frozen=True)
class _Rel:
    id: str
    type: str
    target: str
    external: bool


class _Package:
    def __init__(self, parts: Mapping[str, bytes]) -> None:
        self.parts = dict(parts)
        self.trees: dict[str, etree._Element] = {}
        self.problems: list[Problem] = []
        self.checked: list[tuple[str, str]] = []  # (part, how it was checked)

    def report(self, rule: str, part: str, message: str) -> None:
        self.problems.append(Problem(rule, part, message))

    def xml(self, part: str) -> etree._Element | None:
        if part not in self.trees:
            try:
                parser = etree.XMLParser(resolve_entities=False, huge_tree=True)
                self.trees[part] = etree.fromstring(self.parts[part], parser)
            except (etree.XMLSyntaxError, KeyError):
                return None
        return self.trees[part]

    def rels(self, part: str) -> list[_Rel]:
        root = self.xml(rels_part(part)) if rels_part(part) in self.parts else None
        if root is None:
            return []
        return [
            _Rel(
                r.get("Id", ""),
                r.get("Type", ""),
                r.get("Target", ""),
                r.get("TargetMode") == "External",
            )
            for r in root
            if isinstance(r.tag, str)
        ]

    def resolve(self, part: str, target: str) -> str:
        target = target.split("#", 1)[0]
        if target.startswith("/"):
            return target.lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))

    def related(self, part: str, suffix: str) -> list[str]:
        return [
            self.resolve(part, r.target)
            for r in self.rels(part)
            if not r.external and r.type.endswith("/" + suffix)
        ]


# --- the check --------------------------------------------------------------------------------


def check_package(source: Path | str | bytes | Mapping[str, bytes]) -> list[Problem]:
    """Every problem found in a package (an empty list when it is valid)."""
    parts = source if isinstance(source, Mapping) else read_package(source)
    package = _Package(parts)
    types = _check_content_types(package)
    _check_relationships(package)
    _check_schemas(package, types)
    workbook = _main_part(package)
    if workbook is not None and package.xml(workbook) is not None:
        _WorkbookRules(package, workbook).run()
    return package.problems


def assert_valid(source: Path | str | bytes | Mapping[str, bytes]) -> None:
    """Fail with every problem listed when the package is not valid."""
    problems = check_package(source)
    if problems:
        shown = "\n".join(str(p) for p in problems[:40])
        more = f"\n... and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise PackageInvalid(f"{len(problems)} problem(s):\n{shown}{more}")


def _check_content_types(package: _Package) -> dict[str, str]:
    """Content type of every part; parts without one and Overrides without a part are errors."""
    name = "[Content_Types].xml"
    root = package.xml(name)
    if root is None:
        package.report("content-type", name, "missing or not well-formed")
        return {}
    defaults = {
        d.get("Extension", "").lower(): d.get("ContentType", "")
        for d in root.iter(f"{{{NS_CT}}}Default")
    }
    overrides: dict[str, str] = {}
    for node in root.iter(f"{{{NS_CT}}}Override"):
        part = node.get("PartName", "").lstrip("/")
        if part.lower() in overrides:
            package.report("content-type", name, f"two Overrides for /{part}")
        overrides[part.lower()] = node.get("ContentType", "")
        if part not in package.parts:
            package.report("stale-override", name, f"Override for /{part}, which is not there")
    types = {}
    for part in package.parts:
        if part == name:
            continue
        extension = part.rsplit(".", 1)[-1].lower() if "." in part.rsplit("/", 1)[-1] else ""
        content_type = overrides.get(part.lower()) or defaults.get(extension)
        if not content_type:
            package.report("content-type", part, "has no content type (no Override or Default)")
        else:
            types[part] = content_type
    return types


def _check_relationships(package: _Package) -> None:
    for rels in [p for p in package.parts if p.endswith(".rels")]:
        source = _source_of_rels(rels)
        if source and source not in package.parts:
            package.report("relationship", rels, f"relationships of {source}, which is not there")
        root = package.xml(rels)
        if root is None:
            continue
        seen: set[str] = set()
        for rel in package.rels(source):
            if rel.id in seen:
                package.report("relationship", rels, f"relationship id {rel.id} used twice")
            seen.add(rel.id)
            if rel.external:
                continue
            target = package.resolve(source, rel.target)
            if target not in package.parts:
                package.report("relationship", rels, f"{rel.id} points at {target}: not there")
    # Every r:id a part uses must be one of its relationships.
    for part in package.parts:
        if not part.endswith(".xml") or part.endswith(".rels"):
            continue
        root = package.xml(part)
        if root is None:
            continue
        ids = {r.id for r in package.rels(part)}
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute, value in element.attrib.items():
                if attribute.startswith(f"{{{NS_R}}}") and value and value not in ids:
                    package.report(
                        "relationship",
                        part,
                        f"<{etree.QName(element).localname}> uses {value}, which is not one of "
                        "its relationships",
                    )


def _check_schemas(package: _Package, types: Mapping[str, str]) -> None:
    for part, content_type in types.items():
        if content_type in BINARY or not _looks_like_xml(package.parts[part]):
            if content_type.endswith("xml") or content_type in ROOTS:
                package.report("schema", part, f"{content_type} part is not XML")
            continue
        root = package.xml(part)
        if root is None:
            package.report("schema", part, "not well-formed XML")
            continue
        expected = ROOTS.get(content_type)
        if expected is None and content_type in ("application/xml", "text/xml"):
            expected = ROOTS_BY_NAMESPACE.get(etree.QName(root).namespace or "")
        if expected is None:
            if content_type in NO_SCHEMA:
                package.checked.append((part, "well-formed (no schema published)"))
                continue
            package.report("schema", part, f"no schema known for {content_type}")
            continue
        actual = (etree.QName(root).namespace, etree.QName(root).localname)
        if actual != expected:
            package.report(
                "schema",
                part,
                f"root is {{{actual[0]}}}{actual[1]}, {content_type} needs "
                f"{{{expected[0]}}}{expected[1]}",
            )
            continue
        copy = etree.fromstring(etree.tostring(root))
        for error in process_markup_compatibility(copy):
            package.report("markup-compatibility", part, error)
        _strip_xml_space(copy)
        validator = schema()
        if not validator.validate(copy):
            for error in list(validator.error_log)[:10]:
                package.report("schema", part, f"{error.path}: {error.message}")
        package.checked.append((part, "schema"))


def _looks_like_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _main_part(package: _Package) -> str | None:
    for rel in package.rels(""):
        if rel.type == REL_OFFICE_DOCUMENT + "officeDocument":
            return package.resolve("", rel.target)
    return None


# --- Excel's rules ----------------------------------------------------------------------------


def column_index(letters: str) -> int:
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - 64
    return value


def parse_cell(ref: str) -> tuple[int, int]:
    match = _CELL.fullmatch(ref)
    if not match:
        raise ValueError(ref)
    return int(match.group(2)), column_index(match.group(1))


def parse_area(ref: str) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of ``A1`` or ``A1:B2``."""
    first, _, last = ref.partition(":")
    r1, c1 = parse_cell(first)
    r2, c2 = parse_cell(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def unescape(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes decoded (as Excel reads text)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _text(node: etree._Element | None) -> str:
    if node is None:
        return ""
    out = []
    for child in node:
        if child.tag == f"{M}t":
            out.append(child.text or "")
        elif child.tag == f"{M}r":
            out.append("".join(t.text or "" for t in child.iter(f"{M}t")))
    return "".join(out)


class _WorkbookRules:
    def __init__(self, package: _Package, workbook: str) -> None:
        self.p = package
        self.workbook = workbook
        self.root = package.xml(workbook)
        rels = {r.id: r for r in package.rels(workbook)}
        self.sheets: list[tuple[str, str | None]] = []  # (name, worksheet part)
        for sheet in self.root.iter(f"{M}sheet") if self.root is not None else ():
            rel = rels.get(sheet.get(f"{{{NS_R}}}id", ""))
            part = package.resolve(workbook, rel.target) if rel and not rel.external else None
            self.sheets.append((sheet.get("name", ""), part))
        strings_part = next(iter(package.related(workbook, "sharedStrings")), None)
        strings_root = package.xml(strings_part) if strings_part else None
        self.strings: list[str] | None = (
            None if strings_root is None else [_text(si) for si in strings_root.iter(f"{M}si")]
        )
        self.styles_part = next(iter(package.related(workbook, "styles")), "xl/styles.xml")
        self.styles = package.xml(self.styles_part)
        self.date_styles: set[int] = set()
        self.n_xfs = self.n_dxfs = 0

    def run(self) -> None:
        self._sheet_names()
        self._style_indexes()
        self._defined_names()
        tables: list[tuple[str, str, etree._Element]] = []
        for _name, part in self.sheets:
            if part is None or part not in self.p.parts:
                continue
            root = self.p.xml(part)
            if root is None or etree.QName(root).localname != "worksheet":
                continue
            self._cells(part, root)
            self._sheet_dxfs(part, root)
            for table_part in self.p.related(part, "table"):
                table = self.p.xml(table_part)
                if table is not None:
                    tables.append((part, table_part, table))
                    self._table_header(part, root, table_part, table)
        self._tables_unique(tables)

    # names, styles ----------------------------------------------------------------------------

    def _sheet_names(self) -> None:
        seen: set[str] = set()
        for name, _ in self.sheets:
            if not 1 <= len(name) <= 31 or _BAD_SHEET_CHARS & set(name) or name.startswith("'"):
                self.p.report("sheet-name", self.workbook, f"sheet name {name!r} is not allowed")
            if name.lower() in seen or name.lower() == "history":
                self.p.report("sheet-name", self.workbook, f"sheet name {name!r} is not unique")
            seen.add(name.lower())

    def _style_indexes(self) -> None:
        part, styles = self.styles_part, self.styles
        if styles is None:
            return

        def count(tag: str, child: str) -> int:
            node = styles.find(f"{M}{tag}")
            return 0 if node is None else len(node.findall(f"{M}{child}"))

        fonts, fills, borders = (
            count("fonts", "font"),
            count("fills", "fill"),
            count("borders", "border"),
        )
        style_xfs = count("cellStyleXfs", "xf")
        self.n_dxfs = count("dxfs", "dxf")
        formats = {
            int(n.get("numFmtId", "-1")): n.get("formatCode", "") for n in styles.iter(f"{M}numFmt")
        }
        cell_xfs = styles.find(f"{M}cellXfs")
        xfs = [] if cell_xfs is None else cell_xfs.findall(f"{M}xf")
        self.n_xfs = len(xfs)
        style_xf_node = styles.find(f"{M}cellStyleXfs")
        all_xfs = [(x, True) for x in xfs] + [
            (x, False) for x in ([] if style_xf_node is None else style_xf_node.findall(f"{M}xf"))
        ]
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        for index, (xf, is_cell) in enumerate(all_xfs):
            where = f"{'cellXfs' if is_cell else 'cellStyleXfs'} xf {index if is_cell else ''}"
            for attribute, limit in (("fontId", fonts), ("fillId", fills), ("borderId", borders)):
                value = int(xf.get(attribute, "0"))
                if not 0 <= value < max(limit, 1):
                    self.p.report("style-index", part, f"{where} {attribute}={value} of {limit}")
            number = int(xf.get("numFmtId", "0"))
            if number >= FIRST_CUSTOM_NUMBER_FORMAT and number not in formats:
                self.p.report("style-index", part, f"{where} numFmtId={number} is not defined")
            if is_cell:
                xf_id = int(xf.get("xfId", "0"))
                if not 0 <= xf_id < max(style_xfs, 1):
                    self.p.report("style-index", part, f"{where} xfId={xf_id} of {style_xfs}")
                code = formats.get(number) or BUILTIN_FORMATS.get(number, "")
                if (14 <= number <= 22 or 45 <= number <= 47) or (code and is_date_format(code)):
                    self.date_styles.add(index)
        for style in styles.iter(f"{M}cellStyle"):
            if not 0 <= int(style.get("xfId", "0")) < max(style_xfs, 1):
                self.p.report("style-index", part, f"cellStyle {style.get('name')} xfId")
        for element in styles.iter(f"{M}tableStyleElement"):
            self._dxf(part, element.get("dxfId"), "tableStyleElement")

    def _dxf(self, part: str, value: str | None, where: str) -> None:
        if value is not None and not 0 <= int(value) < self.n_dxfs:
            self.p.report("style-index", part, f"{where} dxfId={value} of {self.n_dxfs} dxfs")

    def _sheet_dxfs(self, part: str, root: etree._Element) -> None:
        for rule in root.iter(f"{M}cfRule"):
            self._dxf(part, rule.get("dxfId"), f"cfRule {rule.get('type')}")
        for col in root.iter(f"{M}col"):
            self._style(part, col.get("style"), f"col {col.get('min')}")

    def _style(self, part: str, value: str | None, where: str) -> None:
        if value is not None and not 0 <= int(value) < max(self.n_xfs, 1):
            self.p.report("style-index", part, f"{where} s={value} of {self.n_xfs} cellXfs")

    def _defined_names(self) -> None:
        if self.root is None:
            return
        sheet_names = {name.lower() for name, _ in self.sheets}
        seen: set[tuple[str, str | None]] = set()
        for node in self.root.iter(f"{M}definedName"):
            name, local = node.get("name", ""), node.get("localSheetId")
            key = (name.lower(), local)
            where = f"defined name {name!r}"
            if key in seen:
                self.p.report("defined-name", self.workbook, f"{where} defined twice")
            seen.add(key)
            if not _NAME.fullmatch(name) or _CELL.fullmatch(name) or len(name) > 255:
                self.p.report("defined-name", self.workbook, f"{where} is not a valid name")
            if local is not None and not 0 <= int(local) < len(self.sheets):
                self.p.report("defined-name", self.workbook, f"{where} localSheetId={local}")
            problem = formula_problem(node.text or "", sheet_names)
            if problem:
                self.p.report("defined-name", self.workbook, f"{where} = {node.text!r}: {problem}")

    # cells ------------------------------------------------------------------------------------

    def _cells(self, part: str, root: etree._Element) -> None:
        sheet_data = root.find(f"{M}sheetData")
        if sheet_data is None:
            return
        previous_row = 0
        for row in sheet_data.iterchildren(f"{M}row"):
            number = int(row.get("r") or previous_row + 1)
            if number <= previous_row or number > MAX_ROWS:
                self.p.report("row-order", part, f"row {number} after row {previous_row}")
            previous_row = number
            if row.get("s") is not None:
                self._style(part, row.get("s"), f"row {number}")
            previous_col = 0
            for cell in row.iterchildren(f"{M}c"):
                ref = cell.get("r")
                if ref:
                    try:
                        cell_row, col = parse_cell(ref)
                    except ValueError:
                        self.p.report("cell-order", part, f"cell reference {ref!r}")
                        continue
                else:
                    cell_row, col = number, previous_col + 1
                where = ref or f"row {number} cell {col}"
                if cell_row != number:
                    self.p.report("cell-order", part, f"{where} is inside row {number}")
                if col <= previous_col or col > MAX_COLS:
                    self.p.report("cell-order", part, f"{where} after column {previous_col}")
                previous_col = col
                self._cell(part, where, cell)

    def _cell(self, part: str, where: str, cell: etree._Element) -> None:
        style = cell.get("s")
        self._style(part, style, where)
        kind = cell.get("t", "n")
        v = cell.find(f"{M}v")
        value = v.text if v is not None else None
        text: str | None = None
        if kind == "s" and value is not None:
            if self.strings is None:
                self.p.report("shared-string", part, f"{where} uses shared strings; there are none")
            elif not value.strip().isdigit() or not 0 <= int(value) < len(self.strings):
                count = len(self.strings)
                self.p.report("shared-string", part, f"{where} string {value} of {count}")
            else:
                text = self.strings[int(value)]
        elif kind == "inlineStr":
            text = _text(cell.find(f"{M}is"))
        elif kind == "str":
            text = value
        if text is not None and len(unescape(text).encode("utf-16-le")) // 2 > MAX_TEXT:
            self.p.report("cell-text", part, f"{where} holds more than {MAX_TEXT} characters")
        if kind == "d":
            self.p.report("date", part, f'{where} is an ISO date cell (t="d"), not a serial')
        dated = style is not None and int(style) in self.date_styles
        content = value is not None or cell.find(f"{M}is") is not None
        if dated and cell.find(f"{M}f") is None and content:
            if kind != "n":
                self.p.report("date", part, f"{where} has a date format but holds t={kind!r}")
            else:
                try:
                    serial = float(value or "")
                except ValueError:
                    serial = -1.0
                if not 0 <= serial < 2_958_466:
                    self.p.report("date", part, f"{where} date serial {value} is out of range")
        elif text is not None and _ISO_DATE.fullmatch(text.strip()):
            self.p.report("date", part, f"{where} holds the date {text!r} as text")

    def cell_texts(self, root: etree._Element, row_number: int) -> dict[int, str | None]:
        """Column -> displayed text of one row's cells (None for non-text cells)."""
        out: dict[int, str | None] = {}
        sheet_data = root.find(f"{M}sheetData")
        if sheet_data is None:
            return out
        previous_row = 0
        for row in sheet_data.iterchildren(f"{M}row"):
            number = int(row.get("r") or previous_row + 1)
            previous_row = number
            if number != row_number:
                continue
            previous_col = 0
            for cell in row.iterchildren(f"{M}c"):
                col = parse_cell(cell.get("r", ""))[1] if cell.get("r") else previous_col + 1
                previous_col = col
                kind, v = cell.get("t", "n"), cell.find(f"{M}v")
                if kind == "inlineStr":
                    out[col] = _text(cell.find(f"{M}is"))
                elif kind == "s" and v is not None and self.strings is not None:
                    index = int(v.text or "-1")
                    out[col] = self.strings[index] if 0 <= index < len(self.strings) else None
                elif kind == "str" and v is not None:
                    out[col] = v.text or ""
                else:
                    out[col] = None if v is not None or cell.find(f"{M}f") is not None else ""
        return out

    # tables -----------------------------------------------------------------------------------

    def _table_header(
        self, sheet_part: str, sheet: etree._Element, part: str, table: etree._Element
    ) -> None:
        top, left, _bottom, right = parse_area(table.get("ref", "A1"))
        columns = table.findall(f"{M}tableColumns/{M}tableColumn")
        names = [unescape(c.get("name", "")) for c in columns]
        if len(columns) != right - left + 1:
            self.p.report(
                "table-header", part, f"{len(columns)} columns for ref {table.get('ref')}"
            )
        lowered = [n.lower() for n in names]
        for name in {n for n in lowered if lowered.count(n) > 1 or not n}:
            self.p.report("table-header", part, f"column name {name!r} is empty or repeated")
        for column in columns:
            for attribute in ("dataDxfId", "headerRowDxfId", "totalsRowDxfId"):
                self._dxf(part, column.get(attribute), f"tableColumn {column.get('name')}")
        for attribute in ("headerRowDxfId", "dataDxfId", "totalsRowDxfId", "tableBorderDxfId"):
            self._dxf(part, table.get(attribute), f"table {attribute}")
        if table.get("headerRowCount", "1") == "0":
            return
        texts = self.cell_texts(sheet, top)
        for offset, name in enumerate(names):
            col = left + offset
            text = texts.get(col)
            if text is None or unescape(text) != name:
                shown = "no text" if text is None else repr(text)
                self.p.report(
                    "table-header",
                    part,
                    f"header cell {_letters(col)}{top} holds {shown}, column is named {name!r}",
                )

    def _tables_unique(self, tables: list[tuple[str, str, etree._Element]]) -> None:
        ids: dict[str, str] = {}
        names: dict[str, str] = {}
        defined = (
            {n.get("name", "").lower() for n in self.root.iter(f"{M}definedName")}
            if self.root is not None
            else set()
        )
        areas: dict[str, list[tuple[str, tuple[int, int, int, int]]]] = {}
        for sheet_part, part, table in tables:
            table_id = table.get("id", "")
            if table_id in ids:
                self.p.report("table-unique", part, f"table id {table_id} also in {ids[table_id]}")
            ids[table_id] = part
            for name in {table.get("name", ""), table.get("displayName", "")} - {""}:
                key = name.lower()
                if key in names and names[key] != part:
                    self.p.report("table-unique", part, f"table name {name!r} also in {names[key]}")
                if key in defined:
                    self.p.report("table-unique", part, f"table name {name!r} is a defined name")
                names[key] = part
            area = parse_area(table.get("ref", "A1"))
            for other, other_area in areas.get(sheet_part, []):
                if not (
                    area[3] < other_area[1]
                    or other_area[3] < area[1]
                    or area[2] < other_area[0]
                    or other_area[2] < area[0]
                ):
                    self.p.report("table-unique", part, f"table overlaps {other}")
            areas.setdefault(sheet_part, []).append((part, area))


def _letters(col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def formula_problem(text: str, sheet_names: Iterable[str] = ()) -> str | None:
    """Why Excel could not read ``text`` as a formula (None when it can): it must tokenize, and
    a reference to a sheet of this workbook must name one that exists."""
    try:
        tokens = Tokenizer("=" + text).items
    except TokenizerError as exc:
        return f"does not parse ({exc})"
    depth = 0
    for token in tokens:
        if token.subtype == Token.OPEN:
            depth += 1
        elif token.subtype == Token.CLOSE:
            depth -= 1
        if depth < 0:
            return "does not parse (a bracket closes that was not opened)"
    if depth:
        return "does not parse (a bracket is not closed)"
    known = set(sheet_names)
    for token in tokens:
        if token.type == Token.OPERAND and token.subtype == Token.RANGE and "!" in token.value:
            sheet = token.value.rsplit("!", 1)[0]
            if sheet.startswith("["):
                continue  # an external workbook
            plain = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
            if known and plain.lower() not in known and ":" not in plain:
                return f"names sheet {plain!r}, which does not exist"
    return None
