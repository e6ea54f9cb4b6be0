"""Run the checks and write the report: `run_kit` over any xlwings ``App`` (the test suite
passes the in-memory one), `main` for ``sheep-xl excel-check``, which starts a hidden Excel of
its own and quits it at the end."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

# imported for their checks, which register themselves
from sheep_xl.acceptance import (  # noqa: F401
    checks_addin,
    checks_desktop,
    checks_files,
    checks_functions,
    checks_ribbon,
)
from sheep_xl.acceptance.context import KitContext, attempt
from sheep_xl.acceptance.options import add_arguments
from sheep_xl.acceptance.registry import (
    CHECKS,
    PLATFORM_NAMES,
    Check,
    CheckFailed,
    CheckResult,
    CheckSkipped,
    ordered,
)
from sheep_xl.acceptance.report import Report, describe_excel, describe_machine


def this_platform() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    return "mac" if sys.platform == "darwin" else "other"


def is_real_excel(app: Any) -> bool:
    """xlwings' Windows and Mac engines are both called "excel"; anything else (the in-memory
    engine, a file reader) cannot show Excel's own behaviour."""
    return attempt(lambda: app.engine.name) == "excel"


def _skip_reason(check: Check, ctx: KitContext) -> str | None:
    if check.needs_real_excel and not ctx.real_excel:
        return "needs real Excel: run `sheep-xl excel-check` on a Windows or Mac desktop with Excel"
    if ctx.platform not in check.platforms:
        wanted = " and ".join(PLATFORM_NAMES[p] for p in sorted(check.platforms))
        return f"applies to Excel on {wanted}; this is {PLATFORM_NAMES[ctx.platform]}"
    unmet = [name for name in check.requires if name not in ctx.passed]
    if unmet:
        return f"needs {', '.join(unmet)} to pass first"
    return None


def run_check(check: Check, ctx: KitContext) -> CheckResult:
    """One check, whatever happens: an unexpected exception is a failure naming it, never the
    end of the run."""
    started = time.monotonic()
    status, details = "pass", []
    reason = _skip_reason(check, ctx)
    if reason is not None:
        status, sentence = "skip", reason
    else:
        try:
            sentence = check.func(ctx) or "passed"
        except CheckSkipped as skip:
            status, sentence = "skip", skip.reason
        except CheckFailed as failure:
            status, sentence, details = "fail", failure.sentence, failure.details
        except Exception as exc:
            status = "fail"
            sentence = f"{type(exc).__name__}: {exc}"
            details = traceback.format_exc().strip().splitlines()[-8:]
    if status == "pass":
        ctx.passed.add(check.name)
    return CheckResult(
        check.name,
        check.group,
        check.summary,
        status,  # type: ignore[arg-type]
        sentence,
        details,
        time.monotonic() - started,
        check.needs_real_excel,
        tuple(sorted(check.platforms)),
    )


def run_kit(
    app: Any,
    *,
    work: Path | None = None,
    report: Path | None = None,
    real_excel: bool | None = None,
    platform: str | None = None,
    only: Sequence[str] | None = None,
    timeout: float = 90.0,
    progress: TextIO | None = None,
    checks: Sequence[Check] | None = None,
) -> Report:
    """Run every check (or those named in ``only``, by name or group) against ``app`` and
    return the report, written to ``report`` when given. ``real_excel`` and ``platform`` are
    found out from ``app`` and this computer unless given (tests pass a fake Excel)."""
    from sheep_xl.api.client import SheepClient
    from sheep_xl.demo.server import DEMO_API_KEY, DemoServer

    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    real = is_real_excel(app) if real_excel is None else real_excel
    selected = [
        c
        for c in ordered(list(CHECKS if checks is None else checks))
        if not only or c.name in only or c.group in only
    ]
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="sheep-xl-excel-check-") as scratch:
        folder = Path(work) if work is not None else Path(scratch)
        with (
            DemoServer() as server,
            SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client,
        ):
            ctx = KitContext(
                app=app,
                work=folder,
                server=server,
                client=client,
                real_excel=real,
                platform=platform or this_platform(),
                timeout=timeout,
            )
            try:
                for check in selected:
                    if progress is not None:
                        progress.write(f"{check.name} ... ")
                        progress.flush()
                    result = run_check(check, ctx)
                    results.append(result)
                    if progress is not None:
                        progress.write(f"{result.status}: {result.sentence}\n")
            finally:
                ctx.close_all()
        shots = [str(p) for p in ctx.screenshots]
        if report is not None and shots:  # keep the pictures beside the report
            shots = _keep_pictures(ctx.screenshots, Path(report).parent / "excel-check-pictures")
        result_report = Report(
            started,
            dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            describe_excel(app, real),
            describe_machine(),
            results,
            shots,
            str(folder) if work is not None else "",
        )
    if report is not None:
        result_report.write(Path(report))
    return result_report


def _keep_pictures(pictures: Sequence[Path], folder: Path) -> list[str]:
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    kept = []
    for picture in pictures:
        target = folder / picture.name
        shutil.copyfile(picture, target)
        kept.append(str(target))
    return kept


def start_excel(visible: bool = False) -> Any:
    """A new Excel instance of the kit's own, hidden, with no workbook and no user add-ins
    opened by us (Excel still loads the user's XLSTART; the kit's add-in comes from a
    temporary folder)."""
    import xlwings as xw

    if sys.platform not in ("win32", "darwin"):
        raise RuntimeError(f"xlwings drives Excel only on Windows and macOS, not {sys.platform}")
    return xw.App(visible=visible, add_book=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sheep-xl excel-check",
        description="Check sheep-xl against this computer's Excel and write a report.",
    )
    add_arguments(parser)
    return parser


def run_from_args(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """What ``sheep-xl excel-check`` does: 0 when nothing failed, 1 when a check failed, 2
    when Excel could not be started (the report then says so)."""
    if args.list:
        for c in ordered(CHECKS):
            where = "Excel" if c.needs_real_excel else "anywhere"
            out.write(f"{c.name:34} {where:9} {', '.join(sorted(c.platforms)):20} {c.summary}\n")
        return 0
    try:
        app = start_excel(visible=args.visible)
    except Exception as exc:
        err.write(
            f"sheep-xl: Excel could not be started ({type(exc).__name__}: {exc}); the checks "
            "that need Excel are skipped.\n"
        )
        app, code_if_ok = None, 2
    else:
        code_if_ok = 0
    try:
        work = Path(args.keep) if args.keep else None
        if work is not None:
            work.mkdir(parents=True, exist_ok=True)
        report = run_kit(
            app if app is not None else _NoExcel(),
            report=Path(args.report),
            real_excel=app is not None and is_real_excel(app),
            only=args.only,
            work=work,
            progress=err,
        )
    finally:
        if app is not None:
            attempt(app.quit)
    counts = report.counts
    json_path = Path(args.report)
    out.write(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped: "
        f"{json_path.with_suffix('.md')} (and .json)\n"
    )
    return 1 if counts["fail"] else code_if_ok


class _NoExcel:
    """Stands in for Excel when none could be started, so the checks that need none still run."""

    version = "none"

    def __getattr__(self, name: str) -> Any:
        # A check that needs a workbook open somewhere is skipped, not failed: nothing is wrong
        # with sheep-xl when there is no Excel to open one in.
        raise CheckSkipped("no Excel could be started here, so there is no workbook to open")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_from_args(args, sys.stdout, sys.stderr)
