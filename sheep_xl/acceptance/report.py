"""The kit's report: one JSON file for tools and one Markdown page for people, listing every
check with pass, fail or skip, what was seen, and where it ran (Excel's version and build, the
operating system, the versions of sheep-xl, xlwings and Python)."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheep_xl.acceptance.context import attempt
from sheep_xl.acceptance.registry import CheckResult

SYMBOLS = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}


def describe_excel(app: Any, real_excel: bool) -> dict[str, Any]:
    """What Excel this is: version and build where the object model says (``app.api.Build`` on
    Windows, ``build`` through AppleScript on a Mac)."""
    build = attempt(lambda: app.api.Build)
    if build is None:
        build = attempt(lambda: app.api.build.get())
    return {
        "real_excel": real_excel,
        "engine": str(attempt(lambda: app.engine.name) or type(app).__name__),
        "version": str(attempt(lambda: app.version) or "unknown"),
        "build": None if build is None else str(build),
        "path": attempt(lambda: str(app.path)),
    }


def describe_machine() -> dict[str, str]:
    import xlwings

    from sheep_xl import __version__

    return {
        "os": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "sheep_xl": __version__,
        "xlwings": xlwings.__version__,
    }


@dataclass
class Report:
    started: str
    finished: str
    excel: dict[str, Any]
    machine: dict[str, str]
    results: list[CheckResult]
    screenshots: list[str] = field(default_factory=list)
    work_folder: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(1 for r in self.results if r.status == s) for s in ("pass", "fail", "skip")}

    @property
    def ok(self) -> bool:
        return self.counts["fail"] == 0

    def result(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "fail"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kit": "sheep-xl excel-check",
            "started": self.started,
            "finished": self.finished,
            "excel": self.excel,
            "machine": self.machine,
            "counts": self.counts,
            "results": [r.as_dict() for r in self.results],
            "screenshots": self.screenshots,
            "work_folder": self.work_folder,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_markdown(self) -> str:
        excel, machine, counts = self.excel, self.machine, self.counts
        kind = "Excel" if excel["real_excel"] else f"no Excel (engine {excel['engine']})"
        lines = [
            "# sheep-xl excel-check",
            "",
            f"- **Result:** {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['skip']} skipped",
            f"- **Excel:** {kind}, version {excel['version']}"
            + (f", build {excel['build']}" if excel.get("build") else ""),
            f"- **Machine:** {machine['os']} ({machine['machine']})",
            f"- **Versions:** sheep-xl {machine['sheep_xl']}, xlwings {machine['xlwings']}, "
            f"Python {machine['python']}",
            f"- **Run:** {self.started} to {self.finished}",
            "",
            "| result | check | what it proves | what was seen |",
            "|---|---|---|---|",
        ]
        for r in self.results:
            seen = r.sentence.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {SYMBOLS[r.status]} | `{r.name}` | {r.summary} | {seen} |")
        failures = self.failures()
        if failures:
            lines += ["", "## Failures", ""]
            for r in failures:
                lines += [f"### `{r.name}`", "", r.sentence, ""]
                lines += [f"    {d}" for d in r.details] + ([""] if r.details else [])
        if self.screenshots:
            lines += ["", "## Pictures", ""]
            lines += [f"![{Path(p).stem}]({Path(p).as_posix()})" for p in self.screenshots]
        return "\n".join(lines).rstrip() + "\n"

    def write(self, path: Path) -> tuple[Path, Path]:
        """Write the JSON and the Markdown page beside each other (``path`` names either)."""
        from sheep_xl.files import write_atomic

        path = Path(path)
        stem = path.with_suffix("") if path.suffix.lower() in (".json", ".md") else path
        json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
        write_atomic(json_path, self.to_json().encode("utf-8"))
        write_atomic(md_path, self.to_markdown().encode("utf-8"))
        return json_path, md_path
