"""What enters the pipeline: the inbox of a unit's period and the checks of a dossier.

Safe XML reading, NFC text, legacy-encoding detection, the forms a procedure allows,
unit codes that match. Imports the base layer and the catalogue.
"""

from __future__ import annotations

from bhxh.intake.inbox import (
    MANIFEST,
    MAX_ATTACHMENT_BYTES,
    MAX_MANIFEST_BYTES,
    load_dossiers,
    normalize_declaration,
    period_folder,
    write_dossier,
)
from bhxh.intake.validation import (
    D02_LIMITS,
    REQUIRED,
    DossierProblems,
    check_period_not_future,
    field_problem,
    validate_declaration,
    validate_dossier,
    validate_period,
)

__all__ = [
    "D02_LIMITS",
    "MANIFEST",
    "MAX_ATTACHMENT_BYTES",
    "MAX_MANIFEST_BYTES",
    "REQUIRED",
    "DossierProblems",
    "check_period_not_future",
    "field_problem",
    "load_dossiers",
    "normalize_declaration",
    "period_folder",
    "validate_declaration",
    "validate_dossier",
    "validate_period",
    "write_dossier",
]
