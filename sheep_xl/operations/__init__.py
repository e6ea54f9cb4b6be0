"""Operations behind the entry points (CLI, ribbon, reports), one module each:

* ``export``    fetch events and write a new workbook (with its stored query) or CSV
* ``refresh``   refresh a workbook file's stored queries in place, headless, all or nothing
* ``in_excel``  refresh or insert stored queries in a workbook open in Excel (xlwings)
* ``sources``   where a query's data comes from: your sheepCRM or the built-in demo
"""
