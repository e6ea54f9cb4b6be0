"""sheep-xl: sheepCRM event data in Excel.

Layers, each using only the one below it:

* ``sheep_xl.api``      HTTP client for the sheepCRM events API (paging, retries, typed errors)
* ``sheep_xl.frames``   field catalogue and typed pandas DataFrames
* ``sheep_xl.tables``   table plans: what an Excel table must hold, independent of the writer
* ``sheep_xl.writers``  apply a plan: headless (openpyxl) or live Excel (xlwings)
* entry points          ``sheep_xl.cli``, ``sheep_xl.excel`` (worksheet functions, ribbon macros)
"""

from sheep_xl.exceptions import SheepError

__version__ = "0.1.0"

__all__ = ["SheepError", "__version__"]
