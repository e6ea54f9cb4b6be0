"""The report definitions (one ``.toml`` file per report), shipped inside the package.

This folder is installed as ``sheep_xl.reports.definitions`` (see ``pyproject.toml``), so
``sheep-xl templates build`` finds the definitions from any folder, from a wheel and from the
installers' environments. Nothing here is code.
"""
