"""Errors of the dossier domain: one base, leaves that also inherit the standard type
they resemble (``except ValueError`` still works), each naming what a person must fix.
"""

from __future__ import annotations

__all__ = [
    "AttachmentInvalid",
    "BhxhError",
    "DossierInvalid",
    "GatewayError",
    "SignatureInvalid",
    "StampFontMissing",
    "StoreError",
    "UnsafeXml",
]


class BhxhError(Exception):
    """Base of every error raised by ``bhxh``."""


class UnsafeXml(BhxhError, ValueError):
    """XML refused before it is used: DOCTYPE, entities, too large, too deep, malformed."""


class DossierInvalid(BhxhError, ValueError):
    """A dossier does not fit its procedure or its unit; the message names unit, dossier, field."""


class SignatureInvalid(BhxhError, ValueError):
    """A signature does not verify or does not follow the BHXH profile."""


class StoreError(BhxhError, OSError):
    """The dossier store cannot read or write a record."""


class GatewayError(BhxhError):
    """The submission gateway refused a request or could not be reached."""


class AttachmentInvalid(DossierInvalid):
    """An attachment (CT-DK) refused before any approval: not a PDF, truncated, encrypted,
    damaged, too large, locked by an earlier certification, or a type that is not accepted.

    ``code`` is a stable word for programs (``not_pdf``, ``truncated``, ``encrypted``,
    ``damaged``, ``too_large``, ``locked``, ``type_refused``, ``content_mismatch``); the
    message, in Vietnamese with English beside it, names the unit, dossier and file when they
    are known. A caller that learns them later enriches the error with :meth:`for_file`.

    Example:
        >>> err = AttachmentInvalid("encrypted", "tệp PDF có mật khẩu", "the PDF is encrypted")
        >>> str(err.for_file(unit="TA0001A", dossier="01-bao-tang", filename="hd.pdf"))
        'Đơn vị TA0001A, hồ sơ 01-bao-tang, tệp hd.pdf: tệp PDF có mật khẩu (the PDF is encrypted)'
    """

    def __init__(
        self,
        code: str,
        reason_vi: str,
        reason_en: str,
        *,
        unit: str = "",
        dossier: str = "",
        filename: str = "",
    ) -> None:
        self.code = code
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        self.unit = unit
        self.dossier = dossier
        self.filename = filename
        where = ", ".join(
            part
            for part in (
                f"Đơn vị {unit}" if unit else "",
                f"hồ sơ {dossier}" if dossier else "",
                f"tệp {filename}" if filename else "",
            )
            if part
        )
        text = f"{reason_vi} ({reason_en})"
        super().__init__(f"{where[:1].upper()}{where[1:]}: {text}" if where else text)

    def for_file(
        self, *, unit: str | None = None, dossier: str | None = None, filename: str | None = None
    ) -> AttachmentInvalid:
        """The same refusal, naming the unit, dossier and file (given values replace)."""
        return AttachmentInvalid(
            self.code,
            self.reason_vi,
            self.reason_en,
            unit=self.unit if unit is None else unit,
            dossier=self.dossier if dossier is None else dossier,
            filename=self.filename if filename is None else filename,
        )


class StampFontMissing(BhxhError, FileNotFoundError):
    """The font that draws the Vietnamese signature stamp is not installed."""
