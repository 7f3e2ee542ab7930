"""Fixtures for the signature profile, envelope, forms and store tests.

The remote signer is simulated with ``sandbox.pki.sign_digest`` (RSA PKCS#1 v1.5 over the
pre-hashed SignedInfo digest, as a provider does); the independent verifier is ``xmlsec1``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from bhxh.models import Attachment, Declaration, Dossier, UnitInfo
from bhxh.signing import apply_signature, prepare_signature
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest

TAX_CODE = "0109876543"
UNIT_NAME = "Công ty TNHH Hoa Sen Thử Nghiệm"


@pytest.fixture(scope="session")
def issued(pki: TestPKI) -> IssuedCertificate:
    """The unit's (remote) certificate; the test holds its key to play the provider."""
    return pki.issue("b2-hoa-sen", tax_code=TAX_CODE, unit_name=UNIT_NAME, ca="misa")


@pytest.fixture(scope="session")
def other_issued(pki: TestPKI) -> IssuedCertificate:
    return pki.issue("b2-other", tax_code="0100000001", unit_name="Công ty Khác", ca="vnpt")


@pytest.fixture
def unit() -> UnitInfo:
    return UnitInfo(
        code="TZ9876B",
        tax_code=TAX_CODE,
        name=UNIT_NAME,
        agency_code="07906",
        signer="Trần Thị Bích",
        phone="0901234567",
        address="12 Đường Láng, Hà Nội",
        email="hr@hoasen.example",
    )


def build_d02(workers: int = 3, period: str = "01/2026") -> bytes:
    """A D02-TS with the real files' shape (no unit header; invented workers), written by
    hand so the signing tests do not depend on the builders."""
    empty_dates = "".join(
        f"<{name}/>"
        for name in [
            "Vtvl_nql_tungay",
            "Vtvl_nql_denngay",
            "Vtvl_cmktbc_tungay",
            "Vtvl_cmktbc_denngay",
            "Vtvl_cmktbt_tungay",
            "Vtvl_cmktbt_denngay",
            "Vtvl_khac_tungay",
            "Vtvl_khac_denngay",
            "Nndh_tungay",
            "Nndh_denngay",
            "Hdld_tungay",
            "Hdld_xdth_tungay",
            "Hdld_xdth_denngay",
            "Hdld_khac_tungay",
            "Hdld_khac_denngay",
        ]
    )
    rows = []
    for i in range(1, workers + 1):
        rows.append(
            "<LaoDong>"
            f"<STT>{i}</STT><HoTen>{escape(f'Nguyễn Văn Thử {i}')}</HoTen>"
            f"<MasoBHXH>{7900000000 + i}</MasoBHXH><ChucVu>Nhân viên &amp; kỹ thuật</ChucVu>"
            f"<NoiLamViec/><TienLuong>{5_000_000 + i}</TienLuong><PhuCapCV>0</PhuCapCV>"
            "<PhuCapTNVK>0</PhuCapTNVK><PhuCapTNNghe>0</PhuCapTNNghe>"
            "<PhuCapLuong>0</PhuCapLuong><PhuCapBosung>0</PhuCapBosung>"
            f"<TuThang>{period}</TuThang><DenThang/><Ghichu/><PA>TM</PA>"
            "<TyleDong>32.0</TyleDong><TinhLai>0</TinhLai><DaCoSo>1</DaCoSo><MucHuong/>"
            f"<MaPhongBan/><MavungSS/><MavungLTT>01</MavungLTT><ID>{7900000000 + i}</ID>"
            "<Loai>1</Loai><CoGiamChet>0</CoGiamChet><NgayChet/><NgaySinh>01/01/1990</NgaySinh>"
            f"<GioiTinh>1</GioiTinh><CMND>001090{i:06d}</CMND>{empty_dates}"
            "</LaoDong>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<D02-TS><ThongTinKhac><SoToBiaSoBHXH>0</SoToBiaSoBHXH><SoToRoiSoBHXH>0"
        "</SoToRoiSoBHXH><SoTheBHYT>0</SoTheBHYT></ThongTinKhac>"
        f"<NoiDung>{''.join(rows)}</NoiDung><Cky/></D02-TS>"
    ).encode()


@pytest.fixture
def d02() -> bytes:
    return build_d02()


@pytest.fixture
def make_d02() -> Callable[..., bytes]:
    return build_d02


@pytest.fixture
def remote_sign(issued: IssuedCertificate) -> Callable[[bytes], bytes]:
    """Both phases, the provider played by the test PKI key."""
    key = issued.private_key

    def sign(xml: bytes) -> bytes:
        prepared = prepare_signature(xml, issued.der)
        return apply_signature(prepared.xml, sign_digest(key, prepared.digest), issued.der)

    return sign


@pytest.fixture(scope="session")
def contract_pdf() -> bytes:
    """An invented labour contract (a real PDF: the pipeline signs it in round 1)."""
    from demo.attachments import labour_contract_pdf

    return labour_contract_pdf(employer=UNIT_NAME, employer_tax_code=TAX_CODE)


@pytest.fixture
def dossier(unit: UnitInfo, d02: bytes, contract_pdf: bytes) -> Dossier:
    return Dossier(
        unit=unit,
        period="01/2026",
        procedure="600",
        name="01-bao-tang",
        declarations=(Declaration("D02-TS", "D02-TS-595.xml", d02),),
        attachments=(Attachment("Hợp đồng lao động.pdf", contract_pdf),),
    )


@pytest.fixture(scope="session")
def xmlsec_verify(
    pki: TestPKI, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[bytes], bool]:
    """``xmlsec1 --verify`` trusting only the test PKI, keys taken only from the certificate."""
    binary = shutil.which("xmlsec1")
    if binary is None:
        pytest.skip("xmlsec1 is not installed (Debian package xmlsec1)")
    folder = tmp_path_factory.mktemp("xmlsec")
    counter = iter(range(1_000_000))

    def verify(data: bytes) -> bool:
        path = folder / f"doc{next(counter)}.xml"
        path.write_bytes(data)
        done = subprocess.run(
            [
                binary,
                "--verify",
                "--enabled-key-data",
                "x509",
                "--trusted-pem",
                str(pki.root_pem_path),
                "--untrusted-pem",
                str(pki.intermediates_pem_path),
                "--id-attr:Id",
                "Signature",
                str(path),
            ],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    return verify


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "store"
