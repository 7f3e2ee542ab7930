"""What a declaration file holds, element by element, as the real files have it: data only.

One :class:`FormLayout` per form (D02-TS, TK1-TS, D01-TS, D05-TS): the root's children in
order (``Cky``, the signature slot, last), the groups inside them, and the repeated row
element with every field in wire order. A new field is one more :class:`FieldSpec` row
here; the builders (:mod:`bhxh.hrdata`), the validation (:mod:`bhxh.intake`) and
the sandbox gateway read these tables, so this module stays standard-library only.

Sources (structure and value formats; no value of these files is reproduced here):

* D02-TS and TK1-TS: the test dossier an I-VAN (Thái Sơn, eBH) publishes with its
  remote-signing service, public repository ``5310101/ERS_EbhRemoteSigning``,
  ``EBH_RemoteSigning_ver2/TempHoSo/917f12ad-.../D02-TS-595.xml`` and ``TK1-TS-595.xml``
  (signed files, every field written, empty ones as empty elements). The TK1-TS ``PhuLuc``
  block and its members come from the same I-VAN's form model (``hoaivq/IVANGenXML``,
  ``ToKhai/TK1TS.cs``).
* D01-TS and D05-TS: the I-VAN's form models, ``hoaivq/IVANGenXML`` ``ToKhai/D01TS.cs`` and
  ``ToKhai/D05TS.cs`` (.NET ``XmlSerializer`` classes: element names and order).
* Required fields of a D02-TS row: the VSS portal's own form rules (``PA``, ``HoTen`` at
  most 100, ``ChucVu`` at most 500, ``TienLuong`` above 0, ``TinhLai`` and ``DaCoSo``
  required, ``MasoBHXH`` numeric with at most 10 digits, ``Ghichu`` at most 500), as read
  from the portal by ``finizi-app/bhxh-proxy-worker`` (``api-docs/code-600.md``).

Field kinds (how a value is written and checked):

``text`` free text; ``whole`` a whole number (``STT``, counts); ``amount`` whole VND;
``month`` ``MM/yyyy``; ``date`` ``dd/MM/yyyy``; ``birth`` ``dd/MM/yyyy``, ``MM/yyyy`` or
``yyyy``; ``flag`` ``0`` or ``1``; ``rate`` a percentage written with one decimal as the
samples do (``32.0``); ``decimal`` a decimal number written as given; ``code`` a catalogue
code, digits padded with leading zeros to ``width`` (``MavungLTT`` ``01``, ``DanToc``
``01``, ``Maxa_KS`` ``06685``); ``digits`` ASCII digits only (``MasoBHXH``); ``datetime``
an ``xs:dateTime`` (``2026-01-05T00:00:00``, what ``XmlSerializer`` writes for a .NET
``DateTime``); ``group`` an element holding other elements, never text.

``fill`` is what a builder writes when the data has no value (empty: an empty element, as
the samples do). Besides a literal it may be ``=#`` (the row's position), ``=KyKeKhai``
(the declared period), ``={Field}`` (the value of another field of the row) or
``?{Field}`` (``1`` when that field has a value, else ``0``).

Example:
    >>> FORM_LAYOUTS["D02-TS"].top_names
    ('ThongTinKhac', 'NoiDung', 'Cky')
    >>> FORM_LAYOUTS["D02-TS"].row_names[:4]
    ('STT', 'HoTen', 'MasoBHXH', 'ChucVu')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Literal

__all__ = [
    "FORM_LAYOUTS",
    "SIGNATURE_SLOT",
    "FieldKind",
    "FieldSpec",
    "FormLayout",
]

FieldKind = Literal[
    "text",
    "whole",
    "amount",
    "month",
    "date",
    "birth",
    "flag",
    "rate",
    "decimal",
    "code",
    "digits",
    "datetime",
    "group",
]

#: The empty element that receives a declaration's signature; always the root's last child.
SIGNATURE_SLOT = "Cky"


@dataclass(frozen=True)
class FieldSpec:
    """One element of a declaration.

    Attributes:
        name: the element name (wire name).
        kind: how the value is written and checked (see the module docstring).
        required: must be present and, for a value, not empty.
        max_length: most characters a value may have.
        width: codes made of digits are padded with zeros to this width.
        fill: what a builder writes when the data has none (see the module docstring).
        children: the elements inside a ``group``, in order.
        repeated: the element may appear several times in a row (rows, members).
        note: where a rule comes from when it is our choice or an inference.
    """

    name: str
    kind: FieldKind = "text"
    required: bool = False
    max_length: int | None = None
    width: int | None = None
    fill: str = ""
    children: tuple[FieldSpec, ...] = ()
    repeated: bool = False
    note: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the children, in order."""
        return tuple(c.name for c in self.children)

    def child(self, name: str) -> FieldSpec | None:
        return next((c for c in self.children if c.name == name), None)


