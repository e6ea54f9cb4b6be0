"""Run schemathesis against the local demo server for the events operations of the official spec.

Usage (from the repository root, with a Python that has schemathesis *and* sheep-xl's
dependencies; schemathesis is deliberately not a project dependency, so use a scratch venv)::

    python3 -m venv /tmp/st-venv && /tmp/st-venv/bin/pip install schemathesis -e .
    /tmp/st-venv/bin/python -m tools.schemathesis_demo [--max-examples 100] [--seed 1]
        [--today YYYY-MM-DD] [--spec PATH] [--json FINDINGS.json]

It starts `sheep_xl.demo.server.DemoServer` on 127.0.0.1 (a free port) and tests, through
schemathesis' Python API (``APIOperation.as_strategy``, ``Case.call``, ``Case.validate_response``),
the per-event operations ``getEvent``, ``getEventAttendance`` (and its documented alias
``/events/v2/{bucket}/bookings/{uid}/attendance``), ``getEventAttendanceAll``, ``getEventOrders``,
``getEventTicketsAll`` and ``getEventAvailableTickets``, and the listings ``getEventsByState``
and ``getEvents``, always in bucket ``example`` with ``Authorization: Bearer <demo key>``:

* ``real``: one case per real demo uid (every uid of ``GET /events/v2/example/bookings/all``, all
  pages, plus the series occurrences that the listing collapses), and for the listings every
  state, a page holding every record, a second page and a page past the end;
* ``generated``: hypothesis cases from the spec (positive mode; negative mode too where the spec
  allows invalid values, i.e. the listing's ``state``/``page``/``page_size``), so generated uids
  exercise the 404 path;
* ``methods``: each operation's path with the methods the spec does not declare there (those of
  schemathesis' coverage phase), checked with ``not_a_server_error`` only.

Checks: ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance`` and
``response_schema_conformance``. The summary groups distinct findings by check and operation, with
a verdict for the kinds already understood ("spec quirk" or "demo bug", see `classify`), the spec
line of the schema involved and a curl command reproducing one case (the demo key is public). It
exits 0 when every finding is a known spec quirk, 1 otherwise, 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = Path(
    os.environ.get("SHEEP_OPENAPI_SPEC", REPO_ROOT.parent / "shared" / "sheepcrm-openapi.yaml")
)
BUCKET = "example"

PER_EVENT_OPERATIONS = (
    "getEvent",
    "getEventAttendance",
    "getEventAttendanceAll",
    "getEventOrders",
    "getEventTicketsAll",
    "getEventAvailableTickets",
)
LISTING_OPERATIONS = ("getEventsByState", "getEvents")
#: "Aliased as /events/v2/{bucket}/bookings/{uid}/attendance" (getEventAttendance's description);
#: not a path of its own in the spec, so its answers are checked against getEventAttendance.
ALIAS_OF = "getEventAttendance"
ALIAS_PATH = "/events/v2/{bucket}/bookings/{uid}/attendance"
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
#: schemathesis' coverage phase sends these when the spec does not declare them on a path
UNEXPECTED_METHODS = ("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY")
STATES = ("all", "current", "draft", "future", "past", "running")


# --------------------------------------------------------------------------------------------
# findings
# --------------------------------------------------------------------------------------------


@dataclass
class Finding:
    """One distinct failure: the same check, operation and signature, however many cases."""

    check: str
    operation: str
    summary: str
    verdict: str
    spec_location: str = ""
    cases: int = 0
    example: str = ""  # curl command of the first case
    example_status: int = 0
    example_detail: str = ""
    phases: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "operation": self.operation,
            "summary": self.summary,
            "verdict": self.verdict,
            "spec_location": self.spec_location,
            "cases": self.cases,
            "phases": dict(self.phases),
            "example": self.example,
            "example_status": self.example_status,
            "example_detail": self.example_detail,
        }


def _first(value: Any) -> str:
    """A header value whether the transport gives a string or a list of strings."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _instance_path(path: Sequence[Any]) -> str:
    """``['bookings', 3, 'photo']`` -> ``bookings[].photo``."""
    out = ""
    for part in path:
        out += "[]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(body)"


