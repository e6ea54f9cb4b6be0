"""The add-in's names, each with one meaning.

xlwings' custom add-in module derives the add-in's settings from its ``PROJECT_NAME``: the settings
sheet inside the add-in and the user's settings file are both ``<PROJECT_NAME>.conf``, and on
Windows that file lives in ``%USERPROFILE%\\.<PROJECT_NAME>``. The add-in file is named after the
project too, so that the file, its settings and its folder read as one thing.
"""

from __future__ import annotations

from typing import Literal

#: xlwings' ``PROJECT_NAME`` in the add-in's VBA: the stem of the settings sheet and file names
#: and of the ``.sheepcrm`` folder on Windows (never a file name by itself)
ADDIN_PROJECT = "sheepcrm"
#: the add-in's file name, as built and as installed into Excel's startup folder
ADDIN_FILE = f"{ADDIN_PROJECT}.xlam"
#: the settings sheet inside the add-in and the user's settings file beside it (xlwings' rule)
CONFIG_NAME = f"{ADDIN_PROJECT}.conf"
#: the Python module whose worksheet functions the add-in wraps (the settings' ``UDF MODULES``)
UDF_MODULE = "sheep_xl.excel.udfs"

#: whose folder structure and settings-file conventions are used (Linux with a target: Windows')
Layout = Literal["win32", "darwin"]
