"""Make a workbook look as if Excel had saved it, for refresh tests without Excel.

Excel, unlike our writers (and openpyxl, which writes inline strings), keeps every text cell in
the shared-strings part, lists every formula cell in a calculation chain (``calcChain.xml``) and
marks its own extensions as ignorable (``mc:Ignorable="x14ac"`` with ``x14ac:dyDescent`` on rows).
A refresh must read such a file, keep it valid and drop the stale chain.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from support.ooxml_check import NS_CT, NS_MAIN, NS_MC, NS_PKG_REL, NS_R, rels_part

M = f"{{{NS_MAIN}}}"
NS_X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def excel_style(parts: Mapping[str, bytes]) -> dict[str, bytes]:
    """``parts`` with shared strings, a calcChain and Excel's ignorable row attributes."""
    out = dict(parts)
    workbook = "xl/workbook.xml"
    wb_root = etree.fromstring(out[workbook])
    wb_rels = etree.fromstring(out[rels_part(workbook)])
    targets = {r.get("Id"): r.get("Target") for r in wb_rels}
    strings: dict[str, int] = {}
    chain: list[tuple[str, int]] = []
    for index, sheet in enumerate(wb_root.iter(f"{M}sheet"), 1):
        target = targets[sheet.get(f"{{{NS_R}}}id")]
        part = "xl/" + target.lstrip("/").removeprefix("xl/")
        old = etree.fromstring(out[part])
        nsmap = dict(old.nsmap)
        nsmap.update({"mc": NS_MC, "x14ac": NS_X14AC})
        root = etree.Element(old.tag, attrib=dict(old.attrib), nsmap=nsmap)
        root[:] = list(old)
        root.set(f"{{{NS_MC}}}Ignorable", "x14ac")
        for row in root.iter(f"{M}row"):
            row.set(f"{{{NS_X14AC}}}dyDescent", "0.25")
        for cell in root.iter(f"{M}c"):
            if cell.get("t") == "inlineStr":
                node = cell.find(f"{M}is")
                text = "".join(t.text or "" for t in node.iter(f"{M}t")) if node is not None else ""
                cell.remove(node)
                cell.set("t", "s")
                value = etree.SubElement(cell, f"{M}v")
                value.text = str(strings.setdefault(text, len(strings)))
            if cell.find(f"{M}f") is not None:
                chain.append((cell.get("r", ""), index))
        out[part] = _xml(root)

    sst = etree.Element(f"{M}sst", nsmap={None: NS_MAIN})
    sst.set("count", str(len(strings)))
    sst.set("uniqueCount", str(len(strings)))
    for text in strings:
        t = etree.SubElement(etree.SubElement(sst, f"{M}si"), f"{M}t")
        t.text = text
        if text != text.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    out["xl/sharedStrings.xml"] = _xml(sst)
    calc = etree.Element(f"{M}calcChain", nsmap={None: NS_MAIN})
    previous = None
    for ref, sheet_id in chain:
        node = etree.SubElement(calc, f"{M}c", r=ref)
        if sheet_id != previous:
            node.set("i", str(sheet_id))
            previous = sheet_id
    if chain:
        out["xl/calcChain.xml"] = _xml(calc)

    types = etree.fromstring(out["[Content_Types].xml"])
    used = {r.get("Id") for r in wb_rels}
    added = [("sharedStrings.xml", "sharedStrings")] + (
        [("calcChain.xml", "calcChain")] if chain else []
    )
    for number, (name, kind) in enumerate(added, 1):
        etree.SubElement(
            types,
            f"{{{NS_CT}}}Override",
            PartName=f"/xl/{name}",
            ContentType=f"{_SML}{kind}+xml",
        )
        rel_id = f"rIdX{number}"
        assert rel_id not in used
        etree.SubElement(
            wb_rels, f"{{{NS_PKG_REL}}}Relationship", Id=rel_id, Type=_REL + kind, Target=name
        )
    out["[Content_Types].xml"] = _xml(types)
    out[rels_part(workbook)] = _xml(wb_rels)
    return out
