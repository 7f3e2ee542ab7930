"""A person's text in inbox declarations: Unicode dựng sẵn (NFC) before validation and any
digest, only text nodes changed; TCVN3 / VNI refused naming where, or converted on request."""

from __future__ import annotations

import datetime as dt
import json
import logging
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from bhxh.errors import DossierInvalid, InputRefused
from bhxh.hrdata import WorkerRow, build_d02ts
from bhxh.intake import load_dossiers, normalize_declaration, validate_dossier, write_dossier
from bhxh.models import UnitInfo
from bhxh.vntext import encode_legacy

Worker = Callable[..., WorkerRow]
NAME = "Nguyễn Văn An"
TITLE = "Trưởng phòng kế toán"


def _d02(unit: UnitInfo, worker: Worker) -> bytes:
    rows = [
        worker(HoTen="Lê Thị Hoa", STT=1),
        worker(HoTen=NAME, ChucVu=TITLE, MasoBHXH="0123456780", CMND="001090000002", STT=2),
    ]
    return build_d02ts(unit, "01/2026", rows)


def _put(inbox: Path, data: bytes, **manifest: object) -> Path:
    folder = write_dossier(
        inbox, "TZ1234A", "01/2026", "01-bao-tang", "600", {"D02-TS-595.xml": data}
    )
    if manifest:
        path = folder / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **manifest}), encoding="utf-8")
    return folder


def _load(inbox: Path, unit: UnitInfo, **kw: object) -> bytes:
    (dossier,) = load_dossiers(inbox, unit, "01/2026", **kw)  # type: ignore[arg-type]
    return dossier.declarations[0].content


def test_decomposed_text_is_loaded_precomposed_changing_only_text(
    tmp_path: Path, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    nfc = _d02(unit, worker)
    nfd = nfc.replace(NAME.encode(), unicodedata.normalize("NFD", NAME).encode())
    nfd = nfd.replace(TITLE.encode(), unicodedata.normalize("NFD", TITLE).encode())
    assert nfd != nfc
    loaded = _load(_put(tmp_path / "inbox", nfd).parents[2], unit)
    assert loaded == nfc  # byte for byte what the NFC file is: same digest, same dossier id
    (dossier,) = load_dossiers(tmp_path / "inbox", unit, "01/2026")
    validate_dossier(dossier, today=today)


def test_character_references_to_combining_marks_are_composed(
    unit: UnitInfo, worker: Worker
) -> None:
    nfc = _d02(unit, worker)
    refs = nfc.replace("Văn".encode(), b"Va&#x306;n").replace("Lê".encode(), b"Le&#770;")
    out, conversions = normalize_declaration(refs)
    assert out == nfc and conversions == []


def test_markup_comments_and_untouched_text_stay_as_they_were() -> None:
    nfd = unicodedata.normalize("NFD", "Lê")
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- ghi chú: Hoa\u0300 -->'
        f'<D02-TS a="x>y"><NoiDung><LaoDong><HoTen>  {nfd} &amp; Co </HoTen>'
        "<Ghichu><![CDATA[Ke\u0302 <toan>]]></Ghichu></LaoDong></NoiDung><Cky/></D02-TS>"
    ).encode()
    out, _ = normalize_declaration(data)
    assert out == data.replace(nfd.encode(), "Lê".encode()).replace(
        "Ke\u0302".encode(), "Kê".encode()
    )
    assert "Hoa\u0300".encode() in out  # the comment is not text


