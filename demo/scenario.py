"""A reproducible scenario: units, their sandbox accounts, blocks and inbox dossiers.

Used by ``make demo``, by the flow tests and by the benchmarks, so that all three run the
same thing. Everything is invented test material (test PKI, throwaway passwords).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

from bhxh.hrdata import (
    TK1Row,
    WorkerRow,
    build_d02ts,
    build_tk1ts,
    read_rows,
    read_workers_csv,
    write_demo_csv,
    write_demo_workbook,
)
from bhxh.intake import write_dossier
from bhxh.models import UnitInfo
from blocks import (
    BhxhGatewayCredentials,
    BhxhUnit,
    CA2RemoteSigningCredentials,
    MisaESignCredentials,
    ViettelMySignCredentials,
    VnptSmartCACredentials,
)
from demo.attachments import labour_contract_pdf
from sandbox.config import SandboxConfig
from sandbox.provider import ProviderConfig

__all__ = [
    "CertSpec",
    "DemoUnit",
    "Scenario",
    "demo_units",
    "export_demo_unit",
    "many_units",
    "tour_unit",
]

CLIENT_ID = "prefect-bhxh-demo"
GATEWAY_BLOCK = "sandbox-gateway"
#: The RAS profile the sandbox's MySign issues to the demo's integrator client.
MYSIGN_PROFILE = "adss:ras:profile:001"


@dataclass(frozen=True)
class CertSpec:
    """A certificate the provider account holds (issued from the test PKI)."""

    pki_name: str
    tax_code: str
    unit_name: str
    alias: str
    ca: str = "misa"
    variant: str = "valid"
    key_status: str = "ACTIVE"


@dataclass(frozen=True)
class DemoUnit:
    """A unit, its signing account (MISA, or a VNPT SmartCA user id) and what VSS has on
    file for it."""

    block: str
    unit: UnitInfo
    username: str
    certificates: tuple[CertSpec, ...]
    registered_cert: str | None = None  # test-PKI name of the certificate VSS has on file
    two_factor: bool = False
    phone_action: str = "approve"
    approve_after: float = 1.0
    route: Literal["gateway", "export"] = "gateway"
    #: The signing provider; for ``"vnpt"`` the account name is the sp769 ``user_id``, for
    #: ``"mysign"`` the MySign ``user_id``, for ``"ca2"`` CA2's ``user_id``.
    provider: Literal["misa", "vnpt", "mysign", "ca2"] = "misa"

    @property
    def remote_cert(self) -> CertSpec:
        return next(
            c for c in self.certificates if c.tax_code == self.unit.tax_code
            and c.ca == self.provider and c.variant == "valid" and c.key_status == "ACTIVE"
        )  # fmt: skip

    @property
    def credentials_block(self) -> str:
        """The name of the unit's provider credentials block."""
        return f"{self.block}-{self.provider}"


def _tk1_row(worker: WorkerRow) -> TK1Row:
    """A TK1-TS row for a worker of the demo CSV: Hà Nội codes (province 01, commune 00004
    of district 001), the hospital 01/010, as the real files write codes."""
    return TK1Row(
        HoTen=worker.HoTen,
        NgaySinh=worker.NgaySinh or "01/01/1990",
        GioiTinh=worker.GioiTinh or "1",
        QuocTich="VN",
        DanToc="01",
        Matinh_KS="01",
        Mahuyen_KS="001",
        Maxa_KS="00004",
        Diachi_NN="Số 1 Phố Thử, Phường Thử Nghiệm, Hà Nội",
        Matinh_NN="01",
        Mahuyen_NN="001",
        Maxa_NN="00004",
        MasoBHXH=worker.MasoBHXH,
        Dienthoai_LH="0900000000",
        CMND=worker.CMND,
        MaTinhBenhVien="01",
        MaBenhVien="010",
        Noidung_Thaydoi="Tăng mới",
    )


def _unit(code: str, tax: str, name: str, agency: str = "07906") -> UnitInfo:
    return UnitInfo(
        code=code,
        tax_code=tax,
        name=name,
        agency_code=agency,
        signer="Nguyễn Thị Thu Hà",
        phone="0901234567",
        address="Số 1 Phố Thử, Cầu Giấy, Hà Nội",
        email="ketoan@example.vn",
    )


