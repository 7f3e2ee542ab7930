"""The visible stamp: the unit's wording, the time in Vietnam, Vietnamese text intact
(read back by poppler's pdftotext, drawn by pdftoppm), placed bottom left of page 1."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from bhxh.errors import StampFontMissing
from bhxh.signing import StampSpec, prepare_pdf_signature, stamp_font
from sandbox.pki import IssuedCertificate
from tests.bhxh.signing.pdf.pdf_support import SIGNING_TIME, Pdfsig, remote_sign

SIGNER = "Công ty TNHH Hoa Sen Thử Nghiệm"
STAMP = StampSpec(signer=SIGNER, place="Quận Cầu Giấy, Hà Nội")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} missing (Debian package poppler-utils)")
    return path


def _page_one_text(pdf: bytes, tmp_path: Path, *extra: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        [_tool("pdftotext"), *extra, "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _dark_pixels_bottom_left(pdf: bytes, tmp_path: Path) -> int:
    """Render page 1 at 72 dpi (1 px = 1 pt) as PGM and count dark pixels in the
    bottom-left 250 x 70 points."""
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    stem = tmp_path / "page"
    render = [_tool("pdftoppm"), "-r", "72", "-gray", "-singlefile", "-f", "1", "-l", "1"]
    subprocess.run([*render, str(path), str(stem)], check=True)
    data = (tmp_path / "page.pgm").read_bytes()
    magic, width, height, _maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    w, h = int(width), int(height)
    return sum(1 for y in range(h - 70, h) for x in range(0, 250) if pixels[y * w + x] < 128)


def test_the_stamp_text_shows_the_signing_time_in_vietnam() -> None:
    late_evening_utc = dt.datetime(2026, 2, 10, 17, 30, 5, tzinfo=dt.UTC)
    assert STAMP.text(late_evening_utc) == (
        f"Ngày ký: 11/02/2026 00:30:05\nNgười ký: {SIGNER}\nNơi ký: Quận Cầu Giấy, Hà Nội"
    )


def test_a_unit_sets_its_own_wording() -> None:
    stamp = StampSpec(
        signer="Trần Thị Bích",
        place="Đà Nẵng",
        template="Xác nhận tài liệu\nKý bởi: {signer}\nThời gian: {time}",
    )
    text = stamp.text(dt.datetime(2026, 2, 10, 1, 0, tzinfo=dt.UTC))
    assert text == "Xác nhận tài liệu\nKý bởi: Trần Thị Bích\nThời gian: 10/02/2026 08:00:00"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"template": "Ngày: {date}"}, "unknown field"),
        ({"template": "\n".join(["x"] * 7)}, "at most 6 lines"),
        ({"signer": "Công ty\nKhác"}, "one line only"),
    ],
)
def test_a_bad_stamp_is_refused_when_it_is_made(kwargs: dict[str, str], message: str) -> None:
    spec = {"signer": SIGNER, "place": "Hà Nội", **kwargs}
    with pytest.raises(ValueError, match=message):
        StampSpec(**spec)


def test_the_signed_stamp_reads_back_in_vietnamese(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes], tmp_path: Path
) -> None:
    signed = remote_sign(contract, issued, chain, stamp=STAMP)
    text = _page_one_text(signed, tmp_path)
    for line in STAMP.text(SIGNING_TIME).splitlines():
        assert line in text


def test_the_glyphs_advance_by_their_real_widths(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes], tmp_path: Path
) -> None:
    """pyHanko 0.38 writes widths in font units; DejaVu (2048/em) would be twice too wide."""
    from fontTools import ttLib

    signed = remote_sign(contract, issued, chain, stamp=STAMP)
    bbox = _page_one_text(signed, tmp_path, "-bbox")
    line = f"Người ký: {SIGNER}"
    [word] = [w for w in bbox.splitlines() if w.strip().endswith(f">{line}</word>")]
    x_min = float(word.split('xMin="')[1].split('"')[0])
    x_max = float(word.split('xMax="')[1].split('"')[0])
    font = ttLib.TTFont(str(stamp_font()))
    cmap, hmtx, em = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    expected = sum(hmtx[cmap[ord(ch)]][0] for ch in line) / em * 8  # 8-point stamp text
    assert abs((x_max - x_min) - expected) / expected < 0.1


def test_the_stamp_is_drawn_bottom_left_and_nothing_is_drawn_without_one(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes], tmp_path: Path
) -> None:
    assert _dark_pixels_bottom_left(contract, tmp_path) == 0
    assert _dark_pixels_bottom_left(remote_sign(contract, issued, chain), tmp_path) == 0
    stamped = remote_sign(contract, issued, chain, stamp=STAMP)
    assert _dark_pixels_bottom_left(stamped, tmp_path) > 500


def test_a_long_signer_name_shrinks_to_fit_and_stays_valid(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes], pdfsig: Pdfsig, tmp_path: Path
) -> None:
    long_name = "Công ty Cổ phần Thương mại Dịch vụ Xuất nhập khẩu Hoa Sen Thử Nghiệm Miền Bắc"
    stamp = StampSpec(signer=long_name, place="Hà Nội")
    signed = remote_sign(contract, issued, chain, stamp=stamp)
    assert pdfsig.all_valid(signed)
    assert f"Người ký: {long_name}" in _page_one_text(signed, tmp_path)


def test_a_missing_font_is_a_clear_error_naming_the_debian_package(
    contract: bytes,
    issued: IssuedCertificate,
    chain: list[bytes],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("BHXH_STAMP_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(StampFontMissing, match="fonts-dejavu-core"):
        prepare_pdf_signature(contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=STAMP)
    # no stamp, no font needed
    prepare_pdf_signature(contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=None)


def test_the_demo_helper_writes_the_signed_contract_and_its_png(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pdfsig: Pdfsig, pki_dir: Path
) -> None:
    from demo.attachments import main

    _tool("pdftoppm")
    monkeypatch.setenv("BHXH_DATA_DIR", str(pki_dir.parent))  # the session's test PKI
    assert main(["--out", str(tmp_path / "pdf")]) == 0
    assert pdfsig.all_valid((tmp_path / "pdf" / "hop-dong-signed.pdf").read_bytes())
    png = (tmp_path / "pdf" / "hop-dong-signed-page1.png").read_bytes()
    assert png.startswith(b"\x89PNG")
