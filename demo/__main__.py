"""``make demo``: the main job, end to end, on this machine.

Starts the sandbox (stand-ins for MISA eSign, VNPT SmartCA, Viettel MySign and CA2
RemoteSigning with phones that approve after about a second, and the gateway playing an
I-VAN's API and VSS) on free loopback ports; saves blocks for six demo units (one on
Viettel MySign, one on CA2); drops 600 dossiers built from CSV into the inbox; runs
setup_remote_signing for each unit, then monthly_submission and track_results on the
local Prefect API; prints where each dossier went and its receipt.

Five units go through the reference gateway adapter; the sixth (Đông Á, carried by Thái
Sơn) takes the export route: its files are written out for the I-VAN's own software, and
the demo plays the accountant who submits there and writes the receipt into the receipts
file, which track_results reads.

The month then closes (demo/contributions.py): each gateway unit's transfers are in the
sandbox gateway's records (Bình Minh's one worker's contribution short), the export
unit's accountant saves its C12-TS notice from the portal in its c12 folder, and
reconcile_contributions reads every notice and reconciles it with the declarations.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter

from bhxh.contributions import UnitContributions
from bhxh.overview import read_contribution_status, report_name, vnd
from bhxh.periods import default_period, today_vn
from bhxh.pipeline import DossierStore, Pipeline
from bhxh.settings import Settings
from bhxh.submission import RECEIPTS_FILE
from demo.contributions import drop_notice, inbox_dues, plan_payments
from demo.scenario import Scenario, demo_units, export_demo_unit
from flows import (
    monthly_submission,
    overview_key,
    reconcile_contributions,
    setup_remote_signing,
    track_results,
)
from sandbox.audit import read_audit
from sandbox.config import start_sandbox


async def _run(scenario: Scenario, misa_url: str, gateway_url: str, period: str) -> None:
    await scenario.save_blocks(misa_url, gateway_url)
    for unit in scenario.units:
        result = await setup_remote_signing(unit.block, interactive=False)
        print(
            f"  setup {unit.block:10} certificate {result.certificate_alias} "
            f"({result.certificate_serial[:12]}...), VSS: {result.registration_state}"
            + (
                f", form dossier {result.registration_dossier}"
                if result.registration_dossier
                else ""
            )
        )
    await monthly_submission(period=period, units=[u.block for u in scenario.units])
    _write_export_receipts(scenario)
    # Every open dossier: the business dossiers of the period and the 05 form of this month.
    await track_results(
        units=[u.block for u in scenario.units], max_wait_seconds=15, poll_seconds=1
    )


async def _close_month(scenario: Scenario, period: str, dues: dict[str, UnitContributions]) -> None:
    """The accountant of the export unit saves its C12-TS notice from the portal; then
    every unit's notice is read and reconciled."""
    for unit in scenario.units:
        if unit.route == "export":
            path = drop_notice(scenario, unit, period, dues[unit.unit.code], today_vn())
            print(f"  export: the C12-TS notice of {unit.unit.code} saved from the portal: {path}")
    await reconcile_contributions(period=period, units=[u.block for u in scenario.units])


def _write_export_receipts(scenario: Scenario) -> None:
    """Play the accountant of the export route: after submitting the exported files in the
    I-VAN's software, write the soHoSo and the result it showed into the receipts file. No
    I-VAN software runs here, so the numbers are the demo's own, and the result is the one
    the gateway gives the other units (accepted)."""
    pipeline = Pipeline(DossierStore(scenario.data_dir / "store"), scenario.data_dir / "outbox")
    rows = [
        f"{view.id},{n:05d}/2026/{unit.unit.agency_code},1,accepted"
        for unit in scenario.units
        if unit.route == "export"
        for n, view in enumerate(pipeline.unit_views(unit.unit.code), start=901)
        if view.exported
    ]
    if rows:
        receipts = scenario.data_dir / "outbox" / RECEIPTS_FILE
        receipts.write_text(
            "\ufeffdossier_id,so_ho_so,dot,status\n" + "\n".join(rows) + "\n", encoding="utf-8"
        )
        print(f"  export: {len(rows)} exported dossier(s); receipts typed into {receipts}")


