"""sign_and_submit: one unit, one period: validate, sign in (at most) two approvals, submit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from prefect import flow
from prefect.artifacts import acreate_table_artifact
from prefect.logging import get_run_logger

from bhxh.errors import GatewayError
from bhxh.periods import default_period
from bhxh.pipeline import DossierView
from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from esign.errors import CertificateNotFound
from flows._overview import publish_overview
from flows._signing import (
    UnitRun,
    artifact_key,
    ask_for_receipts,
    is_interactive,
    login,
    sign_round,
)
from tasks.crash import crash_point
from tasks.dossiers import build_envelopes, load_dossiers, read_registration, submit_dossiers
from tasks.session import RunResources, open_unit_session
from tasks.signing import list_certificates

__all__ = ["DossierSummary", "run_unit", "sign_and_submit"]

Batching = Literal["per_unit", "per_dossier"]


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
    route: str = ""  # gateway (submitted through the I-VAN's API) or export (files)
    where: str = ""  # export: where the files are


async def find_certificate(run: UnitRun) -> None:
    """The unit's chosen certificate, still listed, active and valid."""
    unit = run.unit
    if not unit.certificate_serial:
        raise CertificateNotFound(
            f"unit {unit.unit_code}: no certificate chosen yet; run setup_remote_signing first"
        )
    certificates = await list_certificates(run.session)
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


async def check_registration(run: UnitRun, views: list[DossierView]) -> None:
    """Refuse early when VSS would refuse: a 05 change still pending, or a stopped unit."""
    if all(v.is_registration for v in views):
        return
    unit = run.unit
    registration = await read_registration(run.session)
    if registration.state == "stopped":
        raise GatewayError(f"unit {unit.unit_code}: stopped (06) at VSS; nothing can be submitted")
    if registration.state == "unknown" and registration.source == "local":
        # Nothing to decide here: VSS itself refuses a dossier signed by a certificate it
        # does not have on file, and the refusal is journalled with its words.
        get_run_logger().warning(
            "Không biết chứng thư đăng ký của %s tại BHXH (I-VAN không cho đọc) / the "
            "registration of %s at VSS is unknown (its I-VAN cannot read it): signing with "
            "%s; record registration_state in the unit block to check it before signing",
            unit.unit_code,
            unit.unit_code,
            unit.certificate_serial,
        )
        return
    registered = registration.serial
    chosen = (unit.certificate_serial or "").upper()
    if registered != chosen and not any(v.procedure in {"04", "05"} for v in views):
        state = registration.state
        raise GatewayError(
            f"unit {unit.unit_code}: VSS has certificate {registered or '(none)'} on file "
            f"({state}), not the chosen {chosen}; dossiers would be refused (chứng thư số chưa "
            "đăng ký). Run setup_remote_signing (it submits the 05 change) or wait for the "
            "change to be accepted."
        )


def summarise(run: UnitRun, views: list[DossierView]) -> list[DossierSummary]:
    """One summary row per dossier, read from the journal."""
    rows = []
    for view in views:
        current = run.session.pipeline.view(view)
        ack = current.acknowledgement
        failure = current.failure
        rows.append(
            DossierSummary(
                unit=current.unit_code,
                dossier=current.id,
                procedure=current.procedure,
                approvals_used=run.approvals,
                acknowledgement=ack.gateway_transaction_id if ack else "",
                status=str(current.state),
                message=failure.message if failure else "",
                route=ack.route if ack else "",
                where=ack.location if ack else "",
            )
        )
    return rows


async def run_unit(
    unit_block: str,
    period: str | None = None,
    batching: Batching = "per_unit",
    dry_run: bool = False,
    interactive: bool | None = None,
    *,
    shared: RunResources | None = None,
    summary_artifact: bool = True,
) -> list[DossierSummary]:
    """What ``sign_and_submit`` does, inside whatever flow run is current.

    ``monthly_submission`` calls it for every unit inside its own flow run, with the run's
    ``shared`` resources (one gateway port for all units) and no summary artifact per unit
    (its own table covers them). The unit's session (provider client, its pipeline) is
    opened here and closed when this returns.
    """
    settings = Settings()
    period = period or default_period()
    logger = get_run_logger()
    unit = await BhxhUnit.aload_unit(unit_block)
    attended = await is_interactive(interactive)
    async with open_unit_session(unit_block, unit, settings=settings, shared=shared) as session:
        run = UnitRun(session, attended)
        views = await load_dossiers(session, period)
        if dry_run or not views:
            rows = [
                {
                    "dossier": v.id,
                    "procedure": v.procedure,
                    "name": v.name,
                    "approvals": v.approvals_needed,
                }
                for v in views
            ]
            await acreate_table_artifact(
                table=rows,
                key=artifact_key("dry-run", unit.unit_code),
                description=f"{unit.unit_code} {period}: what would be signed (dry run)",
            )
            logger.info("%s %s: %d dossier(s), nothing signed", unit.unit_code, period, len(views))
            return [
                DossierSummary(unit.unit_code, v.id, v.procedure, 0, "", str(v.state))
                for v in views
            ]
        await login(run)
        await find_certificate(run)
        await check_registration(run, views)
        batches = [views] if batching == "per_unit" else [[v] for v in views]
        problems: list[str] = []
        for batch in batches:
            business = [v for v in batch if not v.is_registration]
            await sign_round(run, business, 1)
            if business:
                await build_envelopes(session, business)
                crash_point("envelopes-built")
            await sign_round(run, batch, 2)
            problems += await submit_dossiers(session, batch)
        if run.interactive:
            await ask_for_receipts(run, views)
        summary = summarise(run, views)
    if summary_artifact:
        await acreate_table_artifact(
            table=[s.__dict__ for s in summary],
            key=artifact_key("summary", unit.unit_code),
            description=f"{unit.unit_code} {period}: {run.approvals} approval(s)",
        )
    logger.info(
        "%s %s: %d dossier(s), %d approval(s) used",
        unit.unit_code,
        period,
        len(views),
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
        period: declaration period ``MM/yyyy``; default the current month in Vietnam's time.
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
    try:
        return await run_unit(unit_block, period, batching, dry_run, interactive)
    finally:
        await publish_overview(period or default_period(), source="sign_and_submit")