def describe(failure: Any) -> tuple[str, str]:
    """(one-line signature, JSON pointer of the schema involved) of a schemathesis failure."""
    code = getattr(failure, "code", "")
    if code == "ST108":  # JsonSchemaError
        match = re.search(r"^Schema at (\S+):$", failure.message, re.MULTILINE)
        pointer = match.group(1) if match else ""
        where = _instance_path(list(failure.instance_path))
        return f"{where}: {failure.validation_message}", pointer
    if code == "ST103":  # UndefinedStatusCode
        documented = ", ".join(failure.defined_status_codes)
        return f"status {failure.status_code} not documented (documented: {documented})", ""
    if code == "ST101":  # ServerError
        return f"status {failure.status_code}", ""
    first_line = (failure.message or "").strip().splitlines()[:1]
    return f"{failure.title}: {first_line[0] if first_line else ''}".rstrip(": "), ""


#: What each verdict of `classify` means; a "bug" is the demo server's, a "quirk" the spec's.
VERDICTS: dict[str, str] = {
    "bug:undeclared-method-501": (
        "demo bug: a method with no do_<METHOD> handler in sheep_xl.demo.server._Handler (TRACE, "
        "QUERY, CONNECT, any unknown token) gets http.server's default 501 HTML page, not the "
        "405 JSON error body (with Allow: GET and rate-limit headers) that the server documents "
        "for every method other than GET; the request is not logged in DemoServer.requests either"
    ),
    "quirk:404-undeclared": (
        "spec quirk: 404 is not among the operation's responses (200, 400, 401 only), yet an "
        "unknown uid can only be a 404; the spec declares 404 on other operations (the exports)"
    ),
    "quirk:429-undeclared": (
        "spec quirk: 429 (documented rate limits 400/min, 1000/h) is not among the responses"
    ),
    "quirk:no-nullable": (
        "spec quirk: the schema has no `nullable: true` (OAS 3.0), but live data has null in "
        "this field (sheep_xl.demo.data.NULLABLE_FIELDS)"
    ),
    "unclassified": "unclassified: not a kind this tool knows; look at it",
}


def classify(check: str, failure: Any, method: str, status: int) -> str:
    """The `VERDICTS` key of a failure (``unclassified`` for a kind not understood yet)."""
    code = getattr(failure, "code", "")
    if check == "not_a_server_error" and method != "GET" and status == 501:
        return "bug:undeclared-method-501"
    if code == "ST103" and status == 404:
        return "quirk:404-undeclared"
    if code == "ST103" and status == 429:
        return "quirk:429-undeclared"
    if (
        code == "ST108"
        and failure.instance is None
        and str(failure.validation_message).startswith("null is not of type")
    ):
        return "quirk:no-nullable"
    return "unclassified"


