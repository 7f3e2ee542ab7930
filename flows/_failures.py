"""Failures a person can act on: one sentence in Vietnamese and English, no traceback.

An expected failure (bad input, no certificate chosen, a certificate no longer usable,
the provider or the phone refusing, VSS refusing, an unknown unit) ends the flow run
with a ``Failed`` state whose message starts with that sentence, the same sentence and
what to do next in an artifact, and one ERROR log line; the exception itself is the
state's data, so a Python caller still gets it raised. Anything else is "unexpected":
the same shape, its traceback logged at DEBUG only.

Prefect would otherwise make the state message "Flow run encountered an exception:
<Type>: <message>" and log the traceback at ERROR (``prefect.states
.exception_to_failed_state``); a flow that *returns* a ``Failed`` state ends with that
state as given (``prefect.states.return_value_to_state``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from prefect.artifacts import acreate_markdown_artifact
from prefect.exceptions import FlowPauseTimeout, MissingContextError
from prefect.logging import get_logger, get_run_logger
from prefect.states import Cancelled, Completed, Failed

from bhxh.errors import (
    AttachmentInvalid,
    BhxhError,
    DossierInvalid,
    StampFontMissing,
    SubmissionError,
    UnsafeXml,
)
from bhxh.roster import CompanyInvalid
from bhxh.submission import GatewayAuthFailed, GatewayUnavailable, SubmissionRefused
from blocks.carriers import UnknownCarrier
from blocks.providers import UnknownProvider
from esign.errors import (
    AuthenticationFailed,
    CertificateNotFound,
    ESignError,
    ProviderError,
    SigningBlocked,
    TransportError,
    TwoFactorRequired,
)
from flows._artifacts import artifact_key, text
from flows.errors import (
    CertificateNotChosen,
    CertificateUnusable,
    HrFilesRefused,
    NoticesRefused,
    PeriodInvalid,
    SigningStopped,
    StoppedByOperator,
    UnitNotFound,
    UnitsFailed,
    VssRefused,
)

__all__ = ["Explanation", "RunScope", "explain", "failed_state", "run_explained"]

T = TypeVar("T")


@dataclass(frozen=True)
class Explanation:
    """What went wrong, for a person: a headline in both languages and what to do."""

    vi: str
    en: str
    todo_vi: str
    todo_en: str
    detail: str
    expected: bool = True

    def headline(self, unit: str | None = None) -> str:
        where = f"{unit}: " if unit else ""
        return f"{where}{self.vi} / {self.en}."

    def message(self, unit: str | None = None) -> str:
        """The state message: the headline first, then the details that name the dossier,
        file and field."""
        return f"{self.headline(unit)} {self.detail}".strip()


# (exception type, vi, en, what to do vi, what to do en), most specific first.
_KINDS: tuple[tuple[type[BaseException], str, str, str, str], ...] = (
    (
        CompanyInvalid,
        "Chưa thêm được đơn vị",
        "the company was not added",
        "Sửa giá trị đã nhập rồi chạy lại",
        "fix the value given, then run again",
    ),
    (
        PeriodInvalid,
        "Kỳ kê khai không hợp lệ",
        "the period is not valid",
        "Chạy lại với kỳ dạng MM/yyyy",
        "run again with a period MM/yyyy",
    ),
    (
        UnitNotFound,
        "Không tìm thấy đơn vị",
        "unit not found",
        "Chọn một đơn vị đã lưu (Blocks > BHXH Unit)",
        "choose a saved unit (Blocks > BHXH Unit)",
    ),
    (
        UnknownProvider,
        "Nhà cung cấp ký số không được hỗ trợ",
        "the signing provider is not supported",
        "Sửa trường provider của khối đơn vị",
        "fix the provider field of the unit block",
    ),
    (
        UnknownCarrier,
        "Tuyến nộp hồ sơ của đơn vị không được hỗ trợ",
        "the unit's carrier (route) is not supported",
        "Sửa trường route của khối đơn vị",
        "fix the route field of the unit block",
    ),
    (
        AttachmentInvalid,
        "Tệp đính kèm bị từ chối trước khi ký, chưa ký gì",
        "an attachment was refused before signing; nothing was signed",
        "Sửa hoặc thay tệp trong thư mục hồ sơ (inbox) rồi chạy lại",
        "fix or replace the file in the dossier folder (inbox), then run again",
    ),
    (
        NoticesRefused,
        "Có thông báo C12-TS bị từ chối, chưa ghi gì cho đơn vị đó",
        "a C12-TS notice was refused; nothing was written for its unit",
        "Sửa hoặc thay tệp C12-TS trong thư mục c12 của kỳ, rồi chạy lại reconcile_contributions",
        "fix or replace the C12-TS file in the period's c12 folder, then run "
        "reconcile_contributions again",
    ),
    (
        HrFilesRefused,
        "Có tệp nhân sự bị từ chối, chưa lập hồ sơ từ tệp đó",
        "an HR file was refused; no dossier was built from it",
        "Sửa ô được nêu trong tệp rồi chạy lại build_dossiers",
        "fix the named cell in the file, then run build_dossiers again",
    ),
    (
        DossierInvalid,
        "Hồ sơ bị từ chối trước khi ký, chưa ký gì",
        "dossiers were refused before signing; nothing was signed",
        "Sửa tệp trong thư mục hồ sơ (inbox) rồi chạy lại",
        "fix the file in the dossier folder (inbox), then run again",
    ),
    (
        UnsafeXml,
        "Tệp XML không an toàn hoặc hỏng, chưa ký gì",
        "an XML file is unsafe or damaged; nothing was signed",
        "Xuất lại tệp từ phần mềm đã tạo ra nó rồi chạy lại",
        "export the file again from the software that made it, then run again",
    ),
    (
        CertificateNotChosen,
        "Đơn vị chưa chọn chứng thư số",
        "no certificate has been chosen for the unit",
        "Chạy setup_remote_signing (deployment setup) cho đơn vị này",
        "run setup_remote_signing (deployment setup) for this unit",
    ),
    (
        CertificateUnusable,
        "Chứng thư số đã chọn không còn dùng được (hết hạn, tạm dừng hoặc không còn)",
        "the chosen certificate can no longer be used (expired, paused or gone)",
        "Chạy lại setup_remote_signing để chọn chứng thư khác",
        "run setup_remote_signing again to choose another certificate",
    ),
    (
        CertificateNotFound,
        "Không có chứng thư số phù hợp",
        "no fitting certificate",
        "Kiểm tra danh sách bên dưới; mua hoặc gia hạn chứng thư cho mã số thuế này",
        "check the list below; buy or renew a certificate for this tax code",
    ),
    (
        TwoFactorRequired,
        "Nhà cung cấp ký số cần mã OTP mà lượt chạy tự động không nhập được",
        "the provider asks for a one-time code that an unattended run cannot type",
        "Chạy bằng tay từ giao diện Prefect để nhập mã",
        "start the run by hand from the Prefect UI to type the code",
    ),
    (
        AuthenticationFailed,
        "Nhà cung cấp ký số từ chối đăng nhập",
        "the signing provider refused the log-in",
        "Kiểm tra tài khoản và mật khẩu trong khối thông tin đăng nhập",
        "check the account and password in the credentials block",
    ),
    (
        TransportError,
        "Không kết nối được nhà cung cấp ký số",
        "the signing provider could not be reached",
        "Chạy lại sau; mọi việc đã làm được giữ lại",
        "run again later; everything done so far is kept",
    ),
    (
        SigningBlocked,
        "Nhà cung cấp ký số không ký cho đơn vị này, hỏi lại điện thoại cũng không được",
        "the signing provider will not sign for this unit; asking the phone again cannot help",
        "Làm theo câu của nhà cung cấp bên dưới rồi chạy lại; mọi việc đã làm được giữ lại",
        "do what the provider's sentence below says, then run again; everything done is kept",
    ),
    (
        ProviderError,
        "Nhà cung cấp ký số báo lỗi",
        "the signing provider refused",
        "Đọc lỗi bên dưới; chạy lại khi đã khắc phục",
        "read the error below; run again once it is fixed",
    ),
    (
        StoppedByOperator,
        "Người dùng đã chọn dừng; mọi việc đã làm được giữ lại",
        "stopped by the operator; everything done so far is kept",
        "Chạy lại khi muốn tiếp tục; không hồ sơ nào bị ký hay nộp hai lần",
        "run again to continue; nothing is signed or submitted twice",
    ),
    (
        SigningStopped,
        "Yêu cầu ký chưa được duyệt trên điện thoại",
        "the signing request was not approved on the phone",
        "Chạy lại; mọi việc đã làm được giữ lại, không hồ sơ nào bị ký hay nộp hai lần",
        "run again; everything done so far is kept, nothing is signed or submitted twice",
    ),
    (
        FlowPauseTimeout,
        "Không ai trả lời câu hỏi trước hạn",
        "nobody answered the question in time",
        "Chạy lại; mọi việc đã làm được giữ lại",
        "run again; everything done so far is kept",
    ),
    (
        GatewayAuthFailed,
        "Cổng tiếp nhận BHXH từ chối khóa API",
        "the VSS gateway refused the API key",
        "Kiểm tra khóa API trong khối BhxhGatewayCredentials",
        "check the API key in the BhxhGatewayCredentials block",
    ),
    (
        GatewayUnavailable,
        "Không kết nối được cổng tiếp nhận BHXH",
        "the VSS gateway could not be reached",
        "Chạy lại sau; hồ sơ đã nộp không bị nộp lại",
        "run again later; nothing already submitted is submitted again",
    ),
    (
        SubmissionRefused,
        "BHXH từ chối hồ sơ",
        "VSS refused the dossier",
        "Sửa theo lời BHXH bên dưới rồi chạy lại",
        "fix what VSS says below, then run again",
    ),
    (
        VssRefused,
        "BHXH từ chối hồ sơ",
        "VSS refused",
        "Sửa theo lời BHXH bên dưới rồi chạy lại",
        "fix what VSS says below, then run again",
    ),
    (
        SubmissionError,
        "Cổng tiếp nhận BHXH báo lỗi",
        "the VSS gateway refused",
        "Đọc lỗi bên dưới; chạy lại khi đã khắc phục",
        "read the error below; run again once it is fixed",
    ),
    (
        UnitsFailed,
        "Có đơn vị chưa xong",
        "some units did not finish",
        "Xem từng đơn vị bên dưới; chạy sign_and_submit bằng tay cho đơn vị đó",
        "see each unit below; run sign_and_submit by hand for that unit",
    ),
    (
        StampFontMissing,
        "Thiếu phông chữ của dấu chữ ký",
        "the signature stamp's font is missing",
        "Cài gói fonts-dejavu-core hoặc đặt BHXH_STAMP_FONT",
        "install fonts-dejavu-core or set BHXH_STAMP_FONT",
    ),
)


def explain(exc: BaseException) -> Explanation:
    """What a person reads about ``exc``."""
    detail = str(exc).strip()
    for kind, vi, en, todo_vi, todo_en in _KINDS:
        if isinstance(exc, kind):
            return Explanation(vi, en, todo_vi, todo_en, detail)
    # A domain error not listed above still carries words meant for people.
    if isinstance(exc, BhxhError | ESignError):
        return Explanation(
            "Lỗi khi xử lý hồ sơ",
            "the dossiers could not be processed",
            "Đọc lỗi bên dưới",
            "read the error below",
            detail,
        )
    return Explanation(
        "Lỗi không mong đợi",
        "unexpected error",
        "Báo cho người quản trị; chi tiết kỹ thuật ở mức log DEBUG",
        "tell the administrator; the technical details are in the DEBUG log",
        f"{type(exc).__name__}: {detail}",
        expected=False,
    )


@dataclass
class RunScope:
    """What a flow run is about, filled in as it learns it (for the failure's words)."""

    flow: str
    unit_code: str | None = None
    unit_name: str | None = None


def _logger() -> Any:
    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("flows")


async def failed_state(exc: BaseException, scope: RunScope) -> Any:
    """Log, publish and return the ``Failed`` state for ``exc`` (its data is ``exc``)."""
    why = explain(exc)
    logger = _logger()
    message = why.message(scope.unit_code)
    logger.error("%s", message)
    if not why.expected:
        logger.debug("Chi tiết / traceback", exc_info=exc)
    who = scope.unit_name or scope.unit_code
    title = f" ({text(who)})" if who else ""
    markdown = (
        f"## Lượt chạy dừng lại / The run stopped{title}\n\n"
        f"**{text(why.vi)}** / {text(why.en)}.\n\n"
        f"{text(why.detail)}\n\n"
        f"**Việc cần làm / what to do:** {text(why.todo_vi)} / "
        f"{text(why.todo_en)}.\n"
    )
    try:
        await acreate_markdown_artifact(
            markdown=markdown,
            key=artifact_key("loi", "error", scope.unit_code or scope.flow),
            description=f"Lỗi / error: {why.headline(scope.unit_code)}",
        )
    except Exception:  # the failure is reported in the log and the state anyway
        logger.debug("the failure artifact could not be written", exc_info=True)
    if isinstance(exc, StoppedByOperator):
        # A person's choice, not a failure: the run ends Cancelled (its data the reason).
        return Cancelled(message=message, data=exc)
    return Failed(message=message, data=exc)


async def run_explained(
    scope: RunScope,
    body: Callable[[], Awaitable[T]],
    outcome: Callable[[T], str] | None = None,
) -> T:
    """``await body()``; on a failure, the run's ``Failed`` state in its place; on success,
    with ``outcome``, a ``Completed`` state whose message is ``outcome(result)`` (the run's
    header shows it) and whose data is the result.

    Prefect ends the flow run with a returned state as it is, returns its data to a Python
    caller (or raises it, for a failure); the type checker is told the body's type.
    """
    try:
        result = await body()
    except Exception as exc:
        return cast(T, await failed_state(exc, scope))
    if outcome is None:
        return result
    try:
        message = outcome(result)
    except Exception:  # the words are a courtesy: the result stands without them
        _logger().debug("no outcome sentence for %s", scope.flow, exc_info=True)
        return result
    return cast(T, Completed(message=message, data=result))
