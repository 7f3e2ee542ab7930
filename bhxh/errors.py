"""Errors of the dossier domain: one base, leaves that also inherit the standard type
they resemble (``except ValueError`` still works), each naming what a person must fix.

The whole tree (the standard type each also is in brackets; where it is defined on the
right). The leaves live beside the code that raises them; the branches live here, so a
caller can catch a kind without importing a package::

    BhxhError (Exception)                                   bhxh.errors
        CompanyInvalid (ValueError)                         bhxh.roster.companies
        DossierInvalid (ValueError)                         bhxh.errors
            AttachmentInvalid                               bhxh.errors
            DossierProblems                                 bhxh.intake.validation
            InputRefused                                    bhxh.errors
                C12NoticeInvalid                            bhxh.contributions.notice
                HeaderNotFound                              bhxh.hrdata.table
                SheetNotFound                               bhxh.hrdata.table
        OutboxConflict (FileExistsError)                    bhxh.pipeline.outbox
        SignatureInvalid (ValueError)                       bhxh.errors
        StampFontMissing (FileNotFoundError)                bhxh.errors
        StoreError (OSError)                                bhxh.errors
        SubmissionError                                     bhxh.errors
            DossierNotFound (LookupError)                   bhxh.submission.port
            ExportConflict (FileExistsError)                bhxh.submission.export
            GatewayError                                    bhxh.errors
                GatewayAuthFailed (PermissionError)         bhxh.submission.gateway
                GatewayProtocolError (ValueError)           bhxh.submission.gateway
                GatewayUnavailable (ConnectionError)        bhxh.submission.gateway
                IdempotencyConflict (ValueError)            bhxh.submission.gateway
            ReceiptsFileInvalid (ValueError)                bhxh.submission.export
            RegistrationUnavailable (NotImplementedError)   bhxh.submission.port
            SubmissionRefused (ValueError)                  bhxh.submission.port
            UnknownOutcome (ConnectionError)                bhxh.submission.port
        UnsafeXml (ValueError)                              bhxh.errors

``tests/bhxh/base/test_error_tree.py`` keeps this drawing true.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AttachmentInvalid",
    "BhxhError",
    "DossierInvalid",
    "GatewayError",
    "InputLocation",
    "InputRefused",
    "SignatureInvalid",
    "StampFontMissing",
    "StoreError",
    "SubmissionError",
    "UnsafeXml",
]


class BhxhError(Exception):
    """Base of every error raised by ``bhxh``."""


class UnsafeXml(BhxhError, ValueError):
    """XML refused before it is used: DOCTYPE, entities, too large, too deep, malformed, or
    an element inside a field that must be plain text."""


class DossierInvalid(BhxhError, ValueError):
    """A dossier does not fit its procedure or its unit; the message names unit, dossier, field."""


class SignatureInvalid(BhxhError, ValueError):
    """A signature does not verify or does not follow the BHXH profile."""


class StoreError(BhxhError, OSError):
    """The dossier store cannot read or write a record."""


class SubmissionError(BhxhError):
    """A carrier refused a dossier or could not be reached (the submission port's errors)."""


class GatewayError(SubmissionError):
    """The submission gateway (the reference carrier) refused a request or could not be
    reached."""


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


@dataclass(frozen=True)
class InputLocation:
    """Where a value came from in an HR file: what a refusal names so a person finds it.

    ``column`` is the column letter as a spreadsheet shows it (``J``; CSV columns are
    lettered the same way), ``header`` the column's header as written in the file. A value
    of a declaration in the inbox is named by ``dossier``, ``file``, ``record`` (the row
    element and its STT: ``LaoDong 3 (STT 3)``) and ``element`` (``HoTen``).
    """

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    header: str | None = None
    unit: str | None = None
    dossier: str | None = None
    record: str | None = None
    element: str | None = None

    def describe(self, lang: str = "vi") -> str:
        """``Đơn vị TZ1234A, tệp a.xlsx, trang tính 'Dữ Liệu', dòng 7, cột J (Tiền lương)``."""
        vi = lang == "vi"
        parts: list[str] = []
        if self.unit:
            parts.append(f"{'Đơn vị' if vi else 'unit'} {self.unit}")
        if self.dossier:
            parts.append(f"{'hồ sơ' if vi else 'dossier'} {self.dossier}")
        if self.file:
            parts.append(f"{'tệp' if vi else 'file'} {self.file}")
        if self.sheet:
            parts.append(f"{'trang tính' if vi else 'sheet'} {self.sheet!r}")
        if self.row is not None:
            parts.append(f"{'dòng' if vi else 'row'} {self.row}")
        if self.column:
            col = f"{'cột' if vi else 'column'} {self.column}"
            parts.append(col + (f" ({self.header})" if self.header else ""))
        elif self.header:
            parts.append(f"{'cột' if vi else 'column'} {self.header}")
        if self.record:
            parts.append(self.record)
        if self.element:
            parts.append(f"{'phần tử' if vi else 'element'} {self.element}")
        return ", ".join(parts)


class InputRefused(DossierInvalid):
    """An HR file (workbook or CSV) or one of its values is refused before anything is built.

    The message names the unit (when known), file, sheet, row and column, what was read
    and what is expected, in Vietnamese with the English beside it::

        Đơn vị TZ1234A, tệp luong.xlsx, trang tính 'Dữ Liệu', dòng 7, cột J (Tiền lương):
        số tiền có phần lẻ; đọc được '9.000,5'; cần số nguyên VND, ví dụ 9000000 —
        unit TZ1234A, file luong.xlsx, sheet 'Dữ Liệu', row 7, column J (Tiền lương): an
        amount with decimals; read '9.000,5'; expected a whole number of VND, e.g. 9000000
    """

    def __init__(
        self,
        reason_vi: str,
        reason_en: str,
        *,
        where: InputLocation | None = None,
        read: object = None,
        expected_vi: str = "",
        expected_en: str = "",
        details: Sequence[str] = (),
    ) -> None:
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        self.where = where or InputLocation()
        self.read = read
        self.expected_vi = expected_vi
        self.expected_en = expected_en
        self.details: tuple[str, ...] = tuple(details)
        super().__init__(self._message())

    @classmethod
    def pair(
        cls,
        where: InputLocation | None,
        reason: tuple[str, str],
        read: object,
        expected: tuple[str, str],
    ) -> InputRefused:
        """The refusal from (Vietnamese, English) pairs: the reason and what is expected."""
        return cls(
            reason[0],
            reason[1],
            where=where,
            read=read,
            expected_vi=expected[0],
            expected_en=expected[1],
        )

    def _half(self, lang: str) -> str:
        vi = lang == "vi"
        parts = [self.reason_vi if vi else self.reason_en]
        if self.read is not None:
            parts.append(f"{'đọc được' if vi else 'read'} {self.read!r}")
        expected = self.expected_vi if vi else self.expected_en
        if expected:
            parts.append(f"{'cần' if vi else 'expected'} {expected}")
        where = self.where.describe(lang)
        return (f"{where}: " if where else "") + "; ".join(parts)

    def summary(self, lang: str = "vi") -> str:
        """The refusal in one language, without its details: where, why, what was read."""
        return self._half(lang)

    def _message(self) -> str:
        text = f"{self._half('vi')} — {self._half('en')}"
        if self.details:
            text += "\n" + "\n".join(f"  - {d}" for d in self.details)
        return text

    def with_unit(self, unit: str | None) -> InputRefused:
        """The same refusal naming ``unit`` (readers often do not know it; callers do)."""
        if not unit or self.where.unit:
            return self
        return type(self)(
            self.reason_vi,
            self.reason_en,
            where=dataclasses.replace(self.where, unit=unit),
            read=self.read,
            expected_vi=self.expected_vi,
            expected_en=self.expected_en,
            details=self.details,
        )
