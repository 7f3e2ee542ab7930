"""Plausible PDF attachments for the demo and the tests: a labour contract (hợp đồng lao
động) for an invented person, in Vietnamese, one or two A4 pages.

Written with pyHanko's own PDF writer and the stamp font (DejaVu Sans, embedded as a
subset), so no other PDF library is needed. Every name, number and address is invented.

Example:
    >>> pdf = labour_contract_pdf()  # doctest: +SKIP
    >>> pdf[:8]  # doctest: +SKIP
    b'%PDF-1.7'
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

from bhxh.signing import vietnamese_font

__all__ = ["ContractParty", "labour_contract_pdf"]

_A4 = (0, 0, 595, 842)


@dataclass(frozen=True)
class ContractParty:
    """The worker named in the contract (invented)."""

    name: str = "Đặng Thị Ngọc Ánh"
    born: str = "14/03/1995"
    id_number: str = "001195000123"  # CCCD: an invented number
    address: str = "Số 7 ngõ 42 phố Trần Quốc Hoàn, phường Dịch Vọng Hậu, Cầu Giấy, Hà Nội"
    position: str = "Kế toán viên"
    salary: str = "12.500.000"


def labour_contract_pdf(
    *,
    employer: str = "Công ty TNHH Hoa Sen Thử Nghiệm",
    employer_tax_code: str = "0109876543",
    worker: ContractParty | None = None,
    number: str = "HĐLĐ-2026/015",
    pages: int = 1,
    xref_stream: bool = False,
    filler_bytes: int = 0,
) -> bytes:
    """A labour contract in Vietnamese, ``pages`` (1 or 2) A4 pages.

    Args:
        xref_stream: write a PDF 1.5 cross-reference stream instead of a classic table
            (both kinds reach the signer in practice).
        filler_bytes: add an incompressible image of about this many bytes on the last
            page (a stand-in for a scan), for size and timing tests.
    """
    from pyhanko.pdf_utils import generic as pdf_generic
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils import writer as pdf_writer
    from pyhanko.pdf_utils.text import TextBox, TextBoxStyle

    generic: Any = pdf_generic  # pyHanko's PDF object constructors are untyped
    PageObject: Any = pdf_writer.PageObject
    PdfFileWriter: Any = pdf_writer.PdfFileWriter

    if pages not in (1, 2):
        raise ValueError("pages: 1 or 2")
    person = worker or ContractParty()
    writer: Any = PdfFileWriter(stream_xrefs=xref_stream)
    body = _contract_lines(employer, employer_tax_code, person, number)
    chunks = [body] if pages == 1 else [body[:22], body[22:]]
    for index, lines in enumerate(chunks):
        empty = writer.add_object(generic.StreamObject(stream_data=b""))
        writer.insert_page(PageObject(contents=empty, media_box=_A4))
        style = TextBoxStyle(
            font=vietnamese_font(11),
            font_size=11,
            leading=17,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX
            ),
        )
        box: Any = TextBox(style, writer=writer, box=layout.BoxConstraints(width=500, height=690))
        box.content = "\n".join(lines)
        xobjects = {"/Body": writer.add_object(box.as_form_xobject())}
        draw = [b"q 1 0 0 1 48 100 cm /Body Do Q"]
        if filler_bytes and index == len(chunks) - 1:
            xobjects["/Scan"] = writer.add_object(_noise_image(filler_bytes))
            draw.append(b"q 120 0 0 80 420 60 cm /Scan Do Q")
        resources = generic.DictionaryObject(
            {
                generic.NameObject("/XObject"): generic.DictionaryObject(
                    {generic.NameObject(k): v for k, v in xobjects.items()}
                )
            }
        )
        stream = generic.StreamObject(stream_data=b"\n".join(draw))
        writer.add_stream_to_page(index, writer.add_object(stream), resources=resources)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _contract_lines(employer: str, tax_code: str, person: ContractParty, number: str) -> list[str]:
    return [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        f"HỢP ĐỒNG LAO ĐỘNG  Số: {number}",
        "",
        f"Bên A (người sử dụng lao động): {employer}",
        f"Mã số thuế: {tax_code}",
        "Đại diện: Ông Vũ Quang Thịnh, chức vụ Giám đốc",
        "",
        f"Bên B (người lao động): {person.name}",
        f"Ngày sinh: {person.born}    Số CCCD: {person.id_number}",
        f"Địa chỉ: {person.address}",
        "",
        "Điều 1. Công việc và địa điểm làm việc",
        f"   Chức danh: {person.position}; làm việc tại trụ sở của Bên A.",
        "Điều 2. Thời hạn hợp đồng",
        "   Hợp đồng xác định thời hạn 36 tháng, từ ngày 01/01/2026 đến ngày 31/12/2028.",
        "Điều 3. Thời giờ làm việc",
        "   8 giờ mỗi ngày, từ thứ Hai đến thứ Sáu; nghỉ hằng năm theo Bộ luật Lao động.",
        "Điều 4. Tiền lương và phụ cấp",
        f"   Mức lương: {person.salary} đồng/tháng, trả vào ngày 05 hằng tháng.",
        "   Phụ cấp ăn trưa: 730.000 đồng/tháng.",
        "Điều 5. Bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp",
        "   Hai bên đóng bảo hiểm bắt buộc theo quy định của pháp luật hiện hành;",
        "   Bên A kê khai và nộp hồ sơ cho cơ quan Bảo hiểm xã hội.",
        "Điều 6. Điều khoản thi hành",
        "   Hợp đồng lập thành hai bản có giá trị như nhau, mỗi bên giữ một bản.",
        "",
        "              BÊN A                                              BÊN B",
        "      (ký, ghi rõ họ tên)                                (ký, ghi rõ họ tên)",
    ]


def _noise_image(size: int) -> Any:
    from pyhanko.pdf_utils import generic as pdf_generic

    generic: Any = pdf_generic

    side = max(1, int(size**0.5))
    data = os.urandom(side * side)
    return generic.StreamObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/XObject"),
            generic.NameObject("/Subtype"): generic.NameObject("/Image"),
            generic.NameObject("/Width"): generic.NumberObject(side),
            generic.NameObject("/Height"): generic.NumberObject(side),
            generic.NameObject("/ColorSpace"): generic.NameObject("/DeviceGray"),
            generic.NameObject("/BitsPerComponent"): generic.NumberObject(8),
        },
        stream_data=data,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m demo.attachments [--out var/pdf]``: a contract, the same contract signed
    with a test-PKI certificate (both phases, the key playing the provider) and page 1
    of the signed file rendered to PNG by poppler's ``pdftoppm``, to look at the stamp."""
    import argparse
    import datetime as dt
    import shutil
    import subprocess
    from pathlib import Path

    from bhxh.settings import get_settings
    from bhxh.signing import StampSpec, finish_pdf_signature, prepare_pdf_signature
    from sandbox.pki import TestPKI, sign_digest

    parser = argparse.ArgumentParser(prog="python -m demo.attachments", description=main.__doc__)
    parser.add_argument("--out", type=Path, default=get_settings().data_dir / "pdf")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    employer, tax_code = "Công ty TNHH Hoa Sen Thử Nghiệm", "0109876543"
    pki = TestPKI.load_or_create(get_settings().pki_dir)
    cert = pki.issue("demo-pdf-hoa-sen", tax_code=tax_code, unit_name=employer, ca="misa")
    pdf = labour_contract_pdf(employer=employer, employer_tax_code=tax_code)
    prepared = prepare_pdf_signature(
        pdf,
        cert.der,
        pki.chain_der("misa"),
        signing_time=dt.datetime.now(dt.UTC),
        stamp=StampSpec(signer=employer, place="Hà Nội"),
    )
    signed = finish_pdf_signature(
        prepared, sign_digest(cert.private_key, prepared.digest), cert.der
    )
    (out / "hop-dong.pdf").write_bytes(pdf)
    (out / "hop-dong-signed.pdf").write_bytes(signed)
    print(out / "hop-dong.pdf")
    print(out / "hop-dong-signed.pdf")
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        print("pdftoppm missing: scripts/ensure-debian-packages poppler-utils")
        return 1
    png = out / "hop-dong-signed-page1"
    signed_path = str(out / "hop-dong-signed.pdf")
    subprocess.run(
        [pdftoppm, "-r", "110", "-png", "-singlefile", "-f", "1", "-l", "1", signed_path, str(png)],
        check=True,
    )
    print(f"{png}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
