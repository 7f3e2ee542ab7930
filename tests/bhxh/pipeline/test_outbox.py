"""The outbox sink: atomic, idempotent, refuses to overwrite a signed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bhxh.pipeline import OutboxConflict, write_outbox


def test_files_land_under_unit_period_and_dossier(tmp_path: Path) -> None:
    files = {"BHXHDienTu.xml": b"<Hoso/>", "D02-TS-595.xml": b"<D02-TS/>"}
    directory = write_outbox(tmp_path, "TZ9001A", "01/2026", "TZ9001A-600-1", files)
    assert directory == tmp_path / "TZ9001A" / "01-2026" / "TZ9001A-600-1"
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == files


def test_writing_the_same_bytes_again_changes_nothing(tmp_path: Path) -> None:
    files = {"BHXHDienTu.xml": b"<Hoso/>"}
    directory = write_outbox(tmp_path, "TZ9001A", "01/2026", "d-1", files)
    before = (directory / "BHXHDienTu.xml").stat().st_mtime_ns
    write_outbox(tmp_path, "TZ9001A", "01/2026", "d-1", files)
    assert (directory / "BHXHDienTu.xml").stat().st_mtime_ns == before


def test_other_bytes_under_the_same_name_are_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    write_outbox(tmp_path, "TZ9001A", "01/2026", "d-1", {"BHXHDienTu.xml": b"<Hoso/>"})
    with pytest.raises(OutboxConflict, match="d-1"):
        write_outbox(
            tmp_path,
            "TZ9001A",
            "01/2026",
            "d-1",
            {"new.xml": b"<x/>", "BHXHDienTu.xml": b"<Other/>"},
        )
    directory = tmp_path / "TZ9001A" / "01-2026" / "d-1"
    assert sorted(p.name for p in directory.iterdir()) == ["BHXHDienTu.xml"]


@pytest.mark.parametrize(
    ("unit", "period", "dossier", "name"),
    [
        ("../x", "01/2026", "d-1", "a.xml"),
        ("TZ9001A", "2026-01", "d-1", "a.xml"),
        ("TZ9001A", "01/2026", "d/1", "a.xml"),
        ("TZ9001A", "01/2026", "d-1", "../a.xml"),
        ("TZ9001A", "01/2026", "d-1", ".hidden"),
    ],
)
def test_unsafe_names_are_refused(
    tmp_path: Path, unit: str, period: str, dossier: str, name: str
) -> None:
    with pytest.raises(ValueError):
        write_outbox(tmp_path, unit, period, dossier, {name: b"x"})
    assert not any(tmp_path.iterdir())