@pytest.mark.parametrize(("encoding", "name"), [("tcvn3", "TCVN3 (ABC)"), ("vni", "VNI-Windows")])
def test_legacy_text_is_refused_naming_unit_dossier_file_row_and_element(
    tmp_path: Path, unit: UnitInfo, worker: Worker, encoding: str, name: str
) -> None:
    data = _d02(unit, worker)
    legacy = data.replace(NAME.encode(), encode_legacy(NAME, encoding).encode())  # type: ignore[arg-type]
    legacy = legacy.replace(TITLE.encode(), encode_legacy(TITLE, encoding).encode())  # type: ignore[arg-type]
    _put(tmp_path / "inbox", legacy)
    with pytest.raises(InputRefused) as refused:
        load_dossiers(tmp_path / "inbox", unit, "01/2026")
    message = str(refused.value)
    assert isinstance(refused.value, DossierInvalid)
    assert message.startswith(
        "Đơn vị TZ1234A, hồ sơ 01-bao-tang, tệp D02-TS-595.xml, LaoDong 2 (STT 2), phần tử "
        f"HoTen: 2 giá trị được gõ bằng bảng mã cũ {name}"
    )
    assert f"phần tử ChucVu: {encode_legacy(TITLE, encoding)!r}" in message  # type: ignore[arg-type]
    assert f"có lẽ là / probably {NAME!r}" in message
    assert '"convert_legacy": true' in message


def test_the_manifest_switches_conversion_on_and_every_value_is_logged(
    tmp_path: Path,
    unit: UnitInfo,
    worker: Worker,
    today: dt.date,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = _d02(unit, worker)
    legacy = data.replace(NAME.encode(), encode_legacy(NAME, "tcvn3").encode())
    legacy = legacy.replace(TITLE.encode(), encode_legacy(TITLE, "tcvn3").encode())
    _put(tmp_path / "inbox", legacy, convert_legacy=True)
    with caplog.at_level(logging.WARNING, logger="bhxh.inbox"):
        assert _load(tmp_path / "inbox", unit) == data
    logged = [r.getMessage() for r in caplog.records if r.name == "bhxh.inbox"]
    assert len(logged) == 2
    assert logged[0].startswith(
        "đã chuyển mã Đơn vị TZ1234A, hồ sơ 01-bao-tang, tệp D02-TS-595.xml, LaoDong 2 "
        f"(STT 2), phần tử HoTen: 'NguyÔn V¨n An' -> {NAME!r} (TCVN3 (ABC))"
    )


def test_the_setting_switches_conversion_on_and_the_manifest_can_refuse_it(
    tmp_path: Path, unit: UnitInfo, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _d02(unit, worker)
    legacy = data.replace(NAME.encode(), encode_legacy(NAME, "vni").encode())
    folder = _put(tmp_path / "inbox", legacy)
    monkeypatch.setenv("BHXH_CONVERT_LEGACY", "true")
    assert _load(tmp_path / "inbox", unit) == data
    _put(tmp_path / "inbox", legacy, convert_legacy=False)
    with pytest.raises(InputRefused, match="VNI-Windows"):
        load_dossiers(tmp_path / "inbox", unit, "01/2026")
    _put(tmp_path / "inbox", legacy, convert_legacy="yes")
    with pytest.raises(DossierInvalid, match="field convert_legacy: must be true or false"):
        load_dossiers(tmp_path / "inbox", unit, "01/2026")
    assert folder.exists()


def test_genuine_text_is_never_taken_for_legacy(unit: UnitInfo, worker: Worker) -> None:
    from tests.bhxh.hrdata.corpus import LATIN1_ONLY, TITLES, names

    people = names()[:300] + list(LATIN1_ONLY)
    rows = [
        worker(
            STT=i,
            HoTen=p,
            ChucVu=TITLES[i % len(TITLES)],
            MasoBHXH=f"{i:010d}",
            CMND=f"{i:012d}",
        )
        for i, p in enumerate(people, start=1)
    ]
    data = build_d02ts(unit, "01/2026", rows)
    assert normalize_declaration(data, unit="TZ1234A") == (data, [])


def test_files_that_are_not_utf8_or_not_xml_are_left_to_the_validation() -> None:
    for data in ("<D02-TS>Café</D02-TS>".encode("latin-1"), b"<D02-TS><a>", b""):
        assert normalize_declaration(data) == (data, [])
