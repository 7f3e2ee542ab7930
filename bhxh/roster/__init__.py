"""The firm's companies (its roster): the checks of a company's codes, its block name, and
a workbook or CSV of companies read row by row (``bhxh.roster.companies``).

Imports the base layer, the catalogue and the HR table reader (``bhxh.hrdata.read_table``,
the one reader of accountants' workbooks). No Prefect: saving the blocks is the flows'.
"""

from __future__ import annotations

from bhxh.roster.companies import (
    COLUMNS,
    SECRET_COLUMNS,
    CompanyEntry,
    CompanyInvalid,
    RosterRead,
    check_agency_code,
    check_tax_code,
    check_unit_code,
    read_roster,
    unit_slug,
)

__all__ = [
    "COLUMNS",
    "SECRET_COLUMNS",
    "CompanyEntry",
    "CompanyInvalid",
    "RosterRead",
    "check_agency_code",
    "check_tax_code",
    "check_unit_code",
    "read_roster",
    "unit_slug",
]
