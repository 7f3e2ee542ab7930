"""Every refusal the sandbox gateway answers, in one place: (code, exact message).

Tests assert these texts. The form-fit and catalogue texts are the ones I-VANs return
("Thủ tục {X} thiếu tờ khai {Y}", "Code 1: Thông tin không map được theo danh mục"), a
required field left empty says what the VSS portal says ("Không được để trống"); the
others follow the same style and name the document, row, field, unit or certificate at
fault.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALREADY_REGISTERED",
    "BASE64_CONTENT",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_MST",
    "CERTIFICATE_NOT_REGISTERED",
    "CERTIFICATE_REVOKED",
    "CERTIFICATE_UNTRUSTED",
    "CONFLICT",
    "DECLARATION_DUPLICATE",
    "DECLARATION_NOT_TEXT",
    "DECLARATION_NO_ROWS",
    "DECLARATION_ORDER",
    "DECLARATION_REQUIRED",
    "DECLARATION_ROOT",
    "DECLARATION_UNKNOWN",
    "FIELD_MISSING",
    "FIELD_NOT_TEXT",
    "FILE_BASE64",
    "FILE_COUNT",
    "FILE_LENGTH",
    "FILE_TYPE",
    "FORM_CERTIFICATE",
    "FORM_CODE",
    "FORM_MISSING",
    "FORM_NOT_ALLOWED",
    "IVAN_MISMATCH",
    "IVAN_UNKNOWN",
    "PERIOD_FORMAT",
    "PERIOD_FUTURE",
    "ROOT",
    "SIGNATURE_INVALID",
    "SIGNING_TIME",
    "TAX_CODE_MISMATCH",
    "UNIT_MISMATCH",
    "UNIT_STOPPED",
    "UNIT_UNKNOWN",
    "UNKNOWN_PROCEDURE",
    "WRONG_KIND",
    "XML_UNSAFE",
    "Message",
    "Refusal",
]


@dataclass(frozen=True)
class Message:
    """A refusal code and its message template (``str.format`` fields)."""

    code: str
    template: str

    def __call__(self, **fields: object) -> Refusal:
        return Refusal(self.code, self.template.format(**fields))


class Refusal(Exception):
    """A dossier refused at receipt: the HTTP layer answers 422 with code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- the document as a whole ----------------------------------------------------------
XML_UNSAFE = Message("xml_unsafe", "Tệp {document} bị từ chối: {reason}")
BASE64_CONTENT = Message("content_base64", "content_base64 không phải base64 hợp lệ")
ROOT = Message("root", "Thẻ gốc của {document} phải là <{expected}>, nhận được <{actual}>")
FIELD_MISSING = Message("field_missing", "Tệp {document} thiếu trường bắt buộc {path}")
FIELD_NOT_TEXT = Message(
    "field_not_text", "Tệp {document}: trường {path} phải là văn bản, không được chứa thẻ <{child}>"
)
UNIT_MISMATCH = Message(
    "unit_mismatch", "MaSoBHXH trong {document} ({declared}) khác mã đơn vị gửi ({unit})"
)

# --- envelope files -------------------------------------------------------------------
FILE_COUNT = Message("file_count", "SoLuongFile ({declared}) khác số FileToKhai ({actual})")
FILE_BASE64 = Message("file_base64", "NoiDungFile của tệp {name} không phải base64 hợp lệ")
FILE_LENGTH = Message(
    "file_length", "DoDaiFile của tệp {name} ({declared}) khác độ dài NoiDungFile ({actual})"
)
FILE_TYPE = Message(
    "file_type", "LoaiFile của tệp {name} ({declared}) khác phần mở rộng của tên tệp ({actual})"
)
FORM_MISSING = Message("form_missing", "Thủ tục {procedure} thiếu tờ khai {form}")
FORM_NOT_ALLOWED = Message(
    "form_not_allowed", "Thủ tục {procedure} không cho phép nộp tờ khai {form}"
)
UNKNOWN_PROCEDURE = Message("catalogue", "Code 1: Thông tin không map được theo danh mục")
WRONG_KIND = Message(
    "wrong_kind", "Thủ tục {procedure} phải nộp với kind={expected}, nhận được kind={actual}"
)
DECLARATION_ROOT = Message(
    "declaration_root", "Tệp {name}: thẻ gốc <{actual}> khác MaToKhai {form}"
)
PERIOD_FORMAT = Message(
    "period_format", "KyKeKhai ({period}) của {document} không đúng định dạng MM/yyyy"
)
PERIOD_FUTURE = Message(
    "period_future", "KyKeKhai {period} của {document} là kỳ tương lai (tháng hiện tại {current})"
)

