"""Build a report workbook the way a person would: a sheep-xl table plus formulas, a chart,
conditional formatting, data validation, a defined name, a calculated column and a user sheet."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import TableColumn, TableFormula

SUMMARY_FORMULAS = {
    "B1": '=COUNTIFS(Events[Event type],"Conference")',
    "B2": "=SUM(Events[Capacity])",
    "B3": "=COUNTA(Events[UID])",  # (LibreOffice counts the header in ROWS(Events))
    "B4": "=COUNTIFS(Events[Cancelled],TRUE)",
    "B5": "=SUM(Capacities)",
    "B6": "=SUM(Events[% full])",
}


def make_report(path: Path) -> None:
    """Add the report builder's work to a workbook written by ``sheep-xl events``."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    table = ws.tables["Events"]
    first, last = table.ref.split(":")
    last_row = int("".join(ch for ch in last if ch.isdigit()))
    headers = [c.value for c in ws[1]]
    capacity = openpyxl.utils.get_column_letter(headers.index("Capacity") + 1)
    sold = openpyxl.utils.get_column_letter(headers.index("Tickets sold") + 1)
    title = openpyxl.utils.get_column_letter(headers.index("Title") + 1)
    status = openpyxl.utils.get_column_letter(headers.index("Status") + 1)

    # a calculated column, as Excel stores one
    calc_col = len(headers) + 1
    letter = openpyxl.utils.get_column_letter(calc_col)
    ws.cell(1, calc_col, "% full")
    formula = "IFERROR(Events[[#This Row],[Tickets sold]]/Events[[#This Row],[Capacity]],0)"
    for row in range(2, last_row + 1):
        ws.cell(row, calc_col, "=" + formula).number_format = "0%"
    table.ref = f"{first}:{letter}{last_row}"
    table.autoFilter.ref = table.ref
    table.tableColumns.append(
        TableColumn(
            id=calc_col, name="% full", calculatedColumnFormula=TableFormula(attr_text=formula)
        )
    )

    summary = wb.create_sheet("Summary")
    for cell, text in SUMMARY_FORMULAS.items():
        summary[cell] = text
        summary["A" + cell[1:]] = f"formula {cell}"

    chart = BarChart()
    chart.title = "Capacity by event"
    data = Reference(ws, min_col=headers.index("Capacity") + 1, min_row=1, max_row=last_row)
    cats = Reference(ws, min_col=headers.index("Title") + 1, min_row=2, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    summary.add_chart(chart, "D2")

    red = PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid")
    ws.conditional_formatting.add(
        f"{capacity}2:{capacity}{last_row}",
        CellIsRule(operator="greaterThan", formula=["100"], fill=red),
    )
    dv = DataValidation(type="list", formula1='"Published,Draft,Cancelled"', allow_blank=True)
    dv.add(f"{status}2:{status}{last_row}")
    ws.add_data_validation(dv)
    wb.defined_names["Capacities"] = DefinedName(
        "Capacities", attr_text=f"Events!${capacity}$2:${capacity}${last_row}"
    )
    wb.defined_names["SoldColumn"] = DefinedName(
        "SoldColumn", attr_text=f"Events!${sold}$2:${sold}${last_row}"
    )
    wb.defined_names["FirstTitle"] = DefinedName("FirstTitle", attr_text=f"Events!${title}$2")
    notes = wb.create_sheet("Notes")
    notes["A1"] = "My own notes: this sheet must survive every refresh."
    notes["A2"] = "=Summary!B1*2"
    wb.save(path)