def spec_line(lines: Sequence[str], pointer: str) -> int | None:
    """The 1-based line of a JSON pointer (``/components/schemas/X``) in the spec's YAML text."""
    if not pointer:
        return None
    segments = [s.replace("~1", "/").replace("~0", "~") for s in pointer.strip("/").split("/")]
    start, parent_indent, found = 0, -1, None
    for segment in segments:
        pattern = re.compile(rf"^(\s*)(['\"]?){re.escape(segment)}\2:(\s|$)")
        found = None
        for index in range(start, len(lines)):
            line = lines[index]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            indent = len(line) - len(line.lstrip())
            if index > start and indent <= parent_indent:
                break  # left the parent mapping
            match = pattern.match(line)
            if match and indent > parent_indent:
                found, parent_indent, start = index, indent, index + 1
                break
        if found is None:
            return None
    return None if found is None else found + 1


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What one run sends and finds."""

    base_url: str
    auth: dict[str, str]
    checks: dict[str, Callable[..., Any]]
    spec_lines: list[str]
    spec_paths: dict[str, Any]
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    notes: list[str] = field(default_factory=list)

    def curl(self, response: Any) -> str:
        request = response.request
        parts = ["curl", "-sS", "-i"]
        if request.method != "GET":
            parts += ["-X", str(request.method)]
        parts += ["-H", f"Authorization: {self.auth['Authorization']}", str(request.url)]
        return " ".join(shlex.quote(p) for p in parts)

    def execute(
        self,
        case: Any,
        label: str,
        phase: str,
        check_names: Iterable[str] = CHECK_NAMES,
        spec_path: str | None = None,
    ) -> None:
        """Send one case and run each check on its answer, recording every failure."""
        from schemathesis.core.failures import FailureGroup

        self.counts[label][phase] += 1
        try:
            response = case.call(headers=self.auth, timeout=30)
        except Exception as exc:  # a transport failure is a finding too
            key = ("transport", label, type(exc).__name__)
            finding = self.findings.setdefault(
                key, Finding("transport", label, f"{type(exc).__name__}: {exc}", "unclassified")
            )
            finding.cases += 1
            finding.phases[phase] += 1
            return
        self.statuses[label][response.status_code] += 1
        content_type = _first(response.headers.get("content-type"))
        for name in check_names:
            try:
                case.validate_response(response, checks=[self.checks[name]], headers=self.auth)
            except FailureGroup as group:
                for failure in group.exceptions:
                    self.record(
                        name, label, phase, failure, case, response, content_type, spec_path
                    )

    def record(
        self,
        check: str,
        label: str,
        phase: str,
        failure: Any,
        case: Any,
        response: Any,
        content_type: str,
        spec_path: str | None,
    ) -> None:
        summary, pointer = describe(failure)
        key = (check, label, summary)
        finding = self.findings.get(key)
        if finding is None:
            method = str(response.request.method)
            if not pointer and getattr(failure, "code", "") == "ST103":
                pointer = "/paths/{}/{}/responses".format(
                    (spec_path or case.operation.path).replace("~", "~0").replace("/", "~1"),
                    case.operation.method.lower(),
                )
            line = spec_line(self.spec_lines, pointer)
            location = f"#{pointer}" + (f" (spec line {line})" if line else "") if pointer else ""
            body = response.content[:300].decode("utf-8", "replace").replace("\n", " ")
            finding = Finding(
                check=check,
                operation=label,
                summary=summary,
                verdict=classify(check, failure, method, response.status_code),
                spec_location=location,
                example=self.curl(response),
                example_status=response.status_code,
                example_detail=f"{response.status_code} {content_type}: {body}",
            )
            self.findings[key] = finding
        finding.cases += 1
        finding.phases[phase] += 1


def fuzz(
    strategy: Any, max_examples: int, seed: int, body: Callable[[Any], None], what: str, run: Run
) -> None:
    """Feed ``max_examples`` hypothesis examples of ``strategy`` to ``body`` (no shrinking)."""
    import hypothesis
    from hypothesis import HealthCheck, Phase

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=strategy)
    def test(case: Any) -> None:
        body(case)

    try:
        test()
    except hypothesis.errors.Unsatisfiable:
        run.notes.append(f"{what}: no case can be generated (nothing in it can be made invalid)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="schemathesis_demo",
        description="Run schemathesis against the demo server for the spec's events operations.",
    )
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the official spec")
    parser.add_argument(
        "--max-examples", type=int, default=100, help="generated cases per operation and mode"
    )
    parser.add_argument("--seed", type=int, default=1, help="hypothesis seed (default 1)")
    parser.add_argument("--today", type=date.fromisoformat, help="the demo's today (YYYY-MM-DD)")
    parser.add_argument("--json", type=Path, help="also write the findings to this JSON file")
    args = parser.parse_args(argv)

    try:
        import schemathesis
        from schemathesis import GenerationMode
    except ImportError:
        print(
            "schemathesis is not installed in this Python (it is not a project dependency): "
            "python3 -m venv /tmp/st-venv && /tmp/st-venv/bin/pip install schemathesis -e . "
            "then /tmp/st-venv/bin/python -m tools.schemathesis_demo",
            file=sys.stderr,
        )
        return 2
    if not args.spec.is_file():
        print(f"spec not found: {args.spec} (use --spec or SHEEP_OPENAPI_SPEC)", file=sys.stderr)
        return 2
    if __package__ is None or __package__ == "":
        sys.path.insert(0, str(REPO_ROOT))
    import requests

    from sheep_xl.demo.server import DEMO_API_KEY, DemoServer

    started = time.monotonic()
    spec_text = args.spec.read_text(encoding="utf-8")
    with DemoServer("127.0.0.1", 0, today=args.today) as server:
        auth = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        schema = schemathesis.openapi.from_path(args.spec, config=schemathesis.Config())
        schema.config.update(base_url=server.url, headers=auth)
        checks = {name: getattr(schemathesis.checks, name) for name in CHECK_NAMES}
        run = Run(server.url, auth, checks, spec_text.splitlines(), schema.raw_schema["paths"])

        # real uids: every page of the "all" listing, then the series occurrences it collapses
        listed: list[str] = []
        page = 1
        while True:
            answer = requests.get(
                f"{server.url}/events/v2/{BUCKET}/bookings/all",
                params={"page": page},
                headers=auth,
                timeout=30,
            )
            answer.raise_for_status()
            bookings = answer.json()["bookings"]
            if not bookings:
                break
            listed += [str(b["uid"]) for b in bookings]
            page += 1
        hidden = [
            str(r["uid"]) for r in server.buckets[BUCKET] if str(r.get("uid")) not in set(listed)
        ]
        uids = listed + hidden

        operations = {
            op_id: schema.find_operation_by_id(op_id)
            for op_id in (*PER_EVENT_OPERATIONS, *LISTING_OPERATIONS)
        }
        alias_label = f"GET {ALIAS_PATH} (alias of {ALIAS_OF})"

        def alias_case(case: Any) -> Any:
            return schema.make_case(
                operation=operations[ALIAS_OF],
                path=ALIAS_PATH,
                path_parameters=dict(case.path_parameters),
            )

        def send(case: Any, label: str, phase: str, checks: Iterable[str] = CHECK_NAMES) -> None:
            run.execute(case, label, phase, checks)

        def sender(label: str, phase: str) -> Callable[[Any], None]:
            return lambda case: send(case, label, phase)

        # -- per-event operations ----------------------------------------------------------
        for op_id in PER_EVENT_OPERATIONS:
            op = operations[op_id]
            for uid in uids:
                send(op.Case(path_parameters={"bucket": BUCKET, "uid": uid}), op.label, "real")
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = op.as_strategy(mode, path_parameters={"bucket": BUCKET})
                fuzz(
                    strategy,
                    args.max_examples,
                    args.seed,
                    sender(op.label, f"gen-{mode.value}"),
                    f"{op_id} ({mode.value})",
                    run,
                )
        alias_op = operations[ALIAS_OF]
        for uid in uids:
            case = alias_op.Case(path_parameters={"bucket": BUCKET, "uid": uid})
            run.execute(alias_case(case), alias_label, "real", spec_path=alias_op.path)
        fuzz(
            alias_op.as_strategy(GenerationMode.POSITIVE, path_parameters={"bucket": BUCKET}),
            args.max_examples,
            args.seed,
            lambda case: run.execute(
                alias_case(case),
                alias_label,
                "gen-positive",
                spec_path=alias_op.path,
            ),
            f"{ALIAS_OF} alias (positive)",
            run,
        )

        # -- listings ------------------------------------------------------------------------
        by_state = operations["getEventsByState"]
        explicit: list[tuple[Any, dict[str, Any], dict[str, Any]]] = [
            (by_state, {"bucket": BUCKET, "state": state}, {}) for state in STATES
        ]
        explicit += [
            (by_state, {"bucket": BUCKET, "state": "all"}, {"page_size": len(uids) + 50}),
            (by_state, {"bucket": BUCKET, "state": "all"}, {"page": 2}),
            (by_state, {"bucket": BUCKET, "state": "all"}, {"page": 99}),
            (operations["getEvents"], {"bucket": BUCKET}, {}),
            (operations["getEvents"], {"bucket": BUCKET}, {"page_size": len(uids) + 50}),
        ]
        for op, path_parameters, query in explicit:
            send(op.Case(path_parameters=path_parameters, query=query), op.label, "real")
        for op_id in LISTING_OPERATIONS:
            op = operations[op_id]
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz(
                    op.as_strategy(mode, path_parameters={"bucket": BUCKET}),
                    args.max_examples,
                    args.seed,
                    sender(op.label, f"gen-{mode.value}"),
                    f"{op_id} ({mode.value})",
                    run,
                )

        # -- methods the spec does not declare on each path --------------------------------
        probes: list[tuple[Any, str, str, dict[str, str]]] = [
            (operations[i], operations[i].label, operations[i].path, {"uid": uids[0]})
            for i in PER_EVENT_OPERATIONS
        ]
        probes += [
            (alias_op, alias_label, ALIAS_PATH, {"uid": uids[0]}),
            (by_state, by_state.label, by_state.path, {"state": "all"}),
            (operations["getEvents"], operations["getEvents"].label, "/events/v2/{bucket}", {}),
        ]
        for op, label, path, extra in probes:
            declared = {m.upper() for m in run.spec_paths.get(path, {"get": None})}
            for method in UNEXPECTED_METHODS:
                if method in declared:
                    continue
                case = schema.make_case(
                    operation=op,
                    method=method,
                    path=path,
                    path_parameters={"bucket": BUCKET, **extra},
                )
                send(case, label, "methods", checks=("not_a_server_error",))
        elapsed = time.monotonic() - started
        report(run, schemathesis.__version__, server, args, elapsed, len(listed), len(hidden))

    if args.json:
        args.json.write_text(
            json.dumps([f.as_json() for f in run.findings.values()], indent=2, ensure_ascii=False),
            encoding="utf-8",
        )
    return 0 if all(f.verdict.startswith("quirk:") for f in run.findings.values()) else 1


def report(
    run: Run, version: str, server: Any, args: Any, elapsed: float, listed: int, hidden: int
) -> None:
    print(f"schemathesis {version} against the sheep-xl demo server at {server.url}")
    print(
        f"today {server.today}, bucket {BUCKET!r}, seed {args.seed}, max examples "
        f"{args.max_examples} per operation and mode, {elapsed:.1f} s; spec {args.spec}"
    )
    print(f"real uids: {listed} listed by bookings/all + {hidden} series occurrences it collapses")
    print()
    print("Test cases per operation (real = demo uids/states, gen = hypothesis, methods = probes)")
    phases = ["real", "gen-positive", "gen-negative", "methods"]
    width = max(len(label) for label in run.counts)
    head = "  ".join(f"{p:>12}" for p in phases)
    print(f"  {'operation':<{width}}  {head}   total  statuses (status x count)")
    for label, counts in run.counts.items():
        cells = "  ".join(f"{counts.get(p, 0):>12}" for p in phases)
        statuses = " ".join(f"{s}x{n}" for s, n in sorted(run.statuses[label].items()))
        print(f"  {label:<{width}}  {cells}  {sum(counts.values()):>6}  {statuses}")
    for note in run.notes:
        print(f"  note: {note}")
    print()
    findings = list(run.findings.values())
    print(f"Findings: {len(findings)} distinct (check, operation, signature), verdicts below")
    for check in (*CHECK_NAMES, "transport"):
        of_check = [f for f in findings if f.check == check]
        print(f"\n== {check}: {len(of_check) or 'no'} finding{'s' if len(of_check) != 1 else ''}")
        by_operation: dict[str, list[Finding]] = defaultdict(list)
        for finding in of_check:
            by_operation[finding.operation].append(finding)
        for operation, items in by_operation.items():
            print(f"  {operation}")
            for f in sorted(items, key=lambda f: f.summary):
                where = f"; {f.spec_location}" if f.spec_location else ""
                print(f"    - [{f.verdict}] {f.summary}  ({f.cases} cases{where})")
                print(f"        {f.example}")
                if f.check != "response_schema_conformance":
                    print(f"        -> {f.example_detail[:150]}")
    print("\nVerdicts")
    verdicts = Counter(f.verdict for f in findings)
    for key, count in verdicts.most_common():
        print(f"  [{key}] x{count}: {VERDICTS.get(key, key)}")
    if not findings:
        print("  none")


if __name__ == "__main__":
    sys.exit(main())
