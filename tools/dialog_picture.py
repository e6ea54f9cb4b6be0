"""Take the README's picture of the Insert events dialog (docs/images/insert-dialog.png).

Runs the real dialog on a virtual screen (Xvfb), counting against the built-in demo server,
with a few columns ticked, then grabs the window with ``xwd`` and converts it with ImageMagick's
``convert``. Needs Xvfb, xwd (x11-apps) and ImageMagick: ``python -m tools.dialog_picture``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "insert-dialog.png"


def main(out: Path = OUT) -> Path:
    tools = {
        name: shutil.which(name, path="/usr/bin:/bin") or shutil.which(name)
        for name in ("Xvfb", "xwd", "convert")
    }
    for name, found in tools.items():
        if found is None:
            sys.exit(f"{name} is not installed")
    number = 77
    xvfb = subprocess.Popen([str(tools["Xvfb"]), f":{number}", "-screen", "0", "1024x900x24"])
    try:
        time.sleep(1)
        os.environ["DISPLAY"] = f":{number}"
        os.environ["SHEEP_XL_CONFIG"] = str(Path(tempfile.mkdtemp()) / "config.toml")
        from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
        from sheep_xl.excel import insert_dialog as dialog

        with DemoServer() as server:
            os.environ["SHEEP_API_URL"] = server.url
            os.environ["SHEEP_API_KEY"] = DEMO_API_KEY
            win = dialog.InsertDialog(
                dialog.Choice("example", "future", "pick", ("Title", "Start date", "Capacity")),
                dialog.Target("formula", "Summary", "B4"),
            )
            win.root.geometry("+20+20")
            win.search.set("date")
            deadline = time.monotonic() + 15
            while "match" not in win.count_text.get() and time.monotonic() < deadline:
                win.root.update()
                time.sleep(0.05)
            win.root.update()
            x, y = win.root.winfo_rootx(), win.root.winfo_rooty()
            w, h = win.root.winfo_width(), win.root.winfo_height()
            dump = subprocess.run(
                [str(tools["xwd"]), "-root", "-silent", "-display", f":{number}"],
                capture_output=True,
                check=True,
            ).stdout
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [str(tools["convert"]), "xwd:-", "-crop", f"{w}x{h}+{x}+{y}", "+repage", str(out)],
                input=dump,
                check=True,
            )
            win.cancel()
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    return out


if __name__ == "__main__":
    print(main())