def demo_units() -> list[DemoUnit]:
    """The demo units of ``make demo`` (the export unit is ``export_demo_unit``).

    - ``an-phat``: registered at VSS with a USB-token certificate; must submit a 05 change.
    - ``binh-minh``: its account (an accounting firm's) holds several certificates; the
      right one is found by MST (others: another company, expired, inactive).
    - ``cuu-long``: already registered with its remote certificate: nothing to change.
    - ``hai-dang``: signs with Viettel MySign (its certificate from the Viettel-CA test CA),
      already registered with it: 2 approvals for its dossier.
    - ``hoa-binh``: signs with CA2 RemoteSigning (NACENCOMM), registered with it.
    """
    an_phat = _unit("TA0001A", "0101234567", "Công ty TNHH An Phát")
    binh_minh = _unit("TB0002B", "0309876543", "Công ty CP Bình Minh", agency="07901")
    cuu_long = _unit("TC0003C", "1801234567", "Công ty TNHH Cửu Long", agency="07906")
    hai_dang = _unit("TM0006M", "0201234567", "Công ty TNHH Hải Đăng", agency="07906")
    hoa_binh = _unit("TH0008H", "0201234568", "Công ty TNHH Hòa Bình", agency="07906")
    return [
        DemoUnit(
            block="an-phat",
            unit=an_phat,
            username="anphat.ketoan",
            certificates=(
                CertSpec("demo-anphat-remote", an_phat.tax_code, an_phat.name, "ANPHAT-RS"),
            ),
            registered_cert="demo-anphat-token",
        ),
        DemoUnit(
            block="binh-minh",
            unit=binh_minh,
            username="dichvu.ketoan",
            certificates=(
                CertSpec("demo-binhminh-remote", binh_minh.tax_code, binh_minh.name, "BM-2026"),
                CertSpec(
                    "demo-binhminh-old",
                    binh_minh.tax_code,
                    binh_minh.name,
                    "BM-2023",
                    variant="expired",
                ),
                CertSpec(
                    "demo-binhminh-paused",
                    binh_minh.tax_code,
                    binh_minh.name,
                    "BM-PAUSE",
                    key_status="INACTIVE",
                ),
                CertSpec(
                    "demo-other-client", "0312345678", "Công ty TNHH Khách Hàng Khác", "OTHER-2026"
                ),
            ),
            registered_cert="demo-binhminh-remote",
        ),
        DemoUnit(
            block="cuu-long",
            unit=cuu_long,
            username="cuulong.ketoan",
            certificates=(
                CertSpec("demo-cuulong-remote", cuu_long.tax_code, cuu_long.name, "CL-RS"),
            ),
            registered_cert="demo-cuulong-remote",
        ),
        DemoUnit(
            block="hai-dang",
            unit=hai_dang,
            username=f"MST_{hai_dang.tax_code}",
            certificates=(
                CertSpec(
                    "demo-haidang-mysign",
                    hai_dang.tax_code,
                    hai_dang.name,
                    f"{hai_dang.tax_code}_2482540_20260101000000",
                    ca="mysign",
                ),
            ),
            registered_cert="demo-haidang-mysign",
            provider="mysign",
        ),
        DemoUnit(
            block="hoa-binh",
            unit=hoa_binh,
            username=hoa_binh.tax_code,  # CA2's user_id: the unit's tax code
            certificates=(
                CertSpec("demo-hoabinh-ca2", hoa_binh.tax_code, hoa_binh.name, "HB-CA2", ca="ca2"),
            ),
            registered_cert="demo-hoabinh-ca2",
            provider="ca2",
        ),
    ]


