"""The documents built around signed declarations: the envelope (``envelope``) and the
04 / 05 / 06 registration forms (``registration_forms``).
"""

from __future__ import annotations

from bhxh.documents.envelope import (
    ATTACHMENT_FORM,
    ENVELOPE_FILENAME,
    EnvelopeFile,
    EnvelopeInfo,
    build_envelope,
    read_envelope,
)
from bhxh.documents.registration_forms import (
    FORM_CODES,
    FORM_NAMES,
    FormKind,
    build_registration_form,
    certificate_info,
)

__all__ = [
    "ATTACHMENT_FORM",
    "ENVELOPE_FILENAME",
    "FORM_CODES",
    "FORM_NAMES",
    "EnvelopeFile",
    "EnvelopeInfo",
    "FormKind",
    "build_envelope",
    "build_registration_form",
    "certificate_info",
    "read_envelope",
]
