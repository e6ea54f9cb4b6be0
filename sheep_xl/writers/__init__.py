"""Writers apply table plans: ``xlsx_new`` and ``xlsx_refresh`` headless, ``live`` in Excel."""
