"""The month view of a period: every unit's dossiers, next actions and warnings, its
contributions (due, paid, difference, deadline: ``contributions``), the reports a person
keeps, and the registration state read from the journal.
"""

from __future__ import annotations

from bhxh.overview.contributions import (
    RECONCILIATION_FILE,
    ContributionStatus,
    ExplainedLine,
    declared_workers,
    read_contribution_status,
    reconcile_notice,
    reconciliation_path,
    vnd,
    write_contribution_status,
)
from bhxh.overview.month import (
    Overview,
    UnitRow,
    build_overview,
)
from bhxh.overview.registration import (
    STATES,
    local_registration,
)
from bhxh.overview.reports import (
    CONTRIBUTION_COLUMNS,
    DOSSIER_COLUMNS,
    WARNING_COLUMNS,
    ReportFiles,
    WarningLedger,
    neutralise,
    report_name,
    write_reports,
)
from bhxh.overview.rows import (
    ACTION_LABELS,
    STATUS_LABELS,
    WARNING_KINDS,
    DossierRow,
    Limits,
    UnitFacts,
    UnitState,
    dossier_row,
    dossier_status,
    read_unit_state,
)
from bhxh.overview.warnings import (
    OverviewWarning,
)

__all__ = [
    "ACTION_LABELS",
    "CONTRIBUTION_COLUMNS",
    "DOSSIER_COLUMNS",
    "RECONCILIATION_FILE",
    "STATES",
    "STATUS_LABELS",
    "WARNING_COLUMNS",
    "WARNING_KINDS",
    "ContributionStatus",
    "DossierRow",
    "ExplainedLine",
    "Limits",
    "Overview",
    "OverviewWarning",
    "ReportFiles",
    "UnitFacts",
    "UnitRow",
    "UnitState",
    "WarningLedger",
    "build_overview",
    "declared_workers",
    "dossier_row",
    "dossier_status",
    "local_registration",
    "neutralise",
    "read_contribution_status",
    "read_unit_state",
    "reconcile_notice",
    "reconciliation_path",
    "report_name",
    "vnd",
    "write_contribution_status",
    "write_reports",
]
