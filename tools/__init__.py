"""Developer tools for sheep_xl: a LibreOffice headless harness for tests and scripts.

``tools.libreoffice`` is the API (pure stdlib, runs in the project's virtualenv);
``tools/uno_worker.py`` is the script it runs with a Python that can ``import uno``;
``tools.render_sheets`` renders every sheet of workbooks to PNG files.
``tools.schemathesis_demo`` runs schemathesis (installed by hand, never a dependency) over the
demo server against the official spec and sorts what it finds into demo bugs and spec quirks.
"""
