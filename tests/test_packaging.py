"""Packaging matches the code: what sheep_xl imports is installed with it, every package and
data file ships in the wheel, and xlwings is the exact version the add-in is built for."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from sheep_xl.reports.templates import builtin_templates, find_templates

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _top_level_imports() -> set[str]:
    """Every absolute import at any depth of sheep_xl (imports inside functions count: a user
    reaches them from a ribbon button as surely as from the top of a module)."""
    names: set[str] = set()
    for path in (REPO / "sheep_xl").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


# Windows-only modules that xlwings itself brings on Windows (pywin32); imported only there.
PLATFORM_PROVIDED = {"pythoncom", "pywintypes", "win32api", "win32com"}


def test_every_third_party_import_is_a_runtime_dependency() -> None:
    runtime = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(_top_level_imports()):
        if module in sys.stdlib_module_names or module == "sheep_xl":
            continue
        if module in PLATFORM_PROVIDED:
            continue
        owners = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not owners & runtime:
            missing[module] = sorted(owners)
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_every_package_is_listed_for_the_wheel() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "sheep_xl").rglob("*.py")}
    found = {name for name in found if "__pycache__" not in name}
    assert found <= listed, f"not in [tool.setuptools] packages: {sorted(found - listed)}"
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {
        "sheep_xl.reports.definitions": "workbook_templates"
    }


def test_builtin_reports_are_the_repository_definitions() -> None:
    shipped = {t.file: t for t in builtin_templates()}
    in_repo = {t.file: t for t in find_templates(REPO / "workbook_templates")}
    assert set(shipped) == set(in_repo) and len(shipped) == 6
    for name, template in shipped.items():
        assert template.title == in_repo[name].title
        assert template.queries == in_repo[name].queries


def test_xlwings_is_pinned_to_the_installed_version() -> None:
    (pin,) = [r for r in PYPROJECT["project"]["dependencies"] if _requirement_name(r) == "xlwings"]
    assert "==" in pin, "the add-in embeds this xlwings' VBA and DLL names: pin it exactly"
    assert pin.split("==")[1] == importlib.metadata.version("xlwings")


def test_test_extra_holds_no_runtime_dependency() -> None:
    runtime = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    test = {_requirement_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["test"]}
    assert not runtime & test
