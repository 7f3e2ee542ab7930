"""Where a dossier's files live in the store, and the journal's round steps: the one owner
of the folder layout (no other code builds a path inside a dossier)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from bhxh.pipeline.store import (
    Step,
    StoredFile,
)

__all__ = [
    "ENVELOPE_FILE",
    "ROUND_STEPS",
    "Layout",
    "Round",
]

Round = Literal[1, 2]

#: For each round: the (prepared, requested, signed) steps of the journal.
ROUND_STEPS: Mapping[int, tuple[Step, Step, Step]] = {
    1: (Step.PREPARED, Step.ROUND1_REQUESTED, Step.DECLARATIONS_SIGNED),
    2: (Step.ENVELOPE_PREPARED, Step.ROUND2_REQUESTED, Step.SIGNED),
}

ENVELOPE_FILE = "BHXHDienTu.xml"


class Layout:
    """Where each file of a dossier lives inside its store folder.

    ::

        source/<declaration>          the declarations as loaded (bytes never changed)
        attachments/<file>            the attachments as loaded
        prepared/r1/<declaration>     round 1 templates (empty SignatureValue)
        prepared/r1/<attachment>.pdf  round 1 PDFs with their reserved signature region
        signed/<declaration>          signed declarations (final bytes)
        signed/<attachment>.pdf       signed PDF attachments (final bytes)
        envelope/BHXHDienTu.xml       the envelope built from the signed declarations
        prepared/r2/<file>            round 2 template: the envelope or the 04/05/06 form
        final/<file>                  the signed envelope or form (final bytes, submitted)
    """

    @staticmethod
    def source(file: StoredFile) -> str:
        folder = "source" if file.kind == "declaration" else "attachments"
        return f"{folder}/{file.filename}"

    @staticmethod
    def prepared(round_no: int, filename: str) -> str:
        return f"prepared/r{round_no}/{filename}"

    @staticmethod
    def signed_declaration(filename: str) -> str:
        return f"signed/{filename}"

    @staticmethod
    def signed_attachment(filename: str) -> str:
        """A PDF attachment signed in round 1 (beside the signed declarations: the
        envelope refuses two files of one name, so they never collide)."""
        return f"signed/{filename}"

    ENVELOPE = f"envelope/{ENVELOPE_FILE}"

    @staticmethod
    def final(filename: str) -> str:
        return f"final/{filename}"