# --- declarations inside the envelope (their content model, from the catalogue) ------
DECLARATION_UNKNOWN = Message(
    "declaration_unknown_field", "Tệp {name}, {where}: thẻ <{field}> không có trong mẫu {form}"
)
DECLARATION_ORDER = Message(
    "declaration_field_order",
    "Tệp {name}, {where}: trường {field} sai thứ tự, phải đứng trước {before}",
)
DECLARATION_DUPLICATE = Message(
    "declaration_field_twice", "Tệp {name}, {where}: trường {field} xuất hiện hai lần"
)
DECLARATION_REQUIRED = Message(
    "declaration_field_required", "Tệp {name}, {where}: {field} Không được để trống"
)
DECLARATION_NO_ROWS = Message(
    "declaration_no_rows", "Tệp {name}: không có dòng dữ liệu nào ({path})"
)
DECLARATION_NOT_TEXT = Message(
    "declaration_field_not_text",
    "Tệp {name}, {where}: trường {field} phải là văn bản, không được chứa thẻ <{child}>",
)

# --- registration forms ---------------------------------------------------------------
FORM_CODE = Message("form_code", "MaToKhai {form} không khớp MaThuTuc {procedure}")
FORM_CERTIFICATE = Message(
    "form_certificate",
    "ChungThuSo/SERIAL ({declared}) khác số hiệu chứng thư số đã ký tờ khai ({actual})",
)
ALREADY_REGISTERED = Message("already_registered", "Đơn vị {unit} đã đăng ký giao dịch điện tử")

# --- the unit -------------------------------------------------------------------------
UNIT_UNKNOWN = Message("unit_unknown", "Đơn vị {unit} chưa đăng ký giao dịch điện tử")
IVAN_MISMATCH = Message(
    "ivan_mismatch",
    "Đơn vị {unit} đăng ký giao dịch điện tử qua I-VAN {registered}, không phải I-VAN "
    "{declared} ghi trong {document}",
)
IVAN_UNKNOWN = Message("ivan_unknown", "Mã I-VAN {code} trong {document} không có trong danh mục")
UNIT_STOPPED = Message("unit_stopped", "Đơn vị {unit} đã ngừng giao dịch điện tử")
TAX_CODE_MISMATCH = Message(
    "tax_code_mismatch",
    "MaSoThue trong {document} ({declared}) khác mã số thuế đã đăng ký của đơn vị {unit} "
    "({registered})",
)

# --- signatures and certificates ------------------------------------------------------
SIGNATURE_INVALID = Message("signature_invalid", "Chữ ký số của {document} không hợp lệ: {reason}")
CERTIFICATE_REVOKED = Message(
    "certificate_revoked", "Chứng thư số ký {document} đã bị thu hồi (serial {serial})"
)
CERTIFICATE_EXPIRED = Message(
    "certificate_expired",
    "Chứng thư số ký {document} không có hiệu lực tại thời điểm tiếp nhận {at} (serial {serial})",
)
CERTIFICATE_UNTRUSTED = Message(
    "certificate_untrusted",
    "Chứng thư số ký {document} không được cấp bởi CA tin cậy (serial {serial})",
)
SIGNING_TIME = Message(
    "signing_time", "SigningTime của {document} ({at}) nằm ngoài khoảng cho phép"
)
CERTIFICATE_MST = Message(
    "certificate_mst",
    "MST trong chứng thư số ký {document} ({certificate}) khác MaSoThue ({declared})",
)
CERTIFICATE_NOT_REGISTERED = Message(
    "certificate_not_registered",
    "Đơn vị {unit}: chứng thư số chưa đăng ký (serial {serial}, ký {document})",
)

# --- idempotency ----------------------------------------------------------------------
CONFLICT = Message(
    "idempotency_conflict",
    "Hồ sơ {dossier_id} đã được nhận với nội dung khác (sha256 {first}); "
    "dùng mã hồ sơ mới cho nội dung mới",
)