@dataclass(frozen=True)
class FormLayout:
    """The content model of one form's declaration file.

    Attributes:
        form: the form code, also the root element's name (``D02-TS``).
        top: the root's children in order, the signature slot ``Cky`` last.
        row_path: where the rows sit, from the root (``NoiDung/LaoDong``).
        source: where this layout was read.
    """

    form: str
    top: tuple[FieldSpec, ...]
    row_path: str
    source: str

    @property
    def top_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.top)

    @cached_property
    def row(self) -> FieldSpec:
        """The repeated row element (``LaoDong``, ``ThongTin``)."""
        spec = self.find(self.row_path)
        assert spec is not None and spec.repeated
        return spec

    @property
    def row_fields(self) -> tuple[FieldSpec, ...]:
        return self.row.children

    @property
    def row_names(self) -> tuple[str, ...]:
        return self.row.names

    def find(self, path: str) -> FieldSpec | None:
        """The spec at ``path`` (``NoiDung/LaoDong``, ``ThongTinKhac/SoTheBHYT``)."""
        first, *rest = path.split("/")
        spec = next((f for f in self.top if f.name == first), None)
        for name in rest:
            if spec is None:
                return None
            spec = spec.child(name)
        return spec


def _group(name: str, *children: FieldSpec, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "group", required=required, children=children)


def _rows(name: str, *fields: FieldSpec) -> FieldSpec:
    return FieldSpec(name, "group", children=fields, repeated=True)


_CKY = FieldSpec(SIGNATURE_SLOT, "group", required=True)
_PROVINCE = 2  # administrative codes: province 2 digits, district 3, commune 5
_DISTRICT = 3
_COMMUNE = 5

# --- D02-TS: the employer's list of workers joining, leaving or changing -------------------
_D02_ROW = _rows(
    "LaoDong",
    FieldSpec("STT", "whole", fill="=#"),
    FieldSpec("HoTen", required=True, max_length=100),
    FieldSpec("MasoBHXH", "digits", max_length=10),
    FieldSpec("ChucVu", required=True, max_length=500),
    FieldSpec("NoiLamViec"),
    FieldSpec("TienLuong", "amount", required=True),
    FieldSpec("PhuCapCV", "amount", fill="0"),
    FieldSpec("PhuCapTNVK", "amount", fill="0"),
    FieldSpec("PhuCapTNNghe", "amount", fill="0"),
    FieldSpec("PhuCapLuong", "amount", fill="0"),
    FieldSpec("PhuCapBosung", "amount", fill="0"),
    FieldSpec(
        "TuThang",
        "month",
        fill="=KyKeKhai",
        note="the month the change takes effect; our default: the declared period",
    ),
    FieldSpec("DenThang", "month"),
    FieldSpec("Ghichu", max_length=500),
    FieldSpec("PA", "code", required=True, max_length=100),
    FieldSpec(
        "TyleDong",
        "rate",
        fill="32.0",
        note="the samples' rate (BHXH + BHYT + BHTN + BHTNLĐ-BNN of a Vietnamese employee)",
    ),
    FieldSpec(
        "TinhLai",
        "flag",
        required=True,
        fill="0",
        note="portal: required; our default 0 (no late-payment interest asked)",
    ),
    FieldSpec(
        "DaCoSo",
        "flag",
        required=True,
        fill="?MasoBHXH",
        note="portal: required; our default: 1 when the worker has a MasoBHXH (a book)",
    ),
    FieldSpec("MucHuong"),
    FieldSpec("MaPhongBan"),
    FieldSpec("MavungSS"),
    FieldSpec("MavungLTT", "code", width=2, note="minimum-wage region, 01-04 (samples: 01)"),
    FieldSpec("ID", fill="=MasoBHXH", note="the samples carry the worker's MasoBHXH"),
    FieldSpec("Loai", fill="1", note="the samples' value; its meaning is not public"),
    FieldSpec("CoGiamChet", "flag", fill="0", note="1: the worker left because of death"),
    FieldSpec("NgayChet", "date"),
    FieldSpec("NgaySinh", "birth"),
    FieldSpec("GioiTinh", "flag", note="1 male, 0 female (samples: 1)"),
    FieldSpec("CMND", max_length=20, note="identity card (CMND/CCCD) or passport number"),
    FieldSpec("Vtvl_nql_tungay", "date"),
    FieldSpec("Vtvl_nql_denngay", "date"),
    FieldSpec("Vtvl_cmktbc_tungay", "date"),
    FieldSpec("Vtvl_cmktbc_denngay", "date"),
    FieldSpec("Vtvl_cmktbt_tungay", "date"),
    FieldSpec("Vtvl_cmktbt_denngay", "date"),
    FieldSpec("Vtvl_khac_tungay", "date"),
    FieldSpec("Vtvl_khac_denngay", "date"),
    FieldSpec("Nndh_tungay", "date"),
    FieldSpec("Nndh_denngay", "date"),
    FieldSpec("Hdld_tungay", "date"),
    FieldSpec("Hdld_xdth_tungay", "date"),
    FieldSpec("Hdld_xdth_denngay", "date"),
    FieldSpec("Hdld_khac_tungay", "date"),
    FieldSpec("Hdld_khac_denngay", "date"),
)