def main() -> int:
    settings = Settings()
    data = settings.data_dir
    period = default_period()
    for sub in ("inbox", "store", "outbox", "sandbox", "csv"):
        shutil.rmtree(data / sub, ignore_errors=True)
    print(f"prefect-bhxh demo: period {period}, data under {data}/ (inbox, store, outbox reset)")
    scenario = Scenario(
        [*demo_units(), export_demo_unit()], data_dir=data, pki_dir=settings.pki_dir
    )
    scenario.issue_registered_certificates()
    folders = scenario.fill_inbox(period, dossiers=1, workers=8, with_pdf=True)
    print(
        f"  inbox: {len(folders)} dossier(s) of procedure 600 built from HR exports "
        f"({scenario.units[0].unit.name}'s from an Excel workbook in {data}/csv/, the others "
        f"from CSV), each with a labour contract as a PDF attachment, under {data}/inbox"
    )
    dues = inbox_dues(scenario, period)
    short = plan_payments(scenario, dues, today_vn())
    with start_sandbox(scenario.sandbox_config()) as sandbox:
        assert sandbox.gateway_url is not None
        print(f"  sandbox: provider {sandbox.provider_url}, gateway {sandbox.gateway_url}")

        gateway_url = sandbox.gateway_url

        async def demo() -> None:
            await _run(scenario, sandbox.misa_url, gateway_url, period)
            await _close_month(scenario, period, dues)

        asyncio.run(demo())
        audit = read_audit(sandbox.config.audit_path)

    approvals = Counter(e.get("user") for e in audit if e.get("event") == "approved")
    users = {u.unit.code: u.username for u in scenario.units}
    pipeline = Pipeline(DossierStore(settings.store_dir), settings.outbox_dir)
    print()
    print(
        f"{'unit':9} {'dossier':28} {'proc':4} {'signed PDFs':22} {'went to':22} "
        f"{'soHoSo':17} status"
    )
    ok = True
    for unit in scenario.units:
        for view in pipeline.unit_views(unit.unit.code):
            receipt, result = view.receipt, view.result
            so = receipt.so_ho_so if receipt and receipt.so_ho_so else "-"
            status = (
                result.outcome
                if result and result.outcome
                else (receipt.status if receipt else str(view.state))
            )
            ok = ok and view.handed_over and receipt is not None
            where = (
                f"export for I-VAN {unit.unit.ivan_code}"
                if view.exported
                else f"gateway (I-VAN {unit.unit.ivan_code})"
            )
            prepared = view.prepared(1)
            pdfs = [i.file for i in prepared.items if i.kind == "pdf"] if prepared else []
            signed = ", ".join(pdfs) if pdfs and view.is_signed(1) else "-"
            print(
                f"{view.unit_code:9} {view.id:28} {view.procedure:4} {signed:22} {where:22} "
                f"{so:17} {status}"
            )
    print()
    for unit in scenario.units:
        code = unit.unit.code
        views = pipeline.unit_views(code)
        forms = sum(1 for v in views if v.is_registration)
        print(
            f"{code}: {approvals[users[code]]} approval(s) on {unit.username}'s phone for "
            f"{len(views) - forms} business dossier(s) and {forms} registration form(s)"
        )
    print()
    periods = sorted(
        {v.period for u in scenario.units for v in pipeline.unit_views(u.unit.code)},
        key=lambda p: (p[3:], p[:2]),
    )
    for p in periods:
        print(
            f"Overview {p}: Prefect artifact {overview_key(p)} (Artifacts page), reports "
            f"{settings.reports_dir}/{report_name(p)}.csv and .xlsx"
        )
    print()
    print(f"The month closed ({period}): C12-TS notices reconciled with the declarations")
    print(f"{'unit':9} {'due':>16} {'paid':>16} {'difference':>16} {'deadline':10}  explained")
    for unit in scenario.units:
        code = unit.unit.code
        reconciled = read_contribution_status(settings.outbox_dir, code, period)
        if reconciled is None:
            ok = False
            print(f"{code:9} no reconciliation")
            continue
        explained = " ".join(line.message_en for line in reconciled.lines) or "all agree, paid"
        print(
            f"{code:9} {vnd(reconciled.due):>16} {vnd(reconciled.paid):>16} "
            f"{vnd(reconciled.difference):>16} {reconciled.deadline:%d/%m/%Y}  {explained}"
        )
        expected_short = short.get(code, 0)
        if -reconciled.difference != expected_short:
            ok = False
        if expected_short:
            worker = dues[code].workers[-1].worker
            print(
                f"{'':9} short by exactly one worker's contribution: {worker.name} "
                f"(STT {worker.stt}), {vnd(expected_short)} a month"
            )
    print()
    print(f"Signed files:   {settings.outbox_dir}/<unit>/<MM-YYYY>/<dossier>/")
    print(f"Test PKI:       {settings.pki_dir}/ (root.pem, intermediates.pem, crls.pem)")
    print(f"Sandbox audit:  {sandbox.config.audit_path} ({len(audit)} events)")
    print(
        "By hand: `make server` starts the Prefect UI, a worker, the deployments and the sandbox;\n"
        "run sign_and_submit from the deployment page and approve on the virtual phone page\n"
        "(/phone/<account> on the sandbox provider), as described in the README."
    )
    if not ok:
        print(
            "Some dossiers were not handed over or have no receipt, or the month did not "
            "reconcile as planned: see the tables above.",
            file=sys.stderr,
        )
        return 1
    print(
        "Every demo dossier was signed, handed to its I-VAN and has its receipt; the month "
        "is reconciled."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
