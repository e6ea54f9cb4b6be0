"""Table plans: what an Excel table must hold, independent of the writer that applies it."""

from sheep_xl.tables.plan import (
    DEFAULT_TABLE_NAME,
    DEFAULT_TABLE_STYLE,
    PlanColumn,
    TablePlan,
    plan_table,
    validate_table_name,
)

__all__ = [
    "DEFAULT_TABLE_NAME",
    "DEFAULT_TABLE_STYLE",
    "PlanColumn",
    "TablePlan",
    "plan_table",
    "validate_table_name",
]
