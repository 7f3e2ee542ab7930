"""Values that cross boundaries: the unit, its certificate, declarations, dossiers.

Vietnamese wire terms, once: ``MaSoBHXH`` unit code at VSS, ``MaSoThue`` tax code,
``CoQuanQuanLy`` managing agency code (5 digits), ``KyKeKhai`` declaration period MM/yyyy,
``MaThuTuc`` procedure code, ``MaToKhai`` form code, ``NguoiKy`` signer, ``MaIVAN`` /
``TenIVAN`` the carrier (see ``bhxh.catalogue``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

__all__ = [
    "Attachment",
    "CertificateInfo",
    "Declaration",
    "Dossier",
    "UnitInfo",
]


@dataclass(frozen=True)
class UnitInfo:
    """An employer as VSS knows it.

    Example:
        >>> UnitInfo(code="TZ1234A", tax_code="0101234567", name="Công ty ACME",
        ...          agency_code="07906", signer="Nguyễn Văn A", phone="0901234567")
        UnitInfo(code='TZ1234A', ...)
    """

    code: str  # MaSoBHXH
    tax_code: str  # MaSoThue, 10 digits or 10-3 for a branch
    name: str
    agency_code: str  # CoQuanQuanLy
    signer: str = ""  # NguoiKy
    phone: str = ""
    address: str = ""
    email: str = ""
    ivan_code: str = "00110"  # MaIVAN: the I-VAN that carries the unit's dossiers (MISA)
    ivan_name: str = "Công ty Cổ phần MISA"  # TenIVAN


@dataclass(frozen=True)
class CertificateInfo:
    """What registration forms record of a certificate: SERIAL, SUBJECT, BEGIN, END."""

    serial: str  # hexadecimal, upper case, no separators
    subject: str  # RFC 4514 string
    not_before: dt.datetime
    not_after: dt.datetime
    der: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class Declaration:
    """One declaration file (tờ khai), e.g. ``D02-TS-595.xml`` with root ``<D02-TS>``."""

    form: str  # MaToKhai, e.g. "D02-TS"
    filename: str
    content: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Attachment:
    """An attachment (chứng từ kèm theo, form code ``CT-DK``), included as opaque bytes."""

    filename: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class Dossier:
    """One dossier of one unit for one period: a procedure and its files."""

    unit: UnitInfo
    period: str  # KyKeKhai, MM/yyyy
    procedure: str  # MaThuTuc
    name: str  # the inbox folder name, for people
    declarations: tuple[Declaration, ...] = ()
    attachments: tuple[Attachment, ...] = ()
