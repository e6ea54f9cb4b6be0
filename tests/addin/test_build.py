"""The built add-in, checked by independent readers: olefile (strict), olevba, pyOpenVBA, and
the package structure Excel needs (add-in content type, ribbon part and relationship)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import olefile
import pytest
from lxml import etree

from sheep_xl.addin import build
from sheep_xl.addin.ovba import prepare_module_source
from sheep_xl.cli import main

VBA_DIR = Path(build.__file__).parent / "vba"


@pytest.fixture(scope="module")
def xlam(tmp_path_factory) -> Path:
    return build.build_addin(tmp_path_factory.mktemp("addin"))


@pytest.fixture(scope="module")
def sources():
    return build.collect_sources()


def vba_bin(xlam: Path) -> bytes:
    with zipfile.ZipFile(xlam) as zf:
        return zf.read("xl/vbaProject.bin")


def normalise(text: str) -> list[str]:
    return text.replace("\r\n", "\n").rstrip("\n").split("\n")


def test_compound_file_is_strictly_valid(xlam) -> None:
    ole = olefile.OleFileIO(io.BytesIO(vba_bin(xlam)), raise_defects=olefile.DEFECT_INCORRECT)
    streams = {"/".join(s) for s in ole.listdir()}
    assert {"PROJECT", "PROJECTwm", "VBA/dir", "VBA/_VBA_PROJECT"} <= streams
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
    assert not any("__SRP" in s for s in streams)


def test_olevba_lists_every_module_with_the_repositorys_text(xlam, sources) -> None:
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(xlam))
    found = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    parser.close()
    assert set(found) == {m.name for m in sources.modules}
    for module in sources.modules:
        assert normalise(found[module.name]) == normalise(
            prepare_module_source(module).decode("cp1252")
        ), module.name
    for name, file, _ in build.SOURCE_MODULES:
        repo = normalise((VBA_DIR / file).read_text(encoding="utf-8"))
        assert normalise(found[name]) == repo, f"{file}: the add-in holds the repository's text"
    xlwings_text = normalise(build.xlwings_module())
    assert normalise(found["xlwings"]) == xlwings_text
    assert 'Public Const PROJECT_NAME As String = "sheepcrm"' in found["xlwings"]


def test_pyopenvba_agrees(xlam, sources) -> None:
    cfb_mod = pytest.importorskip("pyopenvba.cfb", reason="pyOpenVBA is not installed")
    vba_mod = pytest.importorskip("pyopenvba.vba", reason="pyOpenVBA is not installed")
    cfb = cfb_mod.CFB.from_bytes(vba_bin(xlam))
    parsed = vba_mod.parse_vba_project(cfb)
    assert parsed.validate(cfb) == []
    assert [m.name for m in parsed.modules] == [m.name for m in sources.modules]
    for theirs, ours in zip(parsed.modules, sources.modules, strict=True):
        assert theirs.source == prepare_module_source(ours).decode("cp1252")
    assert "Office" in [r.name for r in parsed.references], "IRibbonControl needs the Office lib"


def test_package_has_the_addin_type_ribbon_and_code_names(xlam) -> None:
    with zipfile.ZipFile(xlam) as zf:
        names = zf.namelist()
        types = etree.fromstring(zf.read("[Content_Types].xml"))
        rels = etree.fromstring(zf.read("_rels/.rels"))
        workbook = zf.read("xl/workbook.xml").decode()
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
        wb_rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        ui = zf.read("customUI/customUI14.xml")
    assert "customUI/customUI14.xml" in names
    overrides = {o.get("PartName"): o.get("ContentType") for o in types}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    ui_rels = [r for r in rels if r.get("Target") == "customUI/customUI14.xml"]
    assert [r.get("Type") for r in ui_rels] == [build.REL_UI]
    assert 'codeName="ThisWorkbook"' in workbook and 'name="sheepcrm.conf"' in workbook
    assert f'codeName="{build.CONFIG_SHEET_CODE_NAME}"' in sheet
    assert "UDF MODULES" in sheet and "sheep_xl.excel.udfs" in sheet
    assert build.REL_VBA in wb_rels
    assert (
        etree.fromstring(ui).tag == "{http://schemas.microsoft.com/office/2009/07/customui}customUI"
    )


def test_every_ribbon_action_has_a_callback(xlam, sources) -> None:
    ui = etree.fromstring((VBA_DIR / "customUI14.xml").read_bytes())
    actions = {node.get("onAction") for node in ui.iter() if node.get("onAction")}
    assert len(actions) == 11
    code = "\n".join(m.source for m in sources.modules)
    for action in actions:
        pattern = rf"^Public Sub {action}\(control As IRibbonControl\)$"
        assert re.search(pattern, code, re.M), action


def test_function_wrappers_come_from_the_python_metadata(sources) -> None:
    from sheep_xl.excel.registry import REGISTRY

    wrappers = next(m for m in sources.modules if m.name == "SheepFunctions").source
    for name, spec in REGISTRY.items():
        params = ", ".join(("Optional " if a.optional else "") + a.name for a in spec.args)
        assert f"Public Function {name}({params})" in wrappers
        assert f'XLPy.CallUDF("sheep_xl.excel.udfs", "{name}"' in wrappers
    assert (
        "Public Function SHEEP_EVENTS(bucket, state, Optional columns, Optional options)"
        in wrappers
    )


def test_build_is_deterministic(tmp_path) -> None:
    first = build.build_addin(tmp_path / "a.xlam").read_bytes()
    second = build.build_addin(tmp_path / "b.xlam").read_bytes()
    assert first == second


def test_cli_builds_the_addin(tmp_path) -> None:
    out = tmp_path / "custom.xlam"
    assert main(["addin", "build", "--out", str(out)]) == 0
    assert zipfile.is_zipfile(out)
