"""setup_remote_signing: choose a unit's remote certificate; register it with VSS (04 / 05)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact
from prefect.flow_runs import apause_flow_run
from prefect.input import RunInput
from prefect.logging import get_run_logger
from pydantic import Field, create_model

from bhxh.errors import GatewayError
from bhxh.forms import build_registration_form, certificate_info
from bhxh.periods import today_vn
from bhxh.pipeline import DossierView
from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from esign.errors import CertificateNotFound
from esign.models import Certificate
from flows._signing import UnitRun, artifact_key, is_interactive, login, sign_round
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


def _choice_input(fitting: tuple[Certificate, ...]) -> type[RunInput]:
    """A run input whose one field is a dropdown of the fitting certificates' serials."""
    serials = tuple(c.serial for c in fitting)
    model: type[RunInput] = create_model(
        "CertificateChoice",
        __base__=RunInput,
        serial=(
            Literal.__getitem__(serials),  # type: ignore[arg-type]
            Field(description="Serial of the certificate to sign this unit's dossiers with."),
        ),
    )
    return model


async def _choose(
    run: UnitRun, fitting: tuple[Certificate, ...], requested: str | None
) -> Certificate:
    unit = run.unit
    listing = "\n".join(f"- `{c.serial}`: {c.describe()}" for c in fitting)
    if requested:
        for cert in fitting:
            if cert.serial.upper() == requested.upper():
                return cert
        raise CertificateNotFound(
            f"unit {unit.unit_code}: certificate {requested} is not among the usable ones:\n"
            + listing
        )
    if len(fitting) == 1:
        return fitting[0]
    if not run.interactive:
        raise CertificateNotFound(
            f"unit {unit.unit_code}: {len(fitting)} certificates fit tax code {unit.tax_code}; "
            "choose one (run by hand from the Prefect UI, or pass certificate_serial):\n" + listing
        )
    model = _choice_input(fitting)
    answer: Any = await apause_flow_run(
        wait_for_input=model.with_initial_data(
            description=f"**{unit.name}** ({unit.unit_code}): several certificates carry "
            f"MST {unit.tax_code}. Choose the one to sign with:\n\n{listing}",
            serial=fitting[0].serial,
        ),
        timeout=run.settings.pause_timeout_seconds,
        poll_interval=run.settings.pause_poll_seconds,
        key="certificate",
    )
    chosen: str = answer.serial
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
) -> str:
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


class RegistrationAnswer(RunInput):
    """Whether the unit is already registered with VSS for e-transactions."""

    form: Literal["05", "04", "registered"] = Field(
        description="05: registered before with another certificate (a USB token): submit "
        "the change form. 04: never registered: submit the registration form. registered: "
        "already registered with this very certificate: submit nothing."
    )


async def _form_when_unknown(run: UnitRun, cert: Certificate) -> str:
    """04 or 05 (or nothing) when neither the carrier nor the dossiers tell: ask a person."""
    unit = run.unit
    question = (
        f"Không biết {unit.name} ({unit.unit_code}) đã đăng ký giao dịch điện tử với BHXH "
        "bằng chứng thư nào: I-VAN của đơn vị không cho đọc thông tin này / the unit's I-VAN "
        "cannot tell which certificate VSS has on file"
    )
    if not run.interactive:
        raise GatewayError(
            f"{question}. Ghi registration_state (registered, stopped) và registered_serial "
            "vào khối BhxhUnit, hoặc chạy setup bằng tay để chọn tờ khai 04/05 / record "
            "registration_state and registered_serial in the unit block, or run setup by "
            "hand to choose the 04 or 05 form."
        )
    answer = await apause_flow_run(
        wait_for_input=RegistrationAnswer.with_initial_data(
            description=f"**{question}.**\n\nChứng thư mới / new certificate: "
            f"{cert.describe()}\n\nChọn tờ khai cần nộp / choose the form to submit.",
            form="05",
        ),
        timeout=run.settings.pause_timeout_seconds,
        poll_interval=run.settings.pause_poll_seconds,
        key="registration-form",
    )
    return answer.form


@flow(name="setup_remote_signing")
async def setup_remote_signing(
    unit_block: str,
    certificate_serial: str | None = None,
    interactive: bool | None = None,
    confirm_wait_seconds: float = 30,
) -> SetupResult:
    """Set a unit up for remote signing, or change its certificate ("Thay đổi").

    Logs in to the provider (two-factor code asked in a manual run), keeps the active,
    currently valid certificates whose ``UID=MST:`` is the unit's tax code, uses the one
    that fits (asks a person when several do; fails listing them in an unattended run),
    saves the choice in the unit block. If VSS has another certificate on file (a USB
    token, say), builds the 05 change form, signs it (one approval) and submits it; an
    unregistered unit gets the 04 form instead. The unit stays ``change_pending`` until
    the gateway confirms.

    Example:
        ```python
        import asyncio
        from flows import setup_remote_signing

        asyncio.run(setup_remote_signing("acme"))
        ```
    """
    settings = Settings()
    unit = await BhxhUnit.aload_unit(unit_block)
    attended = await is_interactive(interactive)
    async with open_unit_session(unit_block, unit, settings=settings) as session:
        run = UnitRun(session, attended)
        return await _setup(run, certificate_serial, confirm_wait_seconds)


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
    logger.info("Unit %s will sign with %s", unit.unit_code, cert.describe())

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
        "VSS has %s on file for %s (%s): submitting a %s form for the new certificate",
        registered or "no certificate",
        unit.unit_code,
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
        raise GatewayError(f"unit {unit.unit_code}: " + "; ".join(problems))
    view = session.pipeline.view(view)
    assert view.handed_over
    unit.registration_state = "change_pending"
    await unit.asave(unit_block, overwrite=True)
    state = await _wait_for_registration(run, cert.serial, confirm_wait_seconds, view)
    unit.registration_state = state
    if state == "registered":
        unit.registered_serial = cert.serial
    await unit.asave(unit_block, overwrite=True)
    await acreate_markdown_artifact(
        markdown=f"## {unit.name} ({unit.unit_code})\n\n"
        f"- Certificate: {cert.describe()}\n- Form {kind} dossier `{view.id}` submitted\n"
        f"- Registration at VSS: **{state}**\n",
        key=artifact_key("setup", unit.unit_code),
        description=f"Remote-signing setup of {unit.unit_code}",
    )
    return SetupResult(unit.unit_code, cert.serial, cert.alias, state, view.id)
