"""The Insert events dialog: its logic without a screen, and its window on a virtual screen
(Xvfb), driven from the test thread with tkinter's own ``event_generate``/``invoke``, counting
against the demo server."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import DEMO_TODAY

from sheep_xl.api.states import ACCEPTED, STATE_DESCRIPTIONS
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.excel import insert_dialog as dialog
from sheep_xl.excel.insert_dialog import Choice, Counter, Target

CELL = Target("formula", "Sheet1", "B2")
NO_CELL = Target("table")


# --- logic ---------------------------------------------------------------------------------------


def test_every_state_is_offered_with_its_explanation() -> None:
    options = dict(dialog.state_options())
    for state in ACCEPTED:
        assert options[state] == STATE_DESCRIPTIONS[state]
    assert next(iter(options)) == "confirmed"
    assert "future+confirmed" in options
    assert dialog.state_label("past", "events that have finished") == (
        "past  \u2013  events that have finished"
    )


def test_column_titles_default_first_and_searchable() -> None:
    titles = dialog.column_titles()
    assert titles[:3] == ["Title", "Start date", "Start time"]
    assert len(titles) == len(set(titles)) > 150
    assert dialog.filter_titles(titles, "start da")[:2] == ["Start date", "Sales start date"]
    assert dialog.filter_titles(titles, "DATE sales") == ["Sales start date"]
    assert dialog.filter_titles(titles, "  ") == titles


def test_choice_gives_the_columns_argument() -> None:
    assert Choice("b").columns == "default"
    assert Choice("b", columns_mode="all").columns == "all"
    assert Choice("b", columns_mode="pick", picked=("Title", "Start date")).columns == (
        "Title, Start date"
    )


def test_problems_are_one_sentence() -> None:
    assert dialog.problem(Choice("example"), NO_CELL) is None
    assert "Type your bucket" in (dialog.problem(Choice(" "), NO_CELL) or "")
    assert "Tick at least one column" in (
        dialog.problem(Choice("example", columns_mode="pick"), NO_CELL) or ""
    )
    assert "no active cell" in (dialog.problem(Choice("example", where="cell"), NO_CELL) or "")
    assert dialog.problem(Choice("example", where="cell"), CELL) is None
    assert "bucket" in (dialog.problem(Choice("no such/bucket"), NO_CELL) or "").lower()


def test_remembers_the_last_choice(tmp_path) -> None:
    path = tmp_path / "insert-dialog.json"
    assert dialog.initial_choice(NO_CELL, "signedin", dialog.load_memory(path)) == Choice(
        "signedin"
    )
    dialog.remember(Choice("example", "past", "pick", ("Title", "Nope")), path)
    again = dialog.initial_choice(CELL, "signedin", dialog.load_memory(path))
    assert again == Choice("example", "past", "pick", ("Title",), where="cell")
    path.write_text("{not json")
    assert dialog.load_memory(path) == {}


def test_memory_lives_beside_the_settings_file(isolated_settings) -> None:
    from sheep_xl.config import config_path

    assert dialog.memory_path() == config_path().parent / "insert-dialog.json"


def test_prompts_without_tkinter() -> None:
    answers = iter(["example ", "future", "title, start date"])
    questions: list[tuple[str, str]] = []

    def prompt(question: str, default: str) -> str | None:
        questions.append((question, default))
        return next(answers)

    choice = dialog.ask_with_prompts(Choice("last"), CELL, prompt)
    assert choice == Choice("example", "future", "pick", ("title", "start date"), where="cell")
    assert questions[0] == ("sheepCRM bucket (your database name):", "last")
    assert questions[2][1] == "default"
    assert dialog.ask_with_prompts(Choice("x"), CELL, lambda q, d: None) is None


def test_ask_falls_back_to_prompts_and_remembers(isolated_settings, monkeypatch) -> None:
    monkeypatch.setattr(dialog, "tk_available", lambda: False)
    answers = iter(["example", "all", "all"])
    choice = dialog.ask(NO_CELL, "", prompt=lambda q, d: next(answers))
    assert choice == Choice("example", "all", "all")
    assert dialog.load_memory()["bucket"] == "example"


def wait_for(predicate, timeout: float = 10.0, pump=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        if pump:
            pump()
        time.sleep(0.02)


def test_counter_runs_in_the_background_and_drops_stale_answers() -> None:
    import threading

    release = threading.Event()

    def slow(bucket: str, state: str) -> int:
        if state == "past":
            release.wait(5)
        return {"past": 1, "future": 42}[state]

    counter = Counter(slow)
    counter.ask("example", "past")
    assert counter.poll() == "counting\u2026" and counter.busy
    counter.ask("example", "future")  # the question changed before the first answer
    wait_for(lambda: counter.poll() == "42 events match")
    release.set()
    time.sleep(0.1)
    assert counter.poll() == "42 events match", "the answer to the old question is dropped"
    counter.ask("", "future")
    assert counter.poll() == ""


def test_counter_errors_are_one_sentence() -> None:
    from sheep_xl.exceptions import BucketNotFoundError

    def missing(bucket: str, state: str) -> int:
        raise BucketNotFoundError("Bucket 'nope' was not found on sheepCRM.")

    def broken(bucket: str, state: str) -> int:
        raise KeyError("x")

    for count, text in (
        (missing, "Bucket 'nope' was not found on sheepCRM."),
        (broken, "Could not count the events (KeyError)."),
    ):
        counter = Counter(count)
        counter.ask("nope", "all")
        wait_for(lambda c=counter: c.poll() != Counter.COUNTING)
        assert counter.poll() == text


# --- the window on a virtual screen ------------------------------------------------------------


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str] | None:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        return None
    for number in range(91, 120):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(
            [xvfb, f":{number}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return proc, f":{number}"
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait()
    return None


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    pytest.importorskip("tkinter", reason="this Python has no tkinter")
    started = _start_xvfb()
    if started is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb), so no virtual screen")
    proc, name = started
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    try:
        yield name
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def demo(monkeypatch) -> Iterator[DemoServer]:
    with DemoServer(today=DEMO_TODAY) as server:
        monkeypatch.setenv("SHEEP_API_URL", server.url)
        monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
        yield server


def demo_count(state: str) -> int:
    from sheep_xl.api.client import SheepClient

    with SheepClient() as client:
        return len(client.events("example", state))


@pytest.fixture
def window(display, demo, isolated_settings) -> Iterator[dialog.InsertDialog]:
    win = dialog.InsertDialog(Choice("example"), CELL)
    win.root.update()
    yield win
    if not win.closed:
        win.cancel()


def pump(win: dialog.InsertDialog) -> None:
    if not win.closed:
        win.root.update()


def wait_count(win: dialog.InsertDialog, text: str) -> None:
    wait_for(lambda: win.count_text.get() == f"Matching events: {text}", 15, lambda: pump(win))


def select_state(win: dialog.InsertDialog, state: str) -> None:
    index = [n for n, _ in win.states].index(state)
    win.state_list.focus_set()
    win.state_list.selection_clear(0, "end")
    win.state_list.selection_set(index)
    win.state_list.event_generate("<<ListboxSelect>>")
    pump(win)


def test_dialog_counts_against_the_demo_server(window) -> None:
    assert window.count_text.get() == "Matching events: counting\u2026"
    wait_count(window, dialog.count_sentence(demo_count("confirmed")))
    select_state(window, "future")
    wait_count(window, dialog.count_sentence(demo_count("future")))
    # typing a bucket that does not exist: one sentence, and the window keeps working
    window.bucket.set("nosuchbucket")
    wait_for(lambda: "nosuchbucket" in window.count_text.get(), 15, lambda: pump(window))
    shown = window.count_text.get()
    assert "was not found" in shown and shown.endswith(".") and "\n" not in shown
    select_state(window, "all")  # still counting after an error
    window.bucket.set("example")
    wait_count(window, dialog.count_sentence(demo_count("all")))


def test_choosing_state_columns_and_place_then_enter(window) -> None:
    select_state(window, "past")
    window.mode_buttons["pick"].invoke()
    assert str(window.column_list.cget("state")) == "normal"
    window.search_entry.focus_set()
    for key in "start":
        window.search_entry.event_generate(f"<KeyPress-{key}>")
    pump(window)
    assert window.search.get() == "start"
    assert window.shown[:2] == ["Start date", "Start time"]
    window.column_list.selection_set(0)
    window.column_list.event_generate("<<ListboxSelect>>")
    window.search.set("")  # the search changes what is shown, never what is ticked
    pump(window)
    window.column_list.selection_set(window.shown.index("Title"))
    window.column_list.event_generate("<<ListboxSelect>>")
    pump(window)
    assert window.picked == ["Start date", "Title"]
    assert window.picked_text.get().startswith("2 chosen")
    window.where.set("cell")
    window.bucket_entry.focus_set()
    window.bucket_entry.event_generate("<Return>")
    pump(window)
    assert window.closed
    assert window.result == Choice("example", "past", "pick", ("Title", "Start date"), "cell")


def test_escape_cancels_and_problems_keep_the_window(window) -> None:
    window.bucket.set("")
    window.ok_button.invoke()
    pump(window)
    assert not window.closed and window.problem_text.get().startswith("Type your bucket")
    window.mode_buttons["all"].invoke()
    assert str(window.column_list.cget("state")) == "disabled"
    window.bucket_entry.event_generate("<Escape>")
    pump(window)
    assert window.closed and window.result is None


def test_no_active_cell_means_no_formula_choice(display, demo, isolated_settings) -> None:
    win = dialog.InsertDialog(Choice("example"), NO_CELL)
    try:
        assert win.cell_button.instate(["disabled"])
        assert win.where.get() == "sheet"
    finally:
        win.cancel()


def test_tab_order_follows_the_form(window) -> None:
    order = [window.bucket_entry]
    widget = window.bucket_entry
    for _ in range(4):
        widget = widget.tk_focusNext()
        order.append(widget)
    assert order[1] is window.state_list
    assert order[2] is window.mode_buttons["default"]


def test_ask_runs_the_window_and_hands_back_the_choice(display, demo, isolated_settings) -> None:
    from sheep_xl.config import save_setting

    save_setting("default_bucket", "example")
    original = dialog.InsertDialog.run
    seen: dict[str, str] = {}

    def drive(self: dialog.InsertDialog) -> Choice | None:
        def act() -> None:
            seen["bucket"] = self.bucket.get()
            self.mode_buttons["all"].invoke()
            self.ok_button.invoke()

        self.root.after(300, act)
        return original(self)

    dialog.InsertDialog.run = drive  # type: ignore[method-assign]
    try:
        choice = dialog.ask(Target("table"), "example")
    finally:
        dialog.InsertDialog.run = original  # type: ignore[method-assign]
    assert seen["bucket"] == "example", "pre-filled from the signed-in bucket"
    assert choice == Choice("example", "confirmed", "all")
    assert dialog.initial_choice(Target("table")).columns_mode == "all", "remembered"
