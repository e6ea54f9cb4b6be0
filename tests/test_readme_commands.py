"""The README's "Command line" table and the real command line name the same commands.

Like sqlite-utils' documentation tests: the commands are read from ``build_parser()`` (so a
new command needs no change here), and the table from README.md. A table cell may name several
commands (``states``, ``columns``); a command with actions lists them after its name, separated
by `` \\| `` with spaces (``addin build \\| install``), while ``on\\|off`` without spaces and
``[...]`` are its arguments.
"""

from __future__ import annotations

import argparse
import re

from support import REPO_ROOT

from sheep_xl.cli import build_parser


def parser_commands() -> set[str]:
    """Every runnable command: ``events``, ..., and ``addin build``, ``templates build``, ..."""

    def walk(parser: argparse.ArgumentParser, prefix: str) -> set[str]:
        found: set[str] = set()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    inner = walk(sub, f"{prefix}{name} ")
                    found |= inner or {f"{prefix}{name}"}
        return found

    return walk(build_parser(), "")


def readme_table() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n### Command line\n")
    end = text.find("\n#", start + 1)
    section = text[start : end if end != -1 else len(text)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows, "the Command line section has a table of commands"
    return "\n".join(rows)


def readme_commands() -> set[str]:
    groups = {c.split()[0] for c in parser_commands() if " " in c}
    found: set[str] = set()
    for row in readme_table().splitlines():
        first_cell = re.split(r"(?<!\\)\|", row)[1]
        for span in re.findall(r"`([^`]+)`", first_cell):
            span = re.sub(r"\[[^\]]*\]", " ", span)  # optional arguments
            pieces = re.split(r"\s+\\\|\s+", span.strip())
            words = pieces[0].split()
            if words[0] in groups:
                actions = [words[1], *(p.split()[0] for p in pieces[1:])]
                found |= {f"{words[0]} {a}" for a in actions}
            else:
                found.add(words[0])
    return found


def test_readme_parsing_reads_the_table_as_meant() -> None:
    found = readme_commands()
    assert {"events", "states", "columns", "logout", "addin refresh-on-open"} <= found
    assert "addin off" not in found and "templates --demo]" not in found


def test_every_command_is_in_the_readme_table() -> None:
    missing = parser_commands() - readme_commands()
    assert not missing, f"add to README's Command line table: {sorted(missing)}"


def test_every_command_in_the_readme_table_exists() -> None:
    unknown = readme_commands() - parser_commands()
    assert not unknown, f"README's Command line table names commands that do not exist: {unknown}"
