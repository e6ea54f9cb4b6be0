"""The *Insert events* dialog of the ribbon's Events table and Live formula buttons.

One window asks what to insert: the bucket (pre-filled with the last one used, else the
``default_bucket`` that sign-in saved), the events (a state or classification from a list, each
with its one-line explanation), the columns (default, all, or a searchable checklist of the field
catalogue's titles) and where to put it (a table on a new sheet, or a live formula at the active
cell). While the user chooses, a background thread counts the matching events (`Counter`): the
window shows "counting…", then the count or the problem as one sentence, and never waits for the
network. Enter inserts, Esc cancels, Tab moves through the fields in reading order. The choices
are remembered for next time in ``insert-dialog.json`` beside sheep-xl's settings file.

The logic (choices, validation, memory, counting) is plain Python and testable without a
screen; `InsertDialog` only builds and reads widgets. Where tkinter is missing (some macOS
Pythons), `ask_with_prompts` asks the same questions one at a time through a ``prompt``
function (Excel's InputBox on Windows, a system dialog on a Mac: see ``ribbon.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from sheep_xl.api.states import ACCEPTED, STATE_DESCRIPTIONS
from sheep_xl.frames.catalogue import CATALOGUE, DEFAULT_COLUMNS, DERIVED
from sheep_xl.frames.columns import ALL, DEFAULT, resolve_columns, split_columns

log = logging.getLogger(__name__)

TITLE = "SheepCRM - Insert events"
Where = Literal["sheet", "cell"]
COUNT_DEBOUNCE_MS = 500  # wait for typing to pause before counting
COUNT_TIMEOUT = 8.0  # seconds: connect and read timeouts of the counting request

# States and classifications the list offers, with the combinations people ask for most.
COMBINATIONS: dict[str, str] = {
    "future+confirmed": "events that have not started and are confirmed",
    "current+confirmed": "confirmed events from two weeks ago to three months ahead",
}


def state_options() -> list[tuple[str, str]]:
    """(name, one-line explanation) for each choice of events, in the list's order."""
    first = ["confirmed", "future", "current", "past", "all"]
    names = first + [s for s in ACCEPTED if s not in first]
    return [(n, STATE_DESCRIPTIONS[n]) for n in names] + list(COMBINATIONS.items())


def state_label(name: str, description: str) -> str:
    return f"{name}  \u2013  {description}"


def column_titles() -> list[str]:
    """Every field's title: the default columns first (in their order), then the rest A-Z."""
    by_name = {f.name: f.title for f in (*CATALOGUE, *DERIVED.values())}
    first = [by_name[n] for n in DEFAULT_COLUMNS if n in by_name]
    rest = sorted((t for t in by_name.values() if t not in first), key=str.lower)
    return first + rest


def filter_titles(titles: list[str], search: str) -> list[str]:
    """The titles containing every word of ``search`` (case-insensitive)."""
    words = search.lower().split()
    return [t for t in titles if all(w in t.lower() for w in words)]


@dataclass(frozen=True)
class Target:
    """Where the user was when they clicked: which button, and the active cell (``sheet`` and
    ``address`` empty when there is none a formula could go in)."""

    kind: Literal["table", "formula"] = "table"
    sheet: str = ""
    address: str = ""

    @property
    def has_cell(self) -> bool:
        return bool(self.sheet and self.address)

    @property
    def cell_label(self) -> str:
        return f"{self.sheet}!{self.address}" if self.has_cell else "the active cell"


@dataclass(frozen=True)
class Choice:
    """What the dialog hands to the insert functions."""

    bucket: str
    state: str = "confirmed"
    columns_mode: Literal["default", "all", "pick"] = "default"
    picked: tuple[str, ...] = ()  # column titles, for columns_mode "pick"
    where: Where = "sheet"

    @property
    def columns(self) -> str:
        """The columns argument of insert_table/insert_formula and SHEEP_EVENTS."""
        if self.columns_mode == "all":
            return ALL
        if self.columns_mode == "pick":
            return ", ".join(self.picked)
        return DEFAULT