_D02 = FormLayout(
    form="D02-TS",
    top=(
        _group(
            "ThongTinKhac",
            FieldSpec("SoToBiaSoBHXH", "whole", fill="0"),
            FieldSpec("SoToRoiSoBHXH", "whole", fill="0"),
            FieldSpec("SoTheBHYT", "whole", fill="0"),
        ),
        _group("NoiDung", _D02_ROW),
        _CKY,
    ),
    row_path="NoiDung/LaoDong",
    source="5310101/ERS_EbhRemoteSigning TempHoSo/917f12ad-.../D02-TS-595.xml; portal rules",
)

# --- TK1-TS: a person registering or changing personal data ----------------------------
_TK1_MEMBER = _rows(
    "ThanhVien",
    FieldSpec("STT", "whole"),
    FieldSpec("HoTen", max_length=100),
    FieldSpec("MasoBHXH", "digits", max_length=10),
    FieldSpec("NgaySinh", "birth"),
    FieldSpec("GioiTinh", "flag"),
    FieldSpec("Matinh_KS", "code", width=_PROVINCE),
    FieldSpec("Mahuyen_KS", "code", width=_DISTRICT),
    FieldSpec("Maxa_KS", "code", width=_COMMUNE),
    FieldSpec("MoiQuanHe"),
    FieldSpec("CMND", max_length=20),
    FieldSpec("Ghichu"),
    FieldSpec("CCNS"),
    FieldSpec("NguoiThamGia"),
    FieldSpec("DanToc", "code", width=2),
    FieldSpec("QuocTich"),
    FieldSpec("DiachiDK_KS"),
)
_TK1_APPENDIX = FieldSpec(
    "PhuLuc",
    "group",
    children=(
        FieldSpec("Hoten_Chuho"),
        FieldSpec("DienThoai"),
        FieldSpec("SoGiayTo"),
        FieldSpec("LoaiGiayTo"),
        FieldSpec("MaTinh", "code", width=_PROVINCE),
        FieldSpec("MaHuyen", "code", width=_DISTRICT),
        FieldSpec("MaXa", "code", width=_COMMUNE),
        FieldSpec("MaThon"),
        FieldSpec("Maso_HoGiadinh"),
        FieldSpec("Diachi_HK"),
        _group("DSThanhVien", _TK1_MEMBER, required=False),
    ),
    note="the household appendix; builders write it empty, as the samples do",
)
_TK1_ROW = _rows(
    "LaoDong",
    FieldSpec("STT", "whole", fill="=#"),
    FieldSpec("HoTen", required=True, max_length=100),
    FieldSpec("NgaySinh", "birth", required=True),
    FieldSpec("GioiTinh", "flag", required=True),
    FieldSpec("QuocTich", required=True, fill="VN"),
    FieldSpec("DanToc", "code", width=2, note="ethnic group code (samples: 01)"),
    FieldSpec("Matinh_KS", "code", width=_PROVINCE),
    FieldSpec("Mahuyen_KS", "code", width=_DISTRICT),
    FieldSpec("Maxa_KS", "code", width=_COMMUNE),
    FieldSpec("Diachi_NN"),
    FieldSpec("Matinh_NN", "code", width=_PROVINCE),
    FieldSpec("Mahuyen_NN", "code", width=_DISTRICT),
    FieldSpec("Maxa_NN", "code", width=_COMMUNE),
    FieldSpec("Ten_ChaMe_Giamho"),
    FieldSpec("MasoBHXH", "digits", max_length=10),
    FieldSpec("Dienthoai_LH"),
    FieldSpec("CMND", max_length=20),
    FieldSpec("Maho_Giadinh"),
    FieldSpec("Mucdong", "amount", fill="0"),
    FieldSpec("Phuongthuc"),
    FieldSpec("MaTinhBenhVien", "code", width=_PROVINCE),
    FieldSpec("MaBenhVien"),
    FieldSpec("Noidung_Thaydoi"),
    FieldSpec("HosoKemtheo"),
    FieldSpec("CCNS", fill="0"),
    FieldSpec("ID", fill="=MasoBHXH"),
    FieldSpec("Diachi_KS"),
    FieldSpec("Email_LH"),
    _TK1_APPENDIX,
)

