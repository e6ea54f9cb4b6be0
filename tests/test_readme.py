"""The README starts with the two commands, and CI runs exactly its test command."""

from __future__ import annotations

import re

from support import REPO_ROOT


def block(name: str) -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name} -->\n```\n(.*?)\n```\n<!-- /{name} -->", text, re.S)
    assert match, f"README has a {name} block"
    return match.group(1)


def test_readme_opens_with_the_two_commands() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    second_section = text.index("\n## ", text.index("\n## ") + 1)
    assert text.index("main-command") < text.index("test-command") < second_section
    assert "sheep-xl demo" in block("main-command")
    assert "pytest" in block("test-command")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci and "set -euo pipefail" in ci
