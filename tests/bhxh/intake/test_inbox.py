"""The inbox layout: loading dossiers, and refusing anything that leads outside it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bhxh.errors import DossierInvalid
from bhxh.hrdata import WorkerRow, build_d02ts, read_workers_csv, write_demo_csv
from bhxh.intake import load_dossiers, period_folder, validate_dossier, write_dossier
from bhxh.models import UnitInfo

Worker = Callable[..., WorkerRow]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


@pytest.fixture
def d02(unit: UnitInfo, worker: Worker) -> bytes:
    return build_d02ts(unit, "01/2026", [worker()])


@pytest.fixture
def folder(inbox: Path, d02: bytes) -> Path:
    """One valid dossier already in the inbox: TZ1234A/01-2026/01-bao-tang."""
    return write_dossier(inbox, "TZ1234A", "01/2026", "01-bao-tang", "600", {"D02-TS-595.xml": d02})


def set_manifest(folder: Path, manifest: object) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_period_folder_name() -> None:
    assert period_folder("01/2026") == "01-2026"
    with pytest.raises(DossierInvalid):
        period_folder("1/2026")


def test_written_dossiers_load_sorted_and_validate(
    inbox: Path, unit: UnitInfo, d02: bytes, tmp_path: Path, today: dt.date
) -> None:
    demo = build_d02ts(unit, "01/2026", read_workers_csv(write_demo_csv(tmp_path / "w.csv", 30, 1)))
    write_dossier(
        inbox,
        "TZ1234A",
        "01/2026",
        "02-demo",
        "600",
        {"D02-TS-595.xml": demo},
        {"hop-dong.pdf": b"%PDF-1.7 invented"},
        name="Báo tăng tháng 1",
        tax_code="0101234567",
    )
    write_dossier(inbox, "TZ1234A", "01/2026", "01-bao-tang", "600", {"D02-TS-595.xml": d02})
    dossiers = load_dossiers(inbox, unit, "01/2026")
    assert [d.name for d in dossiers] == ["01-bao-tang", "02-demo"]
    second = dossiers[1]
    assert second.procedure == "600" and second.period == "01/2026" and second.unit == unit
    assert [(d.form, d.filename, d.content) for d in second.declarations] == [
        ("D02-TS", "D02-TS-595.xml", demo)
    ]
    assert [(a.filename, a.content) for a in second.attachments] == [
        ("hop-dong.pdf", b"%PDF-1.7 invented")
    ]
    manifest = json.loads((inbox / "TZ1234A/01-2026/02-demo/manifest.json").read_text("utf-8"))
    assert manifest == {
        "procedure": "600",
        "name": "Báo tăng tháng 1",
        "attachments": ["hop-dong.pdf"],
        "unit": "TZ1234A",
        "tax_code": "0101234567",
        "period": "01/2026",
    }
    for dossier in dossiers:
        validate_dossier(dossier, today=today)


def test_absent_period_folder_means_no_dossiers(inbox: Path, unit: UnitInfo) -> None:
    assert load_dossiers(inbox, unit, "01/2026") == []


def test_folder_without_manifest_is_refused(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    (folder / "manifest.json").unlink()
    with pytest.raises(DossierInvalid) as exc:
        load_dossiers(inbox, unit, "01/2026")
    assert str(exc.value).startswith(
        "unit TZ1234A, period 01/2026, dossier 01-bao-tang: no manifest.json"
    )


def test_unknown_procedure_in_the_manifest(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    set_manifest(folder, {"procedure": "999"})
    with pytest.raises(
        DossierInvalid,
        match=r"dossier 01-bao-tang, file manifest.json, field "
        r"procedure: unknown procedure \(MaThuTuc\) '999'; known procedures: 600",
    ):
        load_dossiers(inbox, unit, "01/2026")


def test_manifest_that_is_not_json(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    (folder / "manifest.json").write_text("procedure: 600")
    with pytest.raises(DossierInvalid, match=r"manifest\.json: not valid UTF-8 JSON"):
        load_dossiers(inbox, unit, "01/2026")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("unit", "ZZ9999Z", "the unit's code (folder TZ1234A/) 'TZ1234A'"),
        ("tax_code", "0309999999", "the unit's tax code '0101234567'"),
        ("period", "12/2025", "the period of the folder 01-2026/ '01/2026'"),
    ],
)
def test_a_manifest_naming_another_unit_or_period_is_refused(
    folder: Path, unit: UnitInfo, inbox: Path, key: str, value: str, expected: str
) -> None:
    set_manifest(folder, {"procedure": "600", key: value})
    with pytest.raises(DossierInvalid) as exc:
        load_dossiers(inbox, unit, "01/2026")
    assert str(exc.value) == (
        f"unit TZ1234A, period 01/2026, dossier 01-bao-tang, file manifest.json, field {key}: "
        f"{value!r} does not match {expected}"
    )


def test_a_manifest_naming_its_own_unit_and_period_loads(
    folder: Path, unit: UnitInfo, inbox: Path
) -> None:
    set_manifest(
        folder,
        {"procedure": "600", "unit": "TZ1234A", "tax_code": "0101234567", "period": "01/2026"},
    )
    assert [d.name for d in load_dossiers(inbox, unit, "01/2026")] == ["01-bao-tang"]


def test_manifest_with_an_unknown_key(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    set_manifest(folder, {"procedure": "600", "attachment": ["a.pdf"]})
    with pytest.raises(DossierInvalid, match=r"unknown key\(s\) attachment"):
        load_dossiers(inbox, unit, "01/2026")


@pytest.mark.parametrize("name", ["../../secret.pdf", "/etc/passwd", "sub/a.pdf", "..", ".env"])
def test_path_traversal_in_the_manifest_is_refused(
    folder: Path, unit: UnitInfo, inbox: Path, name: str
) -> None:
    set_manifest(folder, {"procedure": "600", "attachments": [name]})
    with pytest.raises(DossierInvalid) as exc:
        load_dossiers(inbox, unit, "01/2026")
    assert str(exc.value) == (
        f"unit TZ1234A, period 01/2026, dossier 01-bao-tang, file manifest.json: "
        f"attachment {name!r} must be a plain name inside the folder"
    )


def test_symlinked_declaration_out_of_the_inbox_is_refused(
    folder: Path, unit: UnitInfo, inbox: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.xml"
    outside.write_bytes(b"<D02-TS>SECRET</D02-TS>")
    (folder / "D02-TS-595.xml").unlink()
    (folder / "D02-TS-595.xml").symlink_to(outside)
    with pytest.raises(DossierInvalid) as exc:
        load_dossiers(inbox, unit, "01/2026")
    assert "dossier 01-bao-tang, file D02-TS-595.xml: leads outside the inbox" in str(exc.value)


def test_symlinked_attachment_out_of_the_inbox_is_refused(
    folder: Path, unit: UnitInfo, inbox: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "passwd"
    outside.write_text("root:x:0:0")
    (folder / "scan.pdf").symlink_to(outside)
    set_manifest(folder, {"procedure": "600", "attachments": ["scan.pdf"]})
    with pytest.raises(DossierInvalid, match=r"file scan\.pdf: leads outside the inbox"):
        load_dossiers(inbox, unit, "01/2026")


def test_symlinked_dossier_folder_out_of_the_inbox_is_refused(
    folder: Path, unit: UnitInfo, inbox: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder.parent / "02-link").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DossierInvalid, match="file 02-link: leads outside the inbox"):
        load_dossiers(inbox, unit, "01/2026")


def test_symlink_inside_the_inbox_is_followed(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    shared = inbox / "shared.pdf"
    shared.write_bytes(b"%PDF shared")
    (folder / "scan.pdf").symlink_to(shared)
    set_manifest(folder, {"procedure": "600", "attachments": ["scan.pdf"]})
    (dossier,) = load_dossiers(inbox, unit, "01/2026")
    assert dossier.attachments[0].content == b"%PDF shared"


def test_listed_attachment_that_is_missing(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    set_manifest(folder, {"procedure": "600", "attachments": ["scan.pdf"]})
    with pytest.raises(
        DossierInvalid, match=r"file scan\.pdf: listed in manifest\.json but missing"
    ):
        load_dossiers(inbox, unit, "01/2026")


def test_unexpected_file_is_refused(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    (folder / "notes.txt").write_text("x")
    with pytest.raises(DossierInvalid, match=r"file notes\.txt: neither a declaration"):
        load_dossiers(inbox, unit, "01/2026")


def test_hidden_files_are_ignored(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder.parent / ".DS_Store").write_bytes(b"\0")
    assert len(load_dossiers(inbox, unit, "01/2026")) == 1


def test_subfolder_in_a_dossier_is_refused(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    (folder / "more").mkdir()
    with pytest.raises(DossierInvalid, match="file more: sub-folders are not allowed"):
        load_dossiers(inbox, unit, "01/2026")


def test_declaration_over_the_size_limit(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    with pytest.raises(DossierInvalid, match=r"file D02-TS-595.xml: \d+ bytes, limit 100"):
        load_dossiers(inbox, unit, "01/2026", max_xml_bytes=100)


def test_file_at_period_level_is_refused(folder: Path, unit: UnitInfo, inbox: Path) -> None:
    (folder.parent / "D02-TS-595.xml").write_bytes(b"<D02-TS/>")
    with pytest.raises(DossierInvalid, match="holds only dossier folders"):
        load_dossiers(inbox, unit, "01/2026")


@pytest.mark.parametrize("folder_name", ["../escape", "..", "/tmp/x", "a/b"])
def test_write_dossier_refuses_names_with_paths(inbox: Path, d02: bytes, folder_name: str) -> None:
    with pytest.raises(DossierInvalid, match="must be a plain name"):
        write_dossier(inbox, "TZ1234A", "01/2026", folder_name, "600", {"D02-TS-595.xml": d02})
    assert not inbox.exists() or not any(inbox.rglob("*.xml"))


def test_write_dossier_refuses_unknown_procedure_and_odd_file_names(
    inbox: Path, d02: bytes
) -> None:
    with pytest.raises(DossierInvalid, match="unknown procedure"):
        write_dossier(inbox, "TZ1234A", "01/2026", "x", "999", {"D02-TS-595.xml": d02})
    with pytest.raises(DossierInvalid, match=r"file d02\.xml: not a declaration file name"):
        write_dossier(inbox, "TZ1234A", "01/2026", "x", "600", {"d02.xml": d02})
    assert not inbox.exists()
