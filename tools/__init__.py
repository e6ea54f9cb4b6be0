"""Developer tools for sheep_xl: a LibreOffice headless harness for tests and scripts.

``tools.libreoffice`` is the API (pure stdlib, runs in the project's virtualenv);
``tools/uno_worker.py`` is the script it runs with a Python that can ``import uno``;
``tools.render_sheets`` renders every sheet of workbooks to PNG files.
"""
