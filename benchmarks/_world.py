"""A benchmark world: units, the sandbox in its own process, blocks and a filled inbox.

A :class:`WorldSpec` is plain JSON, so the case process and the sandbox process build the
same :class:`demo.scenario.Scenario` from it (same keys, passwords, units, faults).
"""

from __future__ import annotations

import dataclasses
import secrets
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bhxh.hrdata import (
    build_d01ts,
    build_d02ts,
    build_tk1ts,
    read_workers_csv,
    write_demo_csv,
)
from bhxh.intake import write_dossier
from demo.scenario import CertSpec, DemoUnit, Scenario, many_units

__all__ = [
    "PERIOD",
    "PERIODS",
    "UnitSpec",
    "WorldSpec",
    "build_units",
    "fill_inbox",
    "prepare_world",
    "save_blocks",
    "scenario_of",
]

PERIOD = "01/2026"
#: One period per measured repetition: each run finds its own, fresh dossiers.
PERIODS = tuple(f"{month:02d}/2026" for month in range(1, 13))


@dataclass(frozen=True)
class UnitSpec:
    """A group of units of one kind.

    kind: ``plain`` (VSS has its remote certificate), ``token`` (VSS has a USB-token
    certificate: a 05 change is due) or ``unregistered`` (nothing on file: a 04 is due).
    """

    n: int
    prefix: str
    kind: str = "plain"
    dossiers: int = 1
    declarations: int = 2  # 2: D02-TS + TK1-TS; 3: and D01-TS
    workers: int = 5
    periods: int = 1  # dossiers in this many periods (01/2026, 02/2026, ...)


@dataclass(frozen=True)
class WorldSpec:
    """Everything both processes need to build the same world (test material only)."""

    data_dir: str
    pki_dir: str
    groups: tuple[UnitSpec, ...]
    approve_after: float = 0.0
    provider_slow: float = 0.0
    gateway_slow: float = 0.0
    client_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    gateway_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorldSpec:
        data = dict(data)
        data["groups"] = tuple(UnitSpec(**g) for g in data["groups"])
        return cls(**data)


def build_units(spec: WorldSpec) -> list[tuple[DemoUnit, UnitSpec]]:
    """The demo units of every group, with the group each belongs to."""
    out: list[tuple[DemoUnit, UnitSpec]] = []
    for group in spec.groups:
        # Codes depend on the prefix only, so a certificate name in the shared test PKI
        # always comes with the same tax code, whatever world it appears in.
        tag = zlib.crc32(group.prefix.encode()) % 1000
        units = many_units(group.n, prefix=group.prefix, approve_after=spec.approve_after)
        for i, unit in enumerate(units):
            info = dataclasses.replace(
                unit.unit, code=f"B{tag:03d}{i:04d}", tax_code=f"02{tag:03d}{i:05d}"
            )
            cert = CertSpec(unit.certificates[0].pki_name, info.tax_code, info.name,
                            unit.certificates[0].alias)  # fmt: skip
            registered: str | None = cert.pki_name
            if group.kind == "token":
                registered = f"{group.prefix}-{i}-token"
            elif group.kind == "unregistered":
                registered = None
            out.append(
                (
                    dataclasses.replace(
                        unit, unit=info, certificates=(cert,), registered_cert=registered
                    ),
                    group,
                )
            )
    codes = [u.unit.code for u, _ in out]
    if len(set(codes)) != len(codes):
        raise ValueError("two unit groups share a code: choose other prefixes")
    return out


def scenario_of(spec: WorldSpec) -> Scenario:
    """The scenario (sandbox config, blocks) of a spec."""
    units = [u for u, _ in build_units(spec)]
    provider: dict[str, Any] = {"signing_deadline_seconds": 600}
    if spec.provider_slow:
        provider["faults"] = {"slow_seconds": spec.provider_slow}
    gateway: dict[str, Any] = {"result_delay_seconds": 0}
    if spec.gateway_slow:
        gateway["faults"] = {"slow_seconds": spec.gateway_slow}
    return Scenario(
        units,
        data_dir=Path(spec.data_dir),
        pki_dir=Path(spec.pki_dir),
        client_key=spec.client_key,
        gateway_key=spec.gateway_key,
        passwords={u.username: spec.password for u in units},
        provider_overrides=provider,
        gateway_overrides=gateway,
    )


