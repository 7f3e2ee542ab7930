"""Builders for gateway tests: declarations, envelopes and 04/05/06 forms, signed by a
test certificate the way a remote signer would (prepare -> sign the digest -> apply)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from bhxh.documents import build_envelope, build_registration_form, certificate_info
from bhxh.hrdata import WorkerRow, build_d02ts, build_declaration
from bhxh.models import Attachment, Declaration, Dossier, UnitInfo
from bhxh.signing import apply_signature, prepare_signature
from bhxh.submission import GatewayClient
from sandbox.audit import AuditLog
from sandbox.gateway import GatewayCore, UnitConfig
from sandbox.pki import IssuedCertificate, sign_digest

UNIT = UnitInfo(
    code="TZ9001A",
    tax_code="0109000001",
    name="Công ty TNHH Thử Nghiệm Cổng",
    agency_code="07906",
    signer="Nguyễn Văn An",
    phone="0901234567",
    address="1 Phố Huế, Hà Nội",
    email="ketoan@example.invalid",
)
PERIOD = "01/2026"
VN = dt.timezone(dt.timedelta(hours=7))

Mutate = Callable[[etree._Element], None]
Edit = Callable[[bytes], bytes]

#: One valid row per form besides D02-TS (invented people).
OTHER_ROWS: dict[str, dict[str, object]] = {
    "TK1-TS": {"HoTen": "Lê Văn Cường", "NgaySinh": "02/03/1991", "GioiTinh": "1"},
    "D05-TS": {"HoTen": "Lê Văn Cường", "PA": "TM"},
    "D01-TS": {"HoTen": "Lê Văn Cường", "NgayBanHanh": "05/01/2026", "NgayHieuLuc": "05/01/2026"},
}


def sign(xml: bytes, cert: IssuedCertificate, *, signing_time: dt.datetime | None = None) -> bytes:
    prepared = prepare_signature(xml, cert.der, signing_time=signing_time)
    value = sign_digest(cert.private_key, prepared.digest)
    return apply_signature(prepared.xml, value, cert.der)


def _mutated(xml: bytes, mutate: Mutate | None) -> bytes:
    if mutate is None:
        return xml
    root = etree.fromstring(xml)
    mutate(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")


def declaration(
    cert: IssuedCertificate,
    form: str = "D02-TS",
    *,
    unit: UnitInfo = UNIT,
    period: str = PERIOD,
    signing_time: dt.datetime | None = None,
    mutate: Mutate | None = None,
    edit: Edit | None = None,
) -> Declaration:
    """A signed declaration; ``mutate`` changes the tree, ``edit`` the bytes, before signing."""
    if form == "D02-TS":
        xml = build_d02ts(
            unit,
            period,
            [WorkerRow(HoTen="Trần Thị Bình", ChucVu="Kế toán", TienLuong=8_000_000, PA="TM")],
        )
    else:
        xml = build_declaration(form, unit, period, [OTHER_ROWS[form]])
    filename = f"{form}-595.xml"
    xml = _mutated(xml, mutate)
    return Declaration(
        form, filename, sign(edit(xml) if edit else xml, cert, signing_time=signing_time)
    )


def envelope(
    cert: IssuedCertificate,
    declarations: list[Declaration] | None = None,
    *,
    procedure: str = "600",
    unit: UnitInfo = UNIT,
    period: str = PERIOD,
    attachments: tuple[Attachment, ...] = (),
    signing_time: dt.datetime | None = None,
    mutate: Mutate | None = None,
    edit: Edit | None = None,
) -> bytes:
    """A signed BHXHDienTu.xml; by default one D02-TS signed by the same certificate.
    ``mutate`` changes the tree, ``edit`` the bytes, before signing."""
    decls = declarations if declarations is not None else [declaration(cert, unit=unit)]
    dossier = Dossier(unit=unit, period=period, procedure=procedure, name="test")
    xml = _mutated(
        build_envelope(dossier, decls, attachments, procedure_name="Thủ tục thử"), mutate
    )
    return sign(edit(xml) if edit else xml, cert, signing_time=signing_time)


def registration(
    kind: str,
    cert: IssuedCertificate,
    *,
    named: IssuedCertificate | None = None,
    unit: UnitInfo = UNIT,
    mutate: Mutate | None = None,
    edit: Edit | None = None,
) -> bytes:
    """A signed 04/05/06 form naming ``named`` (default: the signing certificate);
    ``mutate`` changes the tree, ``edit`` the bytes, before signing."""
    info = certificate_info((named or cert).der)
    xml = build_registration_form(
        kind,  # type: ignore[arg-type]
        unit,
        info,
        place="Hà Nội",
        stop_date=dt.date(2026, 3, 1) if kind == "06" else None,
        reason="Chuyển I-VAN" if kind == "06" else "",
    )
    xml = _mutated(xml, mutate)
    return sign(edit(xml) if edit else xml, cert)


def set_text(path: str, value: str) -> Mutate:
    def mutate(root: etree._Element) -> None:
        el = root.find(path)
        assert el is not None, path
        el.text = value

    return mutate


def remove(path: str) -> Mutate:
    def mutate(root: etree._Element) -> None:
        el = root.find(path)
        assert el is not None, path
        parent = el.getparent()
        assert parent is not None
        parent.remove(el)

    return mutate


API_KEY = "gw-test-key-0123456789"


@dataclass
class Certs:
    token: IssuedCertificate  # the unit's registered USB-token certificate
    remote: IssuedCertificate  # its new remote-signing certificate
    revoked: IssuedCertificate
    expired: IssuedCertificate
    other_mst: IssuedCertificate
    vnpt: IssuedCertificate
    rogue: IssuedCertificate  # same names, issued by another (untrusted) PKI


class Clock:
    """A clock the test moves by hand (no sleeping, no timing assertions)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class Gateway:
    url: str
    core: GatewayCore
    audit: AuditLog
    client: GatewayClient
    clock: Clock
    extra: list[Any] = field(default_factory=list)

    def events(self, event: str, **match: Any) -> list[dict[str, Any]]:
        return [
            r
            for r in self.audit.read()
            if r["service"] == "gateway"
            and r["event"] == event
            and all(r.get(k) == v for k, v in match.items())
        ]

    def submitted(self, dossier_id: str) -> int:
        return len(self.events("submitted", dossier_id=dossier_id))


def registered_unit(cert: IssuedCertificate) -> UnitConfig:
    return UnitConfig(
        unit_code=UNIT.code,
        tax_code=UNIT.tax_code,
        name=UNIT.name,
        agency_code=UNIT.agency_code,
        certificate=cert.name,
    )
