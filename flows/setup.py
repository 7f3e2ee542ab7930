"""setup_remote_signing: choose a unit's remote certificate; register it with VSS (04 / 05)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from prefect import flow
from prefect.logging import get_run_logger

from bhxh.documents import build_registration_form, certificate_info
from bhxh.errors import SubmissionError
from bhxh.periods import today_vn
from bhxh.pipeline import DossierView
from bhxh.settings import Settings
from esign.errors import CertificateNotFound
from esign.models import Certificate
from flows._artifacts import artifact_key, publish_markdown, status_label, text
from flows._failures import RunScope, run_explained
from flows._forms import (
    ATTENDED_LABELS,
    AttendedChoice,
    CertificateSerial,
    ConfirmWait,
    UnitChoice,
    attended_mode,
    default_period,
    resolve_unit,
)
from flows._naming import name_this_run
from flows._outcomes import setup_outcome
from flows._pauses import (
    REGISTRATION_CHOICES,
    Question,
    RegistrationAnswer,
    ask,
    certificate_choice,
    certificate_labels,
)
from flows._run import UnitRun, is_interactive, login
from flows._signing import sign_round
from flows.errors import VssRefused
from tasks.dossiers import (
    open_registration_dossier,
    read_dossier_status,
    read_registration,
    submit_dossiers,
)
from tasks.session import open_unit_session
from tasks.signing import list_certificates, resolve_certificate

__all__ = ["SetupResult", "setup_remote_signing"]


@dataclass(frozen=True)
class SetupResult:
    """What setup did (no secrets)."""

    unit: str
    certificate_serial: str
    certificate_alias: str
    registration_state: str
    registration_dossier: str | None = None


async def _choose(
    run: UnitRun, fitting: tuple[Certificate, ...], requested: str | None
) -> Certificate:
    unit = run.unit
    listing = "\n".join(f"- `{c.serial}`: {text(c.describe())}" for c in fitting)
    if requested:
        for cert in fitting:
            if cert.serial.upper() == requested.upper():
                return cert
        raise CertificateNotFound(
            f"Đơn vị {unit.unit_code}: chứng thư {requested} không nằm trong các chứng thư dùng "
            f"được / certificate {requested} is not among the usable ones:\n" + listing
        )
    if len(fitting) == 1:
        return fitting[0]
    if not run.interactive:
        raise CertificateNotFound(
            f"Đơn vị {unit.unit_code}: {len(fitting)} chứng thư số hợp với mã số thuế "
            f"{unit.tax_code}, cần người chọn / {len(fitting)} certificates fit tax code "
            f"{unit.tax_code}; choose one (run by hand from the Prefect UI, or pass "
            "certificate_serial):\n" + listing
        )
    question = Question(
        "chọn chứng thư số để ký",
        "choose the certificate to sign with",
        f"**{text(unit.name)}** ({unit.unit_code}): có {len(fitting)} chứng thư số mang mã "
        f"số thuế {unit.tax_code} / {len(fitting)} certificates carry MST {unit.tax_code}. "
        f"Chọn một / choose one:\n\n{listing}",
        unit.unit_code,
    )
    answer: Any = await ask(
        question,
        certificate_choice(fitting, unit.certificate_serial or ""),
        key="certificate",
        settings=run.settings,
        release_worker=run.release_worker,
    )
    chosen: str = certificate_labels(fitting, unit.certificate_serial or "").get(
        answer.serial, answer.serial
    )
    return next(c for c in fitting if c.serial == chosen)


def _form_for(run: UnitRun, serial: str) -> DossierView | None:
    """The latest 04/05 naming this certificate handed over by an earlier run, if any."""
    found = [
        view
        for view in run.session.pipeline.unit_views(run.unit.unit_code)
        if view.procedure in {"04", "05"}
        and view.handed_over
        and (view.certificate_serial or "").upper() == serial.upper()
    ]
    return found[-1] if found else None


async def _wait_for_registration(
    run: UnitRun, serial: str, seconds: float, form: DossierView | None
) -> Literal["registered", "change_pending"]:
    """Read the registration until the new certificate is registered or ``seconds`` pass.

    When the carrier cannot read registrations, the form's own status is read instead
    (the result it journals is what local tracking goes by).
    """
    deadline = asyncio.get_running_loop().time() + seconds
    delay = 0.5
    local = not run.session.port.capabilities.registration_read
    while True:
        if local and form is not None:
            await read_dossier_status(run.session, form)
        registration = await read_registration(run.session)
        if registration.state == "registered" and registration.serial == serial.upper():
            return "registered"
        if asyncio.get_running_loop().time() >= deadline:
            return "change_pending"
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)


async def _form_when_unknown(run: UnitRun, cert: Certificate) -> str:
    """04 or 05 (or nothing) when neither the carrier nor the dossiers tell: ask a person."""
    unit = run.unit
    question_text = (
        f"Không biết {unit.name} ({unit.unit_code}) đã đăng ký giao dịch điện tử với BHXH "
        "bằng chứng thư nào: I-VAN của đơn vị không cho đọc thông tin này / the unit's I-VAN "
        "cannot tell which certificate VSS has on file"
    )
    if not run.interactive:
        raise SubmissionError(
            f"{question_text}. Ghi registration_state (registered, stopped) và "
            "registered_serial vào khối BhxhUnit, hoặc chạy setup bằng tay để chọn tờ khai "
            "04/05 / record registration_state and registered_serial in the unit block, or "
            "run setup by hand to choose the 04 or 05 form."
        )
    question = Question(
        "chọn tờ khai cần nộp (04 hay 05)",
        "choose the form to submit (04 or 05)",
        f"**{text(question_text)}.**\n\nChứng thư mới / new certificate: {text(cert.describe())}",
        unit.unit_code,
    )
    answer = await ask(
        question,
        RegistrationAnswer,
        key="registration-form",
        settings=run.settings,
        release_worker=run.release_worker,
    )
    return REGISTRATION_CHOICES[answer.form]


_REGISTRATION_WORDS: Mapping[str, str] = {
    "registered": "đã đăng ký với chứng thư này / registered with this certificate",
    "change_pending": "BHXH đang xử lý tờ khai thay đổi / the change is with VSS",
    "stopped": "đã dừng / stopped",
    "unknown": "chưa rõ / unknown",
}


async def _publish_setup(run: UnitRun, result: SetupResult) -> None:
    unit, cert = run.unit, run.certificate
    state = _REGISTRATION_WORDS.get(result.registration_state, result.registration_state)
    form = (
        f"- Tờ khai / form: hồ sơ `{result.registration_dossier}` đã nộp / dossier "
        f"`{result.registration_dossier}` submitted\n"
        if result.registration_dossier
        else "- Tờ khai / form: không cần nộp / none needed\n"
    )
    await publish_markdown(
        f"## Thiết lập ký số từ xa / Remote-signing setup: {text(unit.name)} "
        f"({unit.unit_code})\n\n"
        f"- Chứng thư số / certificate: {text(cert.describe() if cert else '-')}\n"
        f"{form}"
        f"- Đăng ký tại BHXH / registration at VSS: **{state}**\n",
        artifact_key("thiet-lap", "setup", unit.unit_code),
        f"Thiết lập / setup {unit.unit_code}: {state}",
    )
    get_run_logger().info(
        "%s: ký bằng / signs with %s; BHXH / VSS: %s",
        unit.unit_code,
        cert.describe() if cert else "-",
        state,
    )


@flow(name="setup_remote_signing", validate_parameters=False)
async def setup_remote_signing(
    unit_block: UnitChoice,
    certificate_serial: CertificateSerial = "",
    interactive: AttendedChoice = ATTENDED_LABELS[None],
    confirm_wait_seconds: ConfirmWait = 30,
) -> SetupResult:
    """Thiết lập ký số từ xa cho một đơn vị, hoặc đổi chứng thư / set a unit up for remote
    signing, or change its certificate ("Thay đổi").

    Logs in to the provider (a one-time code is asked in a manual run), keeps the active,
    currently valid certificates whose UID=MST: is the unit's tax code, uses the one that
    fits (asks a person when several do; fails listing them in an unattended run) and
    saves the choice in the unit block. If VSS has another certificate on file (a USB
    token, say), builds the 05 change form, signs it (one approval) and submits it; an
    unregistered unit gets the 04 form instead. The unit stays change_pending until the
    gateway confirms.

    Args:
        unit_block: Đơn vị cần thiết lập: chọn công ty trong danh sách (tên, mã số thuế,
            mã đơn vị), hoặc khối đã lưu, ví dụ an-phat / the unit to set up: the company
            chosen in the list (name, tax code, unit code), or its saved block, e.g. an-phat.
        certificate_serial: Số serial (hệ 16) của chứng thư muốn dùng; để trống để tự chọn
            chứng thư hợp với mã số thuế (hỏi khi có nhiều), ví dụ 5A0C3F9E12B7 / the serial
            (hex) of the certificate to use; empty to pick the one that fits the tax code
            (asking when several do), e.g. 5A0C3F9E12B7.
        interactive: Có người trả lời câu hỏi của lượt chạy không (chọn chứng thư, mã OTP,
            chọn tờ khai 04/05); tự động: chạy tay thì có, chạy theo lịch thì không /
            whether a person answers the run's questions (certificate, one-time code, the
            04 or 05 form); auto: yes when started by hand, no on a schedule.
        confirm_wait_seconds: Sau khi nộp tờ khai 04/05, chờ BHXH xác nhận tối đa bấy nhiêu
            giây (0 đến 3600, mặc định 30); sau đó đơn vị ở trạng thái change_pending /
            after submitting the 04 or 05 form, wait at most this many seconds for VSS to
            confirm (0 to 3600, default 30); after that the unit stays change_pending.

    Example:
        ```python
        import asyncio
        from flows import setup_remote_signing

        asyncio.run(setup_remote_signing("an-phat"))
        ```
    """
    scope = RunScope("setup_remote_signing")

    async def body() -> SetupResult:
        settings = Settings()
        name, unit = await resolve_unit(unit_block)
        scope.unit_code, scope.unit_name = unit.unit_code, unit.name
        await name_this_run([name], default_period())  # a 05 change belongs to this month
        attended = await is_interactive(attended_mode(interactive))
        async with open_unit_session(name, unit, settings=settings) as session:
            run = UnitRun(session, attended, release_worker=True)
            result = await _setup(run, certificate_serial or None, float(confirm_wait_seconds))
            await _publish_setup(run, result)
            return result

    return await run_explained(scope, body, setup_outcome)


async def _setup(
    run: UnitRun, certificate_serial: str | None, confirm_wait_seconds: float
) -> SetupResult:
    logger = get_run_logger()
    unit, unit_block, session = run.unit, run.session.unit_block, run.session
    await login(run)
    certificates = await list_certificates(session)
    choice = resolve_certificate(certificates, unit.tax_code, unit.unit_code)
    cert = await _choose(run, choice.fitting, certificate_serial)
    run.certificate = cert
    unit.certificate_alias = cert.alias
    unit.certificate_serial = cert.serial
    unit.certificate_subject = cert.subject
    unit.certificate_not_before = cert.not_before
    unit.certificate_not_after = cert.not_after
    await unit.asave(unit_block, overwrite=True)
    logger.info(
        "Đơn vị %s sẽ ký bằng / unit %s will sign with %s",
        unit.unit_code,
        unit.unit_code,
        cert.describe(),
    )

    registration = await read_registration(session)
    registered = registration.serial
    if registered == cert.serial.upper() and registration.state == "registered":
        unit.registered_serial = registered
        unit.registration_state = "registered"
        await unit.asave(unit_block, overwrite=True)
        return SetupResult(unit.unit_code, cert.serial, cert.alias, "registered")

    earlier = _form_for(run, cert.serial)
    if registration.state == "change_pending" and earlier is not None:
        # A change for this very certificate is with VSS: wait for it, never send twice.
        state = await _wait_for_registration(run, cert.serial, confirm_wait_seconds, earlier)
        unit.registration_state = state
        if state == "registered":
            unit.registered_serial = cert.serial
        await unit.asave(unit_block, overwrite=True)
        return SetupResult(unit.unit_code, cert.serial, cert.alias, state)

    if registration.state == "unknown" and registration.source == "local":
        kind = await _form_when_unknown(run, cert)
        if kind == "registered":
            unit.registered_serial = cert.serial.upper()
            unit.registration_state = "registered"
            await unit.asave(unit_block, overwrite=True)
            return SetupResult(unit.unit_code, cert.serial, cert.alias, "registered")
    else:
        kind = "05" if registration.state in {"registered", "change_pending"} else "04"
    logger.info(
        "BHXH đang giữ %s cho %s (%s): nộp tờ khai %s cho chứng thư mới / VSS has %s on file "
        "(%s): submitting a %s form for the new certificate",
        registered or "không có chứng thư nào",
        unit.unit_code,
        status_label(registration.state) or registration.state,
        kind,
        registered or "no certificate",
        registration.state,
        kind,
    )
    today = today_vn()
    form = build_registration_form(
        kind,  # type: ignore[arg-type]
        unit.unit_info(),
        certificate_info(cert.der),
        created=today,
        place=unit.address,
    )
    view = await open_registration_dossier(session, f"{today.month:02d}/{today.year}", kind, form)
    await sign_round(run, [view], 2)
    problems = await submit_dossiers(session, [view])
    if problems:
        raise VssRefused(f"Đơn vị {unit.unit_code}: " + "; ".join(problems))
    view = session.pipeline.view(view)
    assert view.handed_over
    unit.registration_state = "change_pending"
    await unit.asave(unit_block, overwrite=True)
    state = await _wait_for_registration(run, cert.serial, confirm_wait_seconds, view)
    unit.registration_state = state
    if state == "registered":
        unit.registered_serial = cert.serial
    await unit.asave(unit_block, overwrite=True)
    return SetupResult(unit.unit_code, cert.serial, cert.alias, state, view.id)
