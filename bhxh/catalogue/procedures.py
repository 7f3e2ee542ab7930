"""The procedure catalogue as data: procedures (mã thủ tục), forms (tờ khai), PA codes.

Everything here is plain data in tables; a new procedure or form is one more row. The
content of each declaration file (its elements in order, which are required, how values
are written) is data too: :data:`FORM_LAYOUTS`, defined in :mod:`bhxh.catalogue` and exposed
here. The sandbox gateway imports this module as data, so it stays standard-library only.

Terms: ``MaThuTuc`` procedure code, ``MaToKhai`` form code, ``MoTaToKhai`` a form's
description in the envelope, ``PA`` (phương án) the action of a D02-TS row, ``CT-DK`` the
pseudo form code of attachments (chứng từ kèm theo).

Sources: the project's domain notes (public vendor guides). Where a row is inferred or
unconfirmed, its ``note`` says so:

* 601 (back-payment): forms D02-TS / D01-TS are inferred.
* 604 (register or change the unit's contribution details): the forms are not confirmed in
  public material; this catalogue allows D02-TS, D01-TS and CT-DK and requires none (a
  dossier must still hold at least one declaration).

Example:
    >>> get_procedure("600").required_forms
    frozenset({'D02-TS'})
    >>> get_procedure("05").approvals
    1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from bhxh.catalogue.layouts import FORM_LAYOUTS, SIGNATURE_SLOT, FieldKind, FieldSpec, FormLayout
from bhxh.errors import DossierInvalid

__all__ = [
    "ATTACHMENT_FORM",
    "FORMS",
    "FORM_LAYOUTS",
    "PA_CODES",
    "PROCEDURES",
    "SIGNATURE_SLOT",
    "FieldKind",
    "FieldSpec",
    "Form",
    "FormLayout",
    "Procedure",
    "ProcedureKind",
    "form_description",
    "form_filename",
    "form_layout",
    "form_of_filename",
    "get_procedure",
    "row_field_names",
]

#: The form code under which attachments appear in an envelope.
ATTACHMENT_FORM = "CT-DK"

ProcedureKind = Literal["business", "registration"]

# Most declaration files carry the legal basis as a suffix (QĐ 595/QĐ-BHXH).
_SUFFIX_595 = "-595.xml"


@dataclass(frozen=True)
class Form:
    """One form (tờ khai) code with its envelope description and its file name."""

    code: str  # MaToKhai
    description: str  # MoTaToKhai
    filename: str  # the file name a declaration of this form carries ("" for CT-DK)


@dataclass(frozen=True)
class Procedure:
    """One procedure (thủ tục): which forms it needs and how many approvals it costs.

    ``approvals`` is the number of phone confirmations when signing dossier by dossier:
    2 for business dossiers (declarations, then the envelope that embeds them), 1 for the
    register / change / stop forms, which are their own envelope.
    """

    code: str  # MaThuTuc
    name: str  # TenThuTuc
    required_forms: frozenset[str]
    allowed_forms: frozenset[str]  # always a superset of required_forms
    approvals: int
    kind: ProcedureKind
    note: str = ""

    @property
    def allows_attachments(self) -> bool:
        return ATTACHMENT_FORM in self.allowed_forms


def _f(*codes: str) -> frozenset[str]:
    return frozenset(codes)


_FORM_ROWS: tuple[Form, ...] = (
    Form(
        "D02-TS",
        "Báo cáo tình hình sử dụng lao động và danh sách người lao động tham gia BHXH, "
        "BHYT, BHTN, BHTNLĐ-BNN",
        "D02-TS" + _SUFFIX_595,
    ),
    Form("TK1-TS", "Tờ khai tham gia, điều chỉnh thông tin BHXH, BHYT", "TK1-TS" + _SUFFIX_595),
    Form("D01-TS", "Bảng kê thông tin", "D01-TS" + _SUFFIX_595),
    Form(
        "D05-TS",
        "Danh sách người chỉ tham gia BHYT, BHXH tự nguyện",
        "D05-TS" + _SUFFIX_595,
    ),
    Form(
        "M01B-HSB",
        "Danh sách đề nghị giải quyết hưởng chế độ ốm đau, thai sản, dưỡng sức phục hồi sức khỏe",
        "M01B-HSB.xml",
    ),
    Form(
        "04_DK-IVAN",
        "Tờ khai đăng ký sử dụng phương thức giao dịch điện tử trong lĩnh vực BHXH, BHYT, BHTN",
        "04_DK-IVAN.xml",
    ),
    Form(
        "05_SD-IVAN",
        "Tờ khai thay đổi, bổ sung thông tin đăng ký giao dịch điện tử trong lĩnh vực BHXH, "
        "BHYT, BHTN",
        "05_SD-IVAN.xml",
    ),
    Form(
        "06_NG-IVAN",
        "Tờ khai đăng ký ngừng giao dịch điện tử trong lĩnh vực BHXH, BHYT, BHTN",
        "06_NG-IVAN.xml",
    ),
    Form(ATTACHMENT_FORM, "Chứng từ kèm theo", ""),
)

_SICKNESS_NAME = "Giải quyết hưởng chế độ ốm đau, thai sản, dưỡng sức phục hồi sức khỏe"

_PROCEDURE_ROWS: tuple[Procedure, ...] = (
    Procedure(
        "600",
        "Đăng ký, điều chỉnh đóng BHXH, BHYT, BHTN, BHTNLĐ-BNN (báo tăng, báo giảm)",
        required_forms=_f("D02-TS"),
        allowed_forms=_f("D02-TS", "TK1-TS", "D01-TS", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
    ),
    Procedure(
        "601",
        "Truy đóng BHXH, BHYT, BHTN, BHTNLĐ-BNN",
        required_forms=_f("D02-TS"),
        allowed_forms=_f("D02-TS", "D01-TS", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
        note="forms inferred (D02-TS, D01-TS)",
    ),
    Procedure(
        "602",
        "Đăng ký, đăng ký lại, điều chỉnh đóng BHXH tự nguyện",
        required_forms=_f("D05-TS", "TK1-TS"),
        allowed_forms=_f("D05-TS", "TK1-TS", "D01-TS", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
    ),
    Procedure(
        "603",
        "Đăng ký đóng, cấp thẻ BHYT đối với người chỉ tham gia BHYT",
        required_forms=_f("D05-TS"),
        allowed_forms=_f("D05-TS", "TK1-TS", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
    ),
    Procedure(
        "604",
        "Đăng ký, điều chỉnh thông tin đóng BHXH, BHYT, BHTN của đơn vị",
        required_forms=_f(),
        allowed_forms=_f("D02-TS", "D01-TS", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
        note="forms unconfirmed: D02-TS, D01-TS, CT-DK allowed by choice",
    ),
    Procedure(
        "630",
        _SICKNESS_NAME,
        required_forms=_f("M01B-HSB"),
        allowed_forms=_f("M01B-HSB", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
    ),
    Procedure(
        "630a",
        "Giải quyết hưởng chế độ ốm đau",
        required_forms=_f("M01B-HSB"),
        allowed_forms=_f("M01B-HSB", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
    ),
    Procedure(
        "630b",
        "Giải quyết hưởng chế độ thai sản",
        required_forms=_f("M01B-HSB"),
        allowed_forms=_f("M01B-HSB", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
    ),
    Procedure(
        "630c",
        "Giải quyết hưởng chế độ dưỡng sức phục hồi sức khỏe",
        required_forms=_f("M01B-HSB"),
        allowed_forms=_f("M01B-HSB", ATTACHMENT_FORM),
        approvals=2,
        kind="business",
    ),
    Procedure(
        "04",
        "Đăng ký sử dụng phương thức giao dịch điện tử",
        required_forms=_f("04_DK-IVAN"),
        allowed_forms=_f("04_DK-IVAN"),
        approvals=1,
        kind="registration",
    ),
    Procedure(
        "05",
        "Thay đổi, bổ sung thông tin đăng ký giao dịch điện tử",
        required_forms=_f("05_SD-IVAN"),
        allowed_forms=_f("05_SD-IVAN"),
        approvals=1,
        kind="registration",
    ),
    Procedure(
        "06",
        "Đăng ký ngừng giao dịch điện tử",
        required_forms=_f("06_NG-IVAN"),
        allowed_forms=_f("06_NG-IVAN"),
        approvals=1,
        kind="registration",
    ),
)

#: Procedure code -> procedure, in catalogue order.
PROCEDURES: Mapping[str, Procedure] = MappingProxyType({p.code: p for p in _PROCEDURE_ROWS})

#: Form code -> form.
FORMS: Mapping[str, Form] = MappingProxyType({f.code: f for f in _FORM_ROWS})

#: D02-TS ``PA`` codes (phương án) and what they mean.
PA_CODES: Mapping[str, str] = MappingProxyType(
    {
        "TM": "Tăng mới (người lao động mới, chưa có sổ BHXH)",
        "TD": "Tăng do chuyển đến từ đơn vị khác (đã có sổ BHXH)",
        "TC": "Tăng do chuyển tỉnh, chuyển cơ quan quản lý (đã có sổ BHXH)",
        "DC": "Điều chỉnh mức đóng (tiền lương, phụ cấp, chức vụ)",
        "GH": "Giảm hẳn (nghỉ việc, chấm dứt hợp đồng)",
        "KL": "Nghỉ không lương",
        "OF": "Nghỉ ốm",
        "TS": "Nghỉ thai sản",
    }
)


def _check_table() -> None:
    # A broken row is a programming error: fail at import, not in the middle of a run.
    for p in _PROCEDURE_ROWS:
        if not p.required_forms <= p.allowed_forms:
            raise AssertionError(f"procedure {p.code}: required forms not all allowed")
        unknown = p.allowed_forms - FORMS.keys()
        if unknown:
            raise AssertionError(f"procedure {p.code}: unknown forms {sorted(unknown)}")
    if len(PROCEDURES) != len(_PROCEDURE_ROWS):
        raise AssertionError("duplicate procedure code")
    unknown_layouts = FORM_LAYOUTS.keys() - FORMS.keys()
    if unknown_layouts:
        raise AssertionError(f"layouts of unknown forms {sorted(unknown_layouts)}")


_check_table()


def get_procedure(code: str) -> Procedure:
    """The procedure with this code.

    Raises:
        DossierInvalid: the code is not in the catalogue (the message lists known codes).
    """
    try:
        return PROCEDURES[code]
    except KeyError:
        known = ", ".join(PROCEDURES)
        raise DossierInvalid(
            f"unknown procedure (MaThuTuc) {code!r}; known procedures: {known}"
        ) from None


def form_description(form: str) -> str:
    """The ``MoTaToKhai`` of a form code, or the code itself when the form is unknown."""
    known = FORMS.get(form)
    return known.description if known else form


def form_filename(form: str) -> str:
    """The file name a declaration of this form carries (``D02-TS`` -> ``D02-TS-595.xml``)."""
    known = FORMS.get(form)
    if known and known.filename:
        return known.filename
    return form + _SUFFIX_595


def form_of_filename(filename: str) -> str | None:
    """The form code a declaration file name stands for, or None if it follows no convention.

    ``D02-TS-595.xml`` -> ``D02-TS`` (any ``<FORM>-595.xml``, known or not, so validation
    can name an unexpected form); ``M01B-HSB.xml`` -> ``M01B-HSB``.
    """
    for f in _FORM_ROWS:
        if f.filename and f.filename == filename:
            return f.code
    if filename.endswith(_SUFFIX_595) and len(filename) > len(_SUFFIX_595):
        return filename[: -len(_SUFFIX_595)]
    return None


def form_layout(form: str) -> FormLayout | None:
    """The content model of a form's declaration file, or None for forms without one here
    (M01B-HSB, the 04/05/06 forms, which are envelopes).

    Example:
        >>> form_layout("TK1-TS").top_names
        ('NoiDung', 'Cky')
    """
    return FORM_LAYOUTS.get(form)


def row_field_names(form: str) -> tuple[str, ...]:
    """The fields of one row of ``form``, in wire order (``D02-TS``: ``STT, HoTen, ...``).

    Raises:
        DossierInvalid: the form has no layout in the catalogue.
    """
    layout = FORM_LAYOUTS.get(form)
    if layout is None:
        known = ", ".join(FORM_LAYOUTS)
        raise DossierInvalid(f"form {form!r} has no row layout; forms with one: {known}")
    return layout.row_names
