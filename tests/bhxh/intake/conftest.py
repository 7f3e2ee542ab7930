"""Fixtures for the dossier input side: a unit, a fixed 'today', builders of dossiers
(hand-written declarations live in input_support)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pytest

from bhxh.hrdata import WorkerRow, build_d02ts
from bhxh.models import Attachment, Declaration, Dossier, UnitInfo

PERIOD = "01/2026"
TODAY = dt.date(2026, 2, 10)
MakeDossier = Callable[..., Dossier]


@pytest.fixture
def unit() -> UnitInfo:
    return UnitInfo(
        code="TZ1234A",
        tax_code="0101234567",
        name="Công ty TNHH Thử Nghiệm",
        agency_code="07906",
        signer="Nguyễn Văn An",
        phone="0901234567",
    )


@pytest.fixture
def other_unit() -> UnitInfo:
    return UnitInfo(code="YB9999Z", tax_code="0309999999", name="Công ty Khác", agency_code="07901")


def _worker(**changes: object) -> WorkerRow:
    base: dict[str, object] = {
        "HoTen": "Trần Thị Bình",
        "ChucVu": "Nhân viên kế toán",
        "TienLuong": 9_000_000,
        "PA": "TM",
        "MasoBHXH": "0123456789",
        "CMND": "001190000001",
        "TuThang": PERIOD,
        "NgaySinh": "01/02/1990",
        "GioiTinh": "0",
        "MavungLTT": "1",
    }
    base.update(changes)
    return WorkerRow(**base)  # type: ignore[arg-type]


@pytest.fixture
def worker() -> Callable[..., WorkerRow]:
    """A valid D02-TS row; keyword arguments change fields."""
    return _worker


@pytest.fixture
def today() -> dt.date:
    """The fixed 'today' of these tests: 01/2026 is last month, 03/2026 is the future."""
    return TODAY


@pytest.fixture
def period() -> str:
    return PERIOD


@pytest.fixture
def make_dossier(unit: UnitInfo) -> MakeDossier:
    """Build a Dossier from (form, content) pairs; by default one valid D02-TS for 600."""

    def make(
        files: Sequence[tuple[str, bytes]] | None = None,
        *,
        procedure: str = "600",
        period: str = PERIOD,
        attachments: Sequence[tuple[str, bytes]] = (),
        for_unit: UnitInfo | None = None,
        filenames: dict[str, str] | None = None,
    ) -> Dossier:
        if files is None:
            files = [("D02-TS", build_d02ts(unit, PERIOD, [_worker()]))]
        names = filenames or {}
        decls = tuple(
            Declaration(form, names.get(form, f"{form}-595.xml"), content)
            for form, content in files
        )
        return Dossier(
            unit=for_unit or unit,
            period=period,
            procedure=procedure,
            name="01-bao-tang",
            declarations=decls,
            attachments=tuple(Attachment(n, c) for n, c in attachments),
        )

    return make
