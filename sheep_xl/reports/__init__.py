"""Report workbooks built from the text definitions in ``workbook_templates/``."""
