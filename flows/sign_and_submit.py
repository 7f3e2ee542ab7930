"""sign_and_submit: one unit, one period: validate, sign in (at most) two approvals, submit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from prefect import flow
from prefect.artifacts import acreate_table_artifact
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from bhxh.errors import GatewayError
from bhxh.settings import Settings
from bhxh.store import Step
from blocks.unit import BhxhUnit
from esign.errors import CertificateNotFound
from flows._signing import (
    UnitRun,
    announce_start,
    artifact_key,
    is_interactive,
    login,
    sign_round,
)
from tasks._runtime import close_session, close_sessions, crash_point, get_session
from tasks.dossiers import (
    DossierRef,
    build_envelopes,
    load_dossiers,
    read_registration,
    submit_dossiers,
)
from tasks.signing import list_certificates

__all__ = ["DossierSummary", "previous_period", "run_unit", "sign_and_submit"]

Batching = Literal["per_unit", "per_dossier"]


def previous_period(today: dt.date | None = None) -> str:
    """The period (MM/yyyy) a monthly run declares: the month before ``today``."""
    today = today or dt.date.today()
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first.month:02d}/{first.year}"


@dataclass(frozen=True)
class DossierSummary:
    """One row of a run's summary (no secrets)."""

    unit: str
    dossier: str
    procedure: str
    approvals_used: int
    acknowledgement: str
    status: str
    message: str = ""


async def find_certificate(run: UnitRun) -> None:
    """The unit's chosen certificate, still listed, active and valid."""
    unit = run.unit
    if not unit.certificate_serial:
        raise CertificateNotFound(
            f"unit {unit.unit_code}: no certificate chosen yet; run setup_remote_signing first"
        )
    certificates = await list_certificates(run.unit_block)
    for cert in certificates:
        if cert.serial.upper() == unit.certificate_serial.upper():
            if not cert.is_usable():
                raise CertificateNotFound(
                    f"unit {unit.unit_code}: the chosen certificate {cert.describe()} is not "
                    "usable now; run setup_remote_signing to choose another"
                )
            run.certificate = cert
            return
    raise CertificateNotFound(
        f"unit {unit.unit_code}: the chosen certificate {unit.certificate_serial} is no longer "
        f"listed by account {unit.credentials_block}; run setup_remote_signing again"
    )


async def check_registration(run: UnitRun, refs: list[DossierRef]) -> None:
    """Refuse early when VSS would refuse: a 05 change still pending, or a stopped unit."""
    if all(r.is_registration for r in refs):
        return
    unit = run.unit
    registration = await read_registration(unit.unit_code, unit.gateway_block)
    if registration.state == "stopped":
        raise GatewayError(f"unit {unit.unit_code}: stopped (06) at VSS; nothing can be submitted")
    registered = registration.certificate.serial.upper() if registration.certificate else None
    chosen = (unit.certificate_serial or "").upper()
    if registered != chosen and not any(r.procedure in {"04", "05"} for r in refs):
        state = registration.state
        raise GatewayError(
            f"unit {unit.unit_code}: VSS has certificate {registered or '(none)'} on file "
            f"({state}), not the chosen {chosen}; dossiers would be refused (chứng thư số chưa "
            "đăng ký). Run setup_remote_signing (it submits the 05 change) or wait for the "
            "change to be accepted."
        )


async def _summarise(run: UnitRun, refs: list[DossierRef]) -> list[DossierSummary]:
    rows = []
    for ref in refs:
        rec = run.store.get(ref.unit_code, ref.period, ref.id)
        submitted = rec.last(Step.SUBMITTED)
        failed = rec.last(Step.FAILED)
        rows.append(
            DossierSummary(
                unit=ref.unit_code,
                dossier=ref.id,
                procedure=ref.procedure,
                approvals_used=run.approvals,
                acknowledgement=str(submitted.data.get("gateway_transaction_id", ""))
                if submitted
                else "",
                status=str(rec.state),
                message=str(failed.data.get("message", "")) if failed else "",
            )
        )
    return rows


async def _submit_all(run: UnitRun, refs: list[DossierRef]) -> list[str]:
    """Submit every signed dossier (one task run); a refusal is recorded and does not stop
    the others."""
    return await submit_dossiers(refs, run.unit.gateway_block, run.store_dir)