_TK1 = FormLayout(
    form="TK1-TS",
    top=(_group("NoiDung", _TK1_ROW), _CKY),
    row_path="NoiDung/LaoDong",
    source="5310101/ERS_EbhRemoteSigning TempHoSo/917f12ad-.../TK1-TS-595.xml; "
    "hoaivq/IVANGenXML ToKhai/TK1TS.cs (PhuLuc)",
)

# --- D01-TS: the list of documents backing a declaration (bảng kê thông tin) ------------
_D01_ROW = _rows(
    "ThongTin",
    FieldSpec("STT", "whole", fill="=#"),
    FieldSpec("HoTen", max_length=100),
    FieldSpec("MasoBHXH", "digits", max_length=10),
    FieldSpec("TenLoaiVanBan"),
    FieldSpec("SoVanBan"),
    FieldSpec(
        "NgayBanHanh",
        "datetime",
        required=True,
        note="a non-nullable DateTime in the model, so always written",
    ),
    FieldSpec("NgayHieuLuc", "datetime", required=True),
    FieldSpec("CoQuanBanHanh"),
    FieldSpec("TrichYeu"),
    FieldSpec("NoiDungThamDinh"),
)

_D01 = FormLayout(
    form="D01-TS",
    top=(
        _group(
            "NoiDung",
            FieldSpec("TenBangKe", fill="Bảng kê thông tin"),
            FieldSpec("KemTheo"),
            _group("BangKe", _D01_ROW),
        ),
        _CKY,
    ),
    row_path="NoiDung/BangKe/ThongTin",
    source="hoaivq/IVANGenXML ToKhai/D01TS.cs",
)

# --- D05-TS: people insured on their own (BHYT only, voluntary BHXH) -------------------
_D05_ROW = _rows(
    "LaoDong",
    FieldSpec("STT", "whole", fill="=#"),
    FieldSpec("HoTen", required=True, max_length=100),
    FieldSpec("MasoBHXH", "digits", max_length=10),
    FieldSpec("MucTien", "amount"),
    FieldSpec("Tuthang", "month", fill="=KyKeKhai"),
    FieldSpec("Sothang", "whole"),
    FieldSpec("Tongtien", "amount"),
    FieldSpec("TienTudong", "amount"),
    FieldSpec("TienHotro", "amount"),
    FieldSpec("Ghichu", max_length=500),
    FieldSpec("PA", "code", required=True, note="the document is silent; our choice: required"),
    FieldSpec("Tyle", "decimal"),
    FieldSpec("TyleNSNN", "decimal"),
    FieldSpec("Heso", "decimal"),
    FieldSpec("Phuongthuc"),
    FieldSpec("CCNS"),
    FieldSpec("ID", fill="=MasoBHXH"),
    FieldSpec("Loai"),
    FieldSpec("TyleNSDP", "decimal"),
    FieldSpec("TienNSDP", "amount"),
    FieldSpec("TyleHotroKhac", "decimal"),
    FieldSpec("TienHotroKhac", "amount"),
    FieldSpec("Matinh_DangSS", "code", width=_PROVINCE),
    FieldSpec("Mahuyen_DangSS", "code", width=_DISTRICT),
    FieldSpec("Maxa_DangSS", "code", width=_COMMUNE),
    FieldSpec("Diachi_DangSS"),
)

_D05 = FormLayout(
    form="D05-TS",
    top=(
        _group("ThongTinKhac", FieldSpec("SoSoBHXH", "whole", fill="0")),
        _group("NoiDung", _D05_ROW),
        _CKY,
    ),
    row_path="NoiDung/LaoDong",
    source="hoaivq/IVANGenXML ToKhai/D05TS.cs",
)

#: Form code -> the content model of its declaration file.
FORM_LAYOUTS: Mapping[str, FormLayout] = MappingProxyType(
    {layout.form: layout for layout in (_D02, _TK1, _D01, _D05)}
)


def _check() -> None:
    # A broken table is a programming error: fail at import, not in the middle of a run.
    for layout in FORM_LAYOUTS.values():
        if layout.top[-1].name != SIGNATURE_SLOT:
            raise AssertionError(f"{layout.form}: {SIGNATURE_SLOT} must be the last child")
        stack = list(layout.top)
        while stack:
            spec = stack.pop()
            names = spec.names
            if len(set(names)) != len(names):
                raise AssertionError(f"{layout.form}/{spec.name}: a child name twice")
            if spec.children and spec.kind != "group":
                raise AssertionError(f"{layout.form}/{spec.name}: children need kind group")
            stack.extend(spec.children)
        _ = layout.row  # the row path leads to a repeated element


_check()