def fill_inbox(spec: WorldSpec) -> int:
    """Procedure-600 dossiers for every unit and period, 2 or 3 declarations each; returns
    how many."""
    from demo.scenario import _tk1_row

    inbox = Path(spec.data_dir) / "inbox"
    csv_dir = Path(spec.data_dir) / "csv"
    count = 0
    for ui, (u, group) in enumerate(build_units(spec)):
        for period in PERIODS[: group.periods]:
            for d in range(group.dossiers):
                csv = write_demo_csv(
                    csv_dir / f"{u.block}-{period[:2]}-{d + 1}.csv", group.workers,
                    seed=1000 * ui + d + 100_000 * int(period[:2]), period=period,
                )  # fmt: skip
                rows = read_workers_csv(csv)
                declarations = {"D02-TS-595.xml": build_d02ts(u.unit, period, rows)}
                tk1 = [_tk1_row(r) for r in rows[:2]]
                declarations["TK1-TS-595.xml"] = build_tk1ts(u.unit, period, tk1)
                if group.declarations >= 3:
                    d01 = [
                        {
                            "STT": n + 1,
                            "HoTen": r.HoTen,
                            "MasoBHXH": r.MasoBHXH,
                            "TenLoaiVanBan": "Hợp đồng lao động",
                            "NgayBanHanh": f"05/{period}",
                            "NgayHieuLuc": f"05/{period}",
                        }
                        for n, r in enumerate(rows[:3])
                    ]
                    declarations["D01-TS-595.xml"] = build_d01ts(u.unit, period, d01)
                write_dossier(
                    inbox, u.unit.code, period, f"{d + 1:02d}-bao-tang", "600", declarations,
                    name=f"Báo tăng lao động {period} ({d + 1})", tax_code=u.unit.tax_code,
                )  # fmt: skip
                count += 1
    return count


def prepare_world(spec: WorldSpec) -> list[dict[str, Any]]:
    """Issue every certificate, fill the inbox; returns the units as plain JSON rows.

    Run before the measured process starts, so that it needs neither the test PKI nor
    ``demo`` (which imports Prefect) to learn the units.
    """
    from sandbox.pki import TestPKI

    scenario = scenario_of(spec)
    scenario.issue_registered_certificates()
    pki = TestPKI.load_or_create(Path(spec.pki_dir))
    rows = []
    for u, group in build_units(spec):
        cert = u.certificates[0]
        issued = pki.issue(cert.pki_name, tax_code=cert.tax_code, unit_name=cert.unit_name)
        rows.append(
            {
                "block": u.block,
                "kind": group.kind,
                "group": group.prefix,
                "username": u.username,
                "dossiers": group.dossiers,
                "serial": issued.serial_hex.upper(),
                "unit": dataclasses.asdict(u.unit),
            }
        )
    fill_inbox(spec)
    return rows


async def save_blocks(
    spec: WorldSpec, rows: list[dict[str, Any]], misa_url: str, gateway_url: str
) -> None:
    """Gateway, credentials and unit blocks; ``plain`` units get their certificate chosen
    (what ``setup_remote_signing`` would have saved), others are left for setup."""
    from prefect import get_client
    from prefect.client.orchestration import PrefectClient
    from pydantic import SecretStr

    from blocks import BhxhGatewayCredentials, BhxhUnit, MisaESignCredentials
    from demo.scenario import CLIENT_ID, GATEWAY_BLOCK

    data = Path(spec.data_dir)

    async def one(row: dict[str, Any], client: PrefectClient) -> None:
        info = row["unit"]
        await MisaESignCredentials(
            base_url=misa_url,
            client_id=CLIENT_ID,
            client_key=SecretStr(spec.client_key),
            username=row["username"],
            password=SecretStr(spec.password),
        ).asave(f"{row['block']}-misa", overwrite=True, client=client)
        unit = BhxhUnit(
            unit_code=info["code"],
            tax_code=info["tax_code"],
            name=info["name"],
            agency_code=info["agency_code"],
            signer=info["signer"],
            phone=info["phone"],
            address=info["address"],
            email=info["email"],
            provider="misa",
            credentials_block=f"{row['block']}-misa",
            gateway_block=GATEWAY_BLOCK,
            inbox_dir=str(data / "inbox"),
            outbox_dir=str(data / "outbox"),
        )
        if row["kind"] == "plain":
            unit.certificate_serial = row["serial"]
            unit.registered_serial = row["serial"]
            unit.registration_state = "registered"
        await unit.asave(row["block"], overwrite=True, client=client)

    # One after the other: concurrent saves conflict in the SQLite-backed API (503, then
    # the client backs off 2, 4, 8... s). On one client rather than one per save
    # (Prefect's default): 0.57 s a save instead of 0.67 on a fresh temporary API, two
    # cores; each save also registers the block's type and schema again.
    async with get_client() as client:
        gateway = BhxhGatewayCredentials(base_url=gateway_url, api_key=SecretStr(spec.gateway_key))
        await gateway.asave(GATEWAY_BLOCK, overwrite=True, client=client)
        for row in rows:
            await one(row, client)