async def run_unit(
    unit_block: str,
    period: str | None = None,
    batching: Batching = "per_unit",
    dry_run: bool = False,
    interactive: bool | None = None,
    *,
    owns_sessions: bool = True,
) -> list[DossierSummary]:
    """What ``sign_and_submit`` does, inside whatever flow run is current.

    ``monthly_submission`` calls it directly for every unit of an unattended run (no
    subflow per unit: see there why). ``owns_sessions=False`` leaves the other units'
    provider clients open (the caller closes them all at the end).
    """
    settings = Settings()
    period = period or previous_period()
    logger = get_run_logger()
    unit = await BhxhUnit.aload_unit(unit_block)
    run = UnitRun(unit_block, unit, await is_interactive(interactive), settings)
    refs = await load_dossiers(
        unit.unit_info(), period, str(unit.inbox_path(settings)), run.store_dir
    )
    if dry_run or not refs:
        rows = [
            {"dossier": r.id, "procedure": r.procedure, "name": r.name, "approvals": r.approvals}
            for r in refs
        ]
        await acreate_table_artifact(
            table=rows,
            key=artifact_key("dry-run", unit.unit_code),
            description=f"{unit.unit_code} {period}: what would be signed (dry run)",
        )
        logger.info("%s %s: %d dossier(s), nothing signed", unit.unit_code, period, len(refs))
        return [DossierSummary(unit.unit_code, r.id, r.procedure, 0, "", r.state) for r in refs]
    try:
        await get_session(unit_block, unit)  # the provider client, without loading the unit again
        await login(run)
        await find_certificate(run)
        await check_registration(run, refs)
        batches = [refs] if batching == "per_unit" else [[r] for r in refs]
        problems: list[str] = []
        for batch in batches:
            business = [r for r in batch if not r.is_registration]
            await sign_round(run, business, 1)
            if business:
                await build_envelopes(business, unit.unit_info(), run.store_dir)
                crash_point("envelopes-built")
            await sign_round(run, batch, 2)
            problems += await _submit_all(run, batch)
    finally:
        await close_session(unit_block)
        if owns_sessions and flow_run.parent_flow_run_id is None:
            await close_sessions()
    summary = await _summarise(run, refs)
    await acreate_table_artifact(
        table=[s.__dict__ for s in summary],
        key=artifact_key("summary", unit.unit_code),
        description=f"{unit.unit_code} {period}: {run.approvals} approval(s)",
    )
    logger.info(
        "%s %s: %d dossier(s), %d approval(s) used",
        unit.unit_code,
        period,
        len(refs),
        run.approvals,
    )
    if problems:
        raise GatewayError(f"unit {unit.unit_code}: " + "; ".join(problems))
    return summary


@flow(name="sign_and_submit", log_prints=False)
async def sign_and_submit(
    unit_block: str,
    period: str | None = None,
    batching: Batching = "per_unit",
    dry_run: bool = False,
    interactive: bool | None = None,
) -> list[DossierSummary]:
    """Sign and submit one unit's dossiers for one period.

    Register / change / stop dossiers (04/05/06) need one approval on the phone; every
    other dossier two (its declarations, then the envelope that embeds them). With
    ``batching="per_unit"`` a unit needs at most two approvals per run whatever the number
    of dossiers; ``"per_dossier"`` signs dossier by dossier. A re-run continues from the
    dossier store: no approval already given is asked again, no dossier is submitted twice.

    Args:
        unit_block: name of the ``BhxhUnit`` block.
        period: declaration period ``MM/yyyy``; default the previous month.
        batching: ``per_unit`` (default) or ``per_dossier``.
        dry_run: validate and show what would be signed, then stop before any approval.
        interactive: whether a person can answer pauses; default: a deployment run
            started by hand is interactive, a scheduled or scripted one is not.

    Example:
        ```python
        import asyncio
        from flows import sign_and_submit

        asyncio.run(sign_and_submit("acme", period="01/2026"))
        ```
    """
    announce_start(unit_block)
    return await run_unit(unit_block, period, batching, dry_run, interactive)