def problem(choice: Choice, target: Target) -> str | None:
    """Why the choice cannot be inserted, as one sentence, or None."""
    from sheep_xl.api.states import resolve_state
    from sheep_xl.api.validation import validate_bucket
    from sheep_xl.exceptions import SheepError

    if not choice.bucket.strip():
        return "Type your bucket (your sheepCRM database name)."
    if choice.columns_mode == "pick" and not choice.picked:
        return "Tick at least one column, or choose Default or All."
    if choice.where == "cell" and not target.has_cell:
        return "There is no active cell for a formula: choose a table on a new sheet."
    try:
        validate_bucket(choice.bucket.strip())
        resolve_state(choice.state)
        resolve_columns(choice.columns)
    except SheepError as exc:
        return str(exc)
    return None


# --- memory ------------------------------------------------------------------------------------


def memory_path() -> Path:
    from sheep_xl.config import config_path

    return config_path().parent / "insert-dialog.json"


def load_memory(path: Path | None = None) -> dict[str, Any]:
    try:
        data = json.loads((path or memory_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(choice: Choice, path: Path | None = None) -> None:
    """Keep the choice for next time (never fatal: a dialog that cannot save still inserts)."""
    path = path or memory_path()
    data = asdict(choice)
    data["picked"] = list(choice.picked)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    except OSError as exc:
        log.warning("could not remember the insert dialog's choices in %s: %s", path, exc)


def initial_choice(
    target: Target, default_bucket: str = "", memory: dict[str, Any] | None = None
) -> Choice:
    """The dialog's starting values: the last choice, the signed-in bucket, sensible defaults."""
    memory = load_memory() if memory is None else memory
    titles = set(column_titles())
    state = str(memory.get("state") or "confirmed")
    if state not in dict(state_options()):
        state = "confirmed"
    mode = memory.get("columns_mode")
    picked = tuple(t for t in memory.get("picked") or () if t in titles)
    where: Where = "cell" if target.kind == "formula" and target.has_cell else "sheet"
    return Choice(
        bucket=str(memory.get("bucket") or default_bucket or ""),
        state=state,
        columns_mode=mode if mode in ("default", "all", "pick") else "default",
        picked=picked,
        where=where,
    )


# --- counting ----------------------------------------------------------------------------------


def count_events(bucket: str, state: str) -> int:
    """How many events match, asked of sheepCRM with short timeouts and no retries."""
    from sheep_xl.api.client import SheepClient

    with SheepClient(
        connect_timeout=COUNT_TIMEOUT,
        read_timeout=COUNT_TIMEOUT,
        request_deadline=2 * COUNT_TIMEOUT,
        retries=0,
    ) as client:
        return len(client.events(bucket, state))


def count_sentence(count: int) -> str:
    return f"{count:,} event matches" if count == 1 else f"{count:,} events match"


class Counter:
    """Counts in a background thread; `poll` (called from the UI thread) returns the newest
    text. A count that finishes after the question changed is dropped."""

    COUNTING = "counting\u2026"

    def __init__(self, count: Callable[[str, str], int] = count_events) -> None:
        self._count = count
        self._results: queue.Queue[tuple[int, str]] = queue.Queue()
        self._generation = 0
        self._asked: tuple[str, str] | None = None
        self.text = ""

    def ask(self, bucket: str, state: str) -> None:
        bucket, state = bucket.strip(), state.strip()
        if (bucket, state) == self._asked:
            return
        self._asked = (bucket, state)
        self._generation += 1
        if not bucket:
            self.text = ""
            return
        self.text = self.COUNTING
        generation = self._generation
        threading.Thread(
            target=self._run, args=(generation, bucket, state), daemon=True, name="sheep-count"
        ).start()

    def _run(self, generation: int, bucket: str, state: str) -> None:
        from sheep_xl.exceptions import SheepError

        try:
            text = count_sentence(self._count(bucket, state))
        except SheepError as exc:
            text = str(exc)
        except Exception as exc:  # a count must never break the dialog
            log.debug("count failed", exc_info=True)
            text = f"Could not count the events ({type(exc).__name__})."
        self._results.put((generation, text))

    def poll(self) -> str:
        with contextlib.suppress(queue.Empty):
            while True:
                generation, text = self._results.get_nowait()
                if generation == self._generation:
                    self.text = text
        return self.text

    @property
    def busy(self) -> bool:
        return self.text == self.COUNTING


# --- the window --------------------------------------------------------------------------------


def tk_available() -> bool:
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return False
    return True


class InsertDialog:
    """The window. Build it, then `run` (mainloop) or, in tests, drive its widgets and call
    ``root.update()``; `result` is the Choice after Insert, None after Cancel."""

    def __init__(
        self,
        initial: Choice,
        target: Target,
        counter: Counter | None = None,
        master: Any = None,
    ) -> None:
        import tkinter as tk
        from tkinter import ttk

        self.target = target
        self.counter = counter or Counter()
        self.result: Choice | None = None
        self.closed = False
        self._pending: str | None = None  # the debounced count's `after` id
        self.root = tk.Toplevel(master) if master is not None else tk.Tk()
        root = self.root
        root.title(TITLE)
        root.resizable(False, True)
        with contextlib.suppress(tk.TclError):
            root.attributes("-topmost", True)
        frame = ttk.Frame(root, padding=14)
        frame.grid(sticky="nsew")
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        row = 0

        ttk.Label(frame, text="Bucket (your sheepCRM database name):").grid(
            row=row, column=0, columnspan=3, sticky="w"
        )
        row += 1
        self.bucket = tk.StringVar(root, initial.bucket)
        self.bucket_entry = ttk.Entry(frame, textvariable=self.bucket, width=48)
        self.bucket_entry.grid(row=row, column=0, columnspan=3, sticky="we", pady=(0, 8))
        row += 1

        ttk.Label(frame, text="Events:").grid(row=row, column=0, columnspan=3, sticky="w")
        row += 1
        self.states = state_options()
        self.state_list = tk.Listbox(
            frame, height=7, width=64, exportselection=False, activestyle="dotbox"
        )
        for name, description in self.states:
            self.state_list.insert("end", state_label(name, description))
        names = [n for n, _ in self.states]
        index = names.index(initial.state) if initial.state in names else 0
        self.state_list.selection_set(index)
        self.state_list.activate(index)
        self.state_list.see(index)
        self.state_list.grid(row=row, column=0, columnspan=3, sticky="we", pady=(0, 8))
        self.state_list.bind("<<ListboxSelect>>", lambda *_: self._changed())
        row += 1

        ttk.Label(frame, text="Columns:").grid(row=row, column=0, sticky="w")
        row += 1
        self.columns_mode = tk.StringVar(root, initial.columns_mode)
        modes = ttk.Frame(frame)
        modes.grid(row=row, column=0, columnspan=3, sticky="w")
        self.mode_buttons = {}
        for col, (value, text) in enumerate(
            (
                ("default", f"Default ({len(DEFAULT_COLUMNS)})"),
                ("all", "All"),
                ("pick", "Choose:"),
            )
        ):
            button = ttk.Radiobutton(
                modes,
                text=text,
                value=value,
                variable=self.columns_mode,
                command=self._mode_changed,
            )
            button.grid(row=0, column=col, padx=(0, 12))
            self.mode_buttons[value] = button
        row += 1
        self.search = tk.StringVar(root, "")
        self.search_entry = ttk.Entry(frame, textvariable=self.search, width=48)
        self.search_entry.grid(row=row, column=0, columnspan=3, sticky="we", pady=(4, 2))
        self.search.trace_add("write", lambda *_: self._refilter())
        row += 1
        self.titles = column_titles()
        self.picked: list[str] = list(initial.picked)
        self.shown: list[str] = []
        self.column_list = tk.Listbox(
            frame, height=7, selectmode="multiple", exportselection=False, width=64
        )
        self.column_list.grid(row=row, column=0, columnspan=3, sticky="we")
        self.column_list.bind("<<ListboxSelect>>", lambda *_: self._picks_changed())
        row += 1
        self.picked_text = tk.StringVar(root, "")
        ttk.Label(frame, textvariable=self.picked_text).grid(
            row=row, column=0, columnspan=3, sticky="w", pady=(0, 8)
        )
        row += 1

        ttk.Label(frame, text="Put it:").grid(row=row, column=0, sticky="w")
        row += 1
        self.where = tk.StringVar(root, initial.where)
        self.sheet_button = ttk.Radiobutton(
            frame, text="Table on a new sheet", value="sheet", variable=self.where
        )
        self.sheet_button.grid(row=row, column=0, columnspan=3, sticky="w")
        row += 1
        self.cell_button = ttk.Radiobutton(
            frame,
            text=f"Live formula at {target.cell_label} (Windows Excel)",
            value="cell",
            variable=self.where,
        )
        self.cell_button.grid(row=row, column=0, columnspan=3, sticky="w", pady=(0, 8))
        if not target.has_cell:
            self.cell_button.state(["disabled"])
        row += 1

        self.count_text = tk.StringVar(root, "")
        ttk.Label(frame, textvariable=self.count_text).grid(
            row=row, column=0, columnspan=3, sticky="w"
        )
        row += 1
        self.problem_text = tk.StringVar(root, "")
        ttk.Label(frame, textvariable=self.problem_text, foreground="#b00020", wraplength=440).grid(
            row=row, column=0, columnspan=3, sticky="w"
        )
        row += 1

        buttons = ttk.Frame(frame)
        buttons.grid(row=row, column=0, columnspan=3, sticky="e", pady=(10, 0))
        self.cancel_button = ttk.Button(buttons, text="Cancel", command=self.cancel)
        self.cancel_button.grid(row=0, column=0, padx=4)
        self.ok_button = ttk.Button(buttons, text="Insert", command=self.ok, default="active")
        self.ok_button.grid(row=0, column=1)

        root.bind("<Return>", lambda *_: self.ok())
        root.bind("<KP_Enter>", lambda *_: self.ok())
        root.bind("<Escape>", lambda *_: self.cancel())
        root.protocol("WM_DELETE_WINDOW", self.cancel)
        self.bucket.trace_add("write", lambda *_: self._changed(debounce=True))
        self._refilter()
        self._mode_changed()
        self._changed()
        self.bucket_entry.focus_set()
        self.bucket_entry.icursor("end")
        self._poll()

    # --- reading the widgets ---

    def state(self) -> str:
        selected = self.state_list.curselection()
        return self.states[selected[0]][0] if selected else "confirmed"

    def choice(self) -> Choice:
        mode = self.columns_mode.get()
        return Choice(
            bucket=self.bucket.get().strip(),
            state=self.state(),
            columns_mode=mode if mode in ("default", "all", "pick") else "default",  # type: ignore[arg-type]
            picked=tuple(t for t in self.titles if t in self.picked),
            where="cell" if self.where.get() == "cell" else "sheet",
        )

    # --- reacting ---

    def _changed(self, debounce: bool = False) -> None:
        self._pending_cancel()
        if debounce:
            self._pending = self.root.after(COUNT_DEBOUNCE_MS, self._count)
        else:
            self._count()

    def _pending_cancel(self) -> None:
        if self._pending is not None:
            self.root.after_cancel(self._pending)
            self._pending = None

    def _count(self) -> None:
        self._pending = None
        self.counter.ask(self.bucket.get(), self.state())
        self.count_text.set(self._count_label(self.counter.text))

    @staticmethod
    def _count_label(text: str) -> str:
        return f"Matching events: {text}" if text else ""

    def _poll(self) -> None:
        if self.closed:
            return
        self.count_text.set(self._count_label(self.counter.poll()))
        self.root.after(100, self._poll)

    def _mode_changed(self) -> None:
        picking = self.columns_mode.get() == "pick"
        state: Literal["normal", "disabled"] = "normal" if picking else "disabled"
        self.search_entry.configure(state=state)
        self.column_list.configure(state=state)
        self._show_picked()

    def _refilter(self) -> None:
        self.shown = filter_titles(self.titles, self.search.get())
        listbox = self.column_list
        was: Literal["normal", "disabled"] = (
            "normal" if str(listbox.cget("state")) == "normal" else "disabled"
        )
        listbox.configure(state="normal")
        listbox.delete(0, "end")
        for i, title in enumerate(self.shown):
            listbox.insert("end", title)
            if title in self.picked:
                listbox.selection_set(i)
        listbox.configure(state=was)

    def _picks_changed(self) -> None:
        selected = {self.shown[i] for i in self.column_list.curselection()}
        for title in self.shown:  # titles hidden by the search keep their state
            if title in selected and title not in self.picked:
                self.picked.append(title)
            elif title not in selected and title in self.picked:
                self.picked.remove(title)
        self._show_picked()

    def _show_picked(self) -> None:
        if self.columns_mode.get() != "pick":
            self.picked_text.set("")
        elif self.picked:
            self.picked_text.set(f"{len(self.picked)} chosen: " + ", ".join(self.picked)[:70])
        else:
            self.picked_text.set("Tick the columns you want (type to search).")

    # --- closing ---

    def ok(self) -> None:
        choice = self.choice()
        sentence = problem(choice, self.target)
        if sentence:
            self.problem_text.set(sentence)
            return
        self.result = choice
        self._close()

    def cancel(self) -> None:
        self.result = None
        self._close()

    def _close(self) -> None:
        self.closed = True
        self._pending_cancel()
        with contextlib.suppress(Exception):
            self.root.destroy()

    def run(self) -> Choice | None:
        self.root.lift()
        with contextlib.suppress(Exception):
            self.root.focus_force()
        self.root.mainloop()
        return self.result


# --- asking --------------------------------------------------------------------------------------

Prompt = Callable[[str, str], "str | None"]


def ask_with_prompts(initial: Choice, target: Target, prompt: Prompt) -> Choice | None:
    """The same questions, one prompt at a time (no tkinter): None when one is cancelled."""
    bucket = prompt("sheepCRM bucket (your database name):", initial.bucket)
    if bucket is None:
        return None
    names = ", ".join(n for n, _ in state_options())
    state = prompt(f"Events to fetch: {names}", initial.state)
    if state is None:
        return None
    columns = prompt("Columns: default, all, or column titles separated by commas", initial.columns)
    if columns is None:
        return None
    lowered = columns.strip().lower()
    mode: Literal["default", "all", "pick"] = (
        "all" if lowered == ALL else "default" if lowered in ("", DEFAULT) else "pick"
    )
    where: Where = initial.where
    if target.has_cell and target.kind == "formula":
        where = "cell"
    return replace(
        initial,
        bucket=bucket.strip(),
        state=state.strip(),
        columns_mode=mode,
        picked=tuple(split_columns(columns)) if mode == "pick" else (),
        where=where,
    )


def ask(
    target: Target,
    default_bucket: str = "",
    *,
    prompt: Prompt | None = None,
    counter: Counter | None = None,
) -> Choice | None:
    """Show the dialog (or, without tkinter, the prompts) and remember what was chosen."""
    initial = initial_choice(target, default_bucket)
    if tk_available():
        choice = InsertDialog(initial, target, counter).run()
    elif prompt is not None:
        choice = ask_with_prompts(initial, target, prompt)
    else:
        from sheep_xl.exceptions import WorkbookError

        raise WorkbookError(
            "This Python has no tkinter for the Insert events dialog: see the README (Install it)."
        )
    if choice is not None:
        remember(choice)
    return choice
