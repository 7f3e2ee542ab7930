"""Procedures, form layouts and I-VANs: data only.

A procedure is one row of data (``PROCEDURES``); a declaration form's fields one
``FormLayout``; the licensed carriers (I-VANs) that can put a dossier before VSS one
``Ivan`` each. Imports only the base layer.
"""

from __future__ import annotations

from bhxh.catalogue.ivans import (
    DEFAULT_IVAN,
    IVANS,
    Ivan,
    get_ivan,
)
from bhxh.catalogue.procedures import (
    ATTACHMENT_FORM,
    FORM_LAYOUTS,
    FORMS,
    PA_CODES,
    PROCEDURES,
    SIGNATURE_SLOT,
    FieldKind,
    FieldSpec,
    Form,
    FormLayout,
    Procedure,
    ProcedureKind,
    form_description,
    form_filename,
    form_layout,
    form_of_filename,
    get_procedure,
    row_field_names,
)

__all__ = [
    "ATTACHMENT_FORM",
    "DEFAULT_IVAN",
    "FORMS",
    "FORM_LAYOUTS",
    "IVANS",
    "PA_CODES",
    "PROCEDURES",
    "SIGNATURE_SLOT",
    "FieldKind",
    "FieldSpec",
    "Form",
    "FormLayout",
    "Ivan",
    "Procedure",
    "ProcedureKind",
    "form_description",
    "form_filename",
    "form_layout",
    "form_of_filename",
    "get_ivan",
    "get_procedure",
    "row_field_names",
]
