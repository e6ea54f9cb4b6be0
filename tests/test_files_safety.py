"""Files: written through links, read-only workbooks refused, interrupted runs leave the old file
and no temporary file, stale temporaries cleaned, output paths checked before any request."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sheep_xl.cli import main
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.files import atomic_path, remove_stale_temporaries, write_atomic

# Run the CLI in a child process whose workbook write stops half-way (a few bytes in the
# temporary file), so the test can signal it at exactly that moment.
SLOW_WRITE = """
import sys, time
from sheep_xl.writers import ooxml

def half_written(self, path, **kwargs):
    with open(path, "wb") as fh:
        fh.write(b"PK half a workbook")
    print("WRITING", flush=True)
    time.sleep(120)

ooxml.XlsxPackage.save = half_written
from sheep_xl.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def temporaries(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.*.tmp"))


@pytest.fixture
def demo_env(demo, monkeypatch):
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    return demo


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "events.xlsx"
    code, _, err = run("demo", "--out", str(path), "--quiet")
    assert code == 0, err
    return path


def _default_interrupt() -> None:
    # A process started with SIGINT ignored keeps ignoring it, as a shell's background job
    # does; pytest-xdist's workers ignore it, so the child is given Ctrl+C's default back.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted_child(target: Path, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITE, "demo", "--out", str(target), "--quiet"],
        cwd=target.parent,
        preexec_fn=_default_interrupt,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "WRITING", child.stderr
        assert temporaries(target.parent, target.name), "the write is under way"
        child.send_signal(sig)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(workbook, sig, code) -> None:
    before = workbook.read_bytes()
    result = interrupted_child(workbook, sig)
    assert result.returncode == code, result.stderr
    assert result.stderr == "sheep-xl: interrupted; nothing was changed.\n"
    assert workbook.read_bytes() == before
    assert temporaries(workbook.parent, workbook.name) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_killed_write_leaves_the_old_file_and_the_next_write_cleans_up(workbook) -> None:
    before = workbook.read_bytes()
    result = interrupted_child(workbook, signal.SIGKILL)
    assert result.returncode == -signal.SIGKILL
    assert workbook.read_bytes() == before, "never half a file"
    (left,) = temporaries(workbook.parent, workbook.name)  # nothing can remove it at SIGKILL

    code, _, err = run("demo", "--out", str(workbook), "--quiet")
    assert code == 0, err
    assert left.exists(), "young: it may be another run's write in progress"
    hour_ago = time.time() - 2 * 3600
    os.utime(left, (hour_ago, hour_ago))
    code, _, err = run("demo", "--out", str(workbook), "--quiet")
    assert code == 0, err
    assert temporaries(workbook.parent, workbook.name) == []


def test_only_our_own_stale_temporaries_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "events.xlsx"
    old = time.time() - 2 * 3600
    ours = tmp_path / ".events.xlsx.abcd_123.tmp"
    young = tmp_path / ".events.xlsx.zzzzzzzz.tmp"
    others = [
        tmp_path / ".events.xlsx.short.tmp",  # not mkstemp's pattern
        tmp_path / ".other.xlsx.abcdefgh.tmp",  # another target's
        tmp_path / "events.xlsx.abcdefgh.tmp",  # no leading dot
    ]
    for path in [ours, young, *others]:
        path.write_bytes(b"x")
    folder = tmp_path / ".events.xlsx.folder00.tmp"
    folder.mkdir()
    link = tmp_path / ".events.xlsx.linklink.tmp"
    link.symlink_to(ours)
    for path in [ours, folder, *others]:
        os.utime(path, (old, old))
    os.utime(link, (old, old), follow_symlinks=False)

    assert remove_stale_temporaries(target) == [ours]
    assert young.exists() and folder.exists() and link.is_symlink()
    assert all(p.exists() for p in others)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"


def test_a_failed_write_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("stop")
    assert target.read_bytes() == b"old" and temporaries(tmp_path, "a.csv") == []


# --- links and read-only workbooks ---------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_refresh_through_a_link_updates_the_file_it_names(workbook, tmp_path) -> None:
    link = tmp_path / "shortcut.xlsx"
    link.symlink_to(workbook)
    inode = workbook.stat().st_ino
    code, _, err = run("refresh", str(link), "--quiet")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == workbook.resolve()
    assert workbook.stat().st_ino != inode, "the file the link names was replaced"
    assert temporaries(tmp_path, "shortcut.xlsx") == []


def test_read_only_workbook_is_refused_before_anything_is_fetched(demo_env, tmp_path) -> None:
    path = tmp_path / "mine.xlsx"
    code, _, err = run("events", "example", "future", "--out", str(path), "--quiet")
    assert code == 0, err
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = path.read_bytes()
    demo_env.requests.clear()

    code, _, err = run("refresh", str(path))
    assert code == 2 and err.count("\n") == 1, err
    assert "mine.xlsx is read-only" in err and "--overwrite-read-only" in err
    assert len(demo_env.requests) == 0 and path.read_bytes() == before

    code, _, err = run("refresh", str(path), "--overwrite-read-only", "--quiet")
    assert code == 0, err
    assert len(demo_env.requests) > 0
    assert not path.stat().st_mode & stat.S_IWUSR, "it stays read-only"


# --- output paths, checked before any request --------------------------------------------------


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("missing/events.xlsx", "does not exist"),
        ("a-folder.xlsx", "is a folder"),
        ("a-folder.xlsx/events.xlsx.bak", "must end in .xlsx or .csv"),
        ("missing/events.csv", "does not exist"),
    ],
)
def test_events_out_is_checked_before_any_request(demo_env, tmp_path, out, words) -> None:
    (tmp_path / "a-folder.xlsx").mkdir()
    code, _, err = run("events", "example", "all", "--out", str(tmp_path / out))
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert len(demo_env.requests) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder.xlsx"]


def test_demo_and_addin_out_are_checked_first(tmp_path) -> None:
    for argv in (
        ("demo", "--out", str(tmp_path / "missing" / "events.xlsx")),
        ("demo", "--out", str(tmp_path)),
        ("addin", "build", "--out", str(tmp_path / "missing" / "sheepcrm.xlam")),
        ("addin", "build", "--out", str(tmp_path / "sheepcrm.zip")),
    ):
        code, _, err = run(*argv)
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert list(tmp_path.iterdir()) == []


def test_templates_out_is_checked_before_any_request(demo_env, tmp_path) -> None:
    not_a_folder = tmp_path / "reports"
    not_a_folder.write_text("a file")
    code, _, err = run("templates", "build", "--bucket", "example", "--out", str(not_a_folder))
    assert code == 2 and err.count("\n") == 1 and "is a file, not a folder" in err, err
    assert len(demo_env.requests) == 0


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root may write in any folder"
)
def test_a_folder_without_write_permission_is_refused_first(demo_env, tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        code, _, err = run("events", "example", "all", "--out", str(locked / "e.xlsx"))
        assert code == 2 and "no permission" in err, err
        assert len(demo_env.requests) == 0
    finally:
        locked.chmod(stat.S_IRWXU)
