"""Cell styles in an existing workbook's ``styles.xml``: find or add the ones a plan needs.

A cell's ``s`` attribute is an index into ``cellXfs``; each xf names a number format (built-in
ids such as 14, the locale's short date, need no ``numFmt`` entry) and a font. New xfs are
appended, so every existing index keeps its meaning.
"""

from __future__ import annotations

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

from sheep_xl.frames.catalogue import NumberFormat
from sheep_xl.writers.ooxml import REL_STYLES, M, XlsxPackage

FIRST_CUSTOM_FORMAT_ID = 164


class StyleSheet:
    def __init__(self, package: XlsxPackage) -> None:
        part = package.related_part(package.workbook_part, REL_STYLES)
        if part is None or not package.has(part):
            raise ValueError("workbook has no styles part")
        self._package, self._part = package, part
        self.root = package.xml(part)
        self.cell_xfs = self._child("cellXfs")
        self.xfs = list(self.cell_xfs.findall(f"{M}xf"))
        self.formats: dict[int, str] = dict(BUILTIN_FORMATS)
        numfmts = self.root.find(f"{M}numFmts")
        if numfmts is not None:
            for node in numfmts.findall(f"{M}numFmt"):
                self.formats[int(node.get("numFmtId", "0"))] = node.get("formatCode", "General")
        self._cache: dict[tuple[str, bool], int] = {}

    def _child(self, name: str) -> etree._Element:
        node = self.root.find(f"{M}{name}")
        if node is None:
            raise ValueError(f"styles part has no {name}")
        return node

    # reading --------------------------------------------------------------------------------

    def number_format(self, xf_index: int) -> str:
        if not 0 <= xf_index < len(self.xfs):
            return "General"
        return self.formats.get(int(self.xfs[xf_index].get("numFmtId", "0")), "General")

    def is_date(self, xf_index: int) -> bool:
        return is_date_format(self.number_format(xf_index))

    # writing --------------------------------------------------------------------------------

    def xf_for(self, fmt: NumberFormat, hyperlink: bool = False) -> int:
        """The index of a plain xf with this number format (and hyperlink font), added if new."""
        key = (fmt.code, hyperlink)
        if key in self._cache:
            return self._cache[key]
        fmt_id = self._format_id(fmt)
        font_id = self._hyperlink_font() if hyperlink else 0
        for index, xf in enumerate(self.xfs):
            if (
                int(xf.get("numFmtId", "0")) == fmt_id
                and int(xf.get("fontId", "0")) == font_id
                and int(xf.get("fillId", "0")) == 0
                and int(xf.get("borderId", "0")) == 0
                and xf.find(f"{M}alignment") is None
                and xf.find(f"{M}protection") is None
            ):
                self._cache[key] = index
                return index
        attrs = {
            "numFmtId": str(fmt_id),
            "fontId": str(font_id),
            "fillId": "0",
            "borderId": "0",
            "xfId": "0",
        }
        if fmt_id:
            attrs["applyNumberFormat"] = "1"
        if font_id:
            attrs["applyFont"] = "1"
        self._package.mark_changed(self._part)
        xf = etree.SubElement(self.cell_xfs, f"{M}xf", attrs)
        self.xfs.append(xf)
        self.cell_xfs.set("count", str(len(self.xfs)))
        self._cache[key] = len(self.xfs) - 1
        return len(self.xfs) - 1

    def _format_id(self, fmt: NumberFormat) -> int:
        if fmt.builtin_id is not None:
            return fmt.builtin_id
        for fmt_id, code in self.formats.items():
            if code == fmt.code:
                return fmt_id
        self._package.mark_changed(self._part)
        numfmts = self.root.find(f"{M}numFmts")
        if numfmts is None:
            numfmts = etree.Element(f"{M}numFmts")
            self.root.insert(0, numfmts)
        new_id = max([FIRST_CUSTOM_FORMAT_ID - 1, *self.formats]) + 1
        etree.SubElement(numfmts, f"{M}numFmt", numFmtId=str(new_id), formatCode=fmt.code)
        numfmts.set("count", str(len(numfmts)))
        self.formats[new_id] = fmt.code
        return new_id

    def _hyperlink_font(self) -> int:
        """A font like Excel's Hyperlink style: theme colour 10, single underline."""
        fonts = self._child("fonts")
        existing = fonts.findall(f"{M}font")
        for index, font in enumerate(existing):
            color = font.find(f"{M}color")
            if font.find(f"{M}u") is not None and color is not None and color.get("theme") == "10":
                return index
        self._package.mark_changed(self._part)
        base = existing[0] if existing else None
        font = etree.SubElement(fonts, f"{M}font")
        etree.SubElement(font, f"{M}u")
        size = base.find(f"{M}sz") if base is not None else None
        etree.SubElement(font, f"{M}sz", val=size.get("val", "11") if size is not None else "11")
        etree.SubElement(font, f"{M}color", theme="10")
        name = base.find(f"{M}name") if base is not None else None
        etree.SubElement(
            font, f"{M}name", val=name.get("val", "Calibri") if name is not None else "Calibri"
        )
        fonts.set("count", str(len(existing) + 1))
        return len(existing)