def export_demo_unit() -> DemoUnit:
    """The demo's export unit: ``dong-a``, carried by Thái Sơn (I-VAN 00040), whose
    accountant submits through the I-VAN's own software (the export route); it signs with
    VNPT SmartCA, so that the demo covers the four providers."""
    dong_a = dataclasses.replace(
        _unit("TD0004D", "0401234567", "Công ty TNHH Đông Á", agency="07906"),
        ivan_code="00040",
        ivan_name="Công ty Cổ phần Thái Sơn",
    )
    return DemoUnit(
        block="dong-a",
        unit=dong_a,
        username=dong_a.tax_code,  # VNPT SmartCA's user_id: the unit's tax code
        certificates=(
            CertSpec("demo-donga-vnpt", dong_a.tax_code, dong_a.name, "DA-VNPT", ca="vnpt"),
        ),
        registered_cert="demo-donga-vnpt",
        route="export",
        provider="vnpt",
    )


def tour_unit() -> DemoUnit:
    """The unit of ``make server``'s tour: ``gia-phuc``, whose signing account holds two
    certificates that both fit its tax code (a renewal bought before the old one ended),
    and which VSS knows by a USB token: setup asks which certificate (the drop-down of the
    paused run), then submits a 05 change (one approval)."""
    gia_phuc = _unit("TE0005E", "0105556667", "Công ty TNHH Gia Phúc", agency="07906")
    return DemoUnit(
        block="gia-phuc",
        unit=gia_phuc,
        username="giaphuc.ketoan",
        certificates=(
            CertSpec("tour-giaphuc-2026", gia_phuc.tax_code, gia_phuc.name, "GP-2026"),
            CertSpec("tour-giaphuc-2027", gia_phuc.tax_code, gia_phuc.name, "GP-2027"),
        ),
        registered_cert="tour-giaphuc-token",
        phone_action="manual",
    )


def many_units(
    n: int,
    *,
    prefix: str = "u",
    approve_after: float = 1.0,
    provider: Literal["misa", "vnpt", "mysign", "ca2"] = "misa",
    start: int = 0,
) -> list[DemoUnit]:
    """``n`` plain units, each registered with its remote certificate (benchmarks, tests),
    signing with ``provider`` (a VNPT or CA2 unit's certificate comes from its test CA).
    ``start``: the first unit's number (units of two calls in one world must differ)."""
    units = []
    for i in range(start, start + n):
        tax = f"01{i:08d}"
        info = _unit(f"T{i:05d}X", tax, f"Công ty Thử Nghiệm {i}")
        cert = CertSpec(f"{prefix}-{i}-remote", tax, info.name, f"{prefix.upper()}{i}", ca=provider)
        units.append(
            DemoUnit(
                block=f"{prefix}-{i}",
                unit=info,
                username=f"{prefix}{i}.signer",
                certificates=(cert,),
                registered_cert=cert.pki_name,
                approve_after=approve_after,
                provider=provider,
            )
        )
    return units


