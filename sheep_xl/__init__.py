"""sheep-xl: sheepCRM event data in Excel.

Layers, each using only the one below it:

* ``sheep_xl.api``      HTTP client for the sheepCRM events API (paging, retries, typed errors)
* ``sheep_xl.frames``   field catalogue and typed pandas DataFrames
* ``sheep_xl.tables``   table plans: what an Excel table must hold, independent of the writer
* ``sheep_xl.writers``  apply a plan: new files, in-place refresh (headless) or live Excel (xlwings)
* ``sheep_xl.operations``, ``sheep_xl.reports``  what the entry points do: export, refresh a file
  or an open workbook, build report workbooks; each query's data from sheepCRM or the demo
* entry points          ``sheep_xl.cli``, ``sheep_xl.excel`` (worksheet functions, ribbon macros)

Beside them: ``sheep_xl.addin`` (the .xlam built from text and its installer), ``sheep_xl.demo``
(the demo server), and small shared homes: ``config``, ``credentials``, ``accounts``, ``epoch``,
``files``, ``exceptions``.
"""

from sheep_xl.exceptions import SheepError

__version__ = "0.1.0"

__all__ = ["SheepError", "__version__"]
