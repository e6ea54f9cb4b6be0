"""Headless workbook operations behind the CLI: export events, refresh stored queries."""