@dataclass
class Scenario:
    """Sandbox configuration, blocks and inbox for a set of units under one data dir."""

    units: Sequence[DemoUnit]
    data_dir: Path
    pki_dir: Path | None = None
    client_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    gateway_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    passwords: dict[str, str] = field(default_factory=dict)
    two_factor_codes: dict[str, str] = field(default_factory=dict)
    provider_overrides: dict[str, Any] = field(default_factory=dict)
    gateway_overrides: dict[str, Any] = field(default_factory=dict)
    #: Transfers each unit made to VSS, by unit code ({soUnc, ngayNop, soTien}): the
    #: gateway's C12-TS notices show them (demo/contributions.py).
    payments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: The result webhook our MISA client registered (the receiver), or None: polling only.
    misa_webhook_url: str | None = None

    def __post_init__(self) -> None:
        for u in self.units:
            self.passwords.setdefault(u.username, secrets.token_urlsafe(12))
            if u.two_factor:
                self.two_factor_codes.setdefault(u.username, f"{secrets.randbelow(10**6):06d}")

    # ------------------------------------------------------------------ sandbox
    def sandbox_config(self) -> SandboxConfig:
        accounts = []
        policies = {}
        for u in self.units:
            accounts.append(
                {
                    "username": u.username,
                    "password": self.passwords[u.username],
                    "two_factor_code": self.two_factor_codes.get(u.username),
                    "provider": u.provider,
                    "certificates": [
                        {
                            "pki_name": c.pki_name,
                            "tax_code": c.tax_code,
                            "unit_name": c.unit_name,
                            "alias": c.alias,
                            "ca": c.ca,
                            "variant": c.variant,
                            "key_status": c.key_status,
                        }
                        for c in u.certificates
                    ],
                }
            )
            policies[u.username] = {"action": u.phone_action, "after_seconds": u.approve_after}
        provider: dict[str, Any] = {
            "clients": {
                "misa": [
                    {
                        "client_id": CLIENT_ID,
                        "client_key": self.client_key,
                        "webhook_url": self.misa_webhook_url,
                    }
                ],
                "vnpt": [{"sp_id": CLIENT_ID, "sp_password": self.client_key}],
                "mysign": [
                    {
                        "client_id": CLIENT_ID,
                        "client_secret": self.client_key,
                        "profile_id": MYSIGN_PROFILE,
                    }
                ],
                "ca2": [{"sp_id": CLIENT_ID, "sp_password": self.client_key}],
            },
            "accounts": accounts,
            "policies": policies,
            **self.provider_overrides,
        }
        gateway: dict[str, Any] = {
            "api_keys": [self.gateway_key],
            "units": [
                {
                    "unit_code": u.unit.code,
                    "tax_code": u.unit.tax_code,
                    "name": u.unit.name,
                    "agency_code": u.unit.agency_code,
                    "certificate": u.registered_cert,
                    "state": "registered",
                    "ivan_code": u.unit.ivan_code,
                    "payments": self.payments.get(u.unit.code, []),
                }
                for u in self.units
                if u.registered_cert
            ],
            **self.gateway_overrides,
        }
        return SandboxConfig(
            provider=ProviderConfig.model_validate(provider),
            gateway=gateway,
            pki_dir=self.pki_dir or self.data_dir / "pki",
            audit_path=self.data_dir / "sandbox" / "audit.jsonl",
        )

    def issue_registered_certificates(self) -> None:
        """Certificates VSS has on file but no provider account holds (USB tokens)."""
        from sandbox.pki import TestPKI

        pki = TestPKI.load_or_create(self.pki_dir or self.data_dir / "pki")
        for u in self.units:
            names = {c.pki_name for c in u.certificates}
            if u.registered_cert and u.registered_cert not in names:
                pki.issue(
                    u.registered_cert, tax_code=u.unit.tax_code, unit_name=u.unit.name, ca="token"
                )

    # ------------------------------------------------------------------ blocks
    async def save_blocks(self, misa_url: str, gateway_url: str) -> None:
        """Credentials, gateway and unit blocks in the current Prefect API.

        ``misa_url`` is the provider's base URL (the sandbox serves VNPT's sp769 under it,
        at ``sca/sp769``, Viettel MySign at ``vtss/service``, and CA2's wire at
        ``ca2/api/data``).
        """
        await BhxhGatewayCredentials(
            base_url=gateway_url, api_key=SecretStr(self.gateway_key)
        ).asave(GATEWAY_BLOCK, overwrite=True)
        from sandbox.pki import TestPKI

        pki = TestPKI.load_or_create(self.pki_dir or self.data_dir / "pki")
        for u in self.units:
            # An export route has no carrier that reads the registration: what VSS has on
            # file is recorded in the block, as an accountant would.
            recorded: dict[str, Any] = {}
            if u.route == "export" and u.registered_cert:
                serial = format(pki.get(u.registered_cert).certificate.serial_number, "X")
                recorded = {"registration_state": "registered", "registered_serial": serial}
            if u.provider == "ca2":
                await CA2RemoteSigningCredentials(
                    base_url=misa_url.rstrip("/") + "/ca2/api/data",
                    sp_id=CLIENT_ID,
                    sp_password=SecretStr(self.client_key),
                    user_id=u.username,
                ).asave(u.credentials_block, overwrite=True)
            elif u.provider == "vnpt":
                await VnptSmartCACredentials(
                    base_url=misa_url.rstrip("/") + "/sca/sp769",
                    sp_id=CLIENT_ID,
                    sp_password=SecretStr(self.client_key),
                    user_id=u.username,
                ).asave(u.credentials_block, overwrite=True)
            elif u.provider == "mysign":
                await ViettelMySignCredentials(
                    base_url=misa_url.rstrip("/"),
                    client_id=CLIENT_ID,
                    client_secret=SecretStr(self.client_key),
                    profile_id=MYSIGN_PROFILE,
                    user_id=u.username,
                ).asave(u.credentials_block, overwrite=True)
            else:
                await MisaESignCredentials(
                    base_url=misa_url,
                    client_id=CLIENT_ID,
                    client_key=SecretStr(self.client_key),
                    username=u.username,
                    password=SecretStr(self.passwords[u.username]),
                ).asave(u.credentials_block, overwrite=True)
            info = u.unit
            await BhxhUnit(
                unit_code=info.code,
                tax_code=info.tax_code,
                name=info.name,
                agency_code=info.agency_code,
                signer=info.signer,
                phone=info.phone,
                address=info.address,
                email=info.email,
                provider=u.provider,
                credentials_block=u.credentials_block,
                gateway_block=GATEWAY_BLOCK,
                route=u.route,
                ivan_code=info.ivan_code,
                ivan_name=info.ivan_name,
                inbox_dir=str(self.data_dir / "inbox"),
                outbox_dir=str(self.data_dir / "outbox"),
                **recorded,
            ).asave(u.block, overwrite=True)

    # ------------------------------------------------------------------ inbox
    def fill_inbox(
        self,
        period: str,
        *,
        dossiers: int = 1,
        workers: int = 5,
        with_tk1: bool = True,
        with_pdf: bool = False,
        workbooks: int = 1,
    ) -> list[Path]:
        """600 dossiers built from HR exports for every unit.

        The D02-TS and TK1-TS have the real files' shape (the catalogue's layouts): the
        D02-TS rows come from the HR export, the TK1-TS registers the first two workers
        with birth-place, address and hospital codes (invented people, real code formats).
        The first dossier of the first ``workbooks`` units comes from an Excel workbook
        (Vietnamese headers, a title row, number and date cells, some names in decomposed
        Unicode: :func:`~bhxh.hrdata.write_demo_workbook`, read by
        :func:`~bhxh.hrdata.read_rows`), the others from CSV; both give the same rows
        for the same seed. With ``with_pdf``, each dossier carries a labour contract as a
        PDF attachment (signed in round 1).
        """
        inbox = self.data_dir / "inbox"
        csv_dir = self.data_dir / "csv"
        folders = []
        for ui, u in enumerate(self.units):
            for d in range(dossiers):
                seed = 1000 * ui + d
                if ui < workbooks and d == 0:
                    hr_file = write_demo_workbook(
                        csv_dir / f"{u.block}-{d + 1}.xlsx",
                        workers,
                        seed=seed,
                        period=period,
                        title=f"DANH SÁCH LAO ĐỘNG — {u.unit.name.upper()}",
                    )
                    read = read_rows(hr_file, "D02-TS", unit=u.unit.code)
                    rows = [r for r in read.rows if isinstance(r, WorkerRow)]
                else:
                    csv = write_demo_csv(
                        csv_dir / f"{u.block}-{d + 1}.csv", workers, seed=seed, period=period
                    )
                    rows = read_workers_csv(csv)
                declarations = {"D02-TS-595.xml": build_d02ts(u.unit, period, rows)}
                if with_tk1:
                    tk1 = [_tk1_row(r) for r in rows[:2]]
                    declarations["TK1-TS-595.xml"] = build_tk1ts(u.unit, period, tk1)
                attachments = (
                    {
                        "hop-dong-lao-dong.pdf": labour_contract_pdf(
                            employer=u.unit.name,
                            employer_tax_code=u.unit.tax_code,
                            number=f"HĐLĐ-{period[-4:]}/{ui + 1:03d}{d + 1:02d}",
                        )
                    }
                    if with_pdf
                    else None
                )
                folders.append(
                    write_dossier(
                        inbox,
                        u.unit.code,
                        period,
                        f"{d + 1:02d}-bao-tang",
                        "600",
                        declarations,
                        attachments,
                        name=f"Báo tăng lao động {period} ({d + 1})",
                        tax_code=u.unit.tax_code,
                    )
                )
        return folders
