"""setup_remote_signing: certificate resolution, the 05 change, two-factor, run inputs."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from prefect import get_client
from prefect.flow_runs import aresume_flow_run

from bhxh.pipeline import Step
from blocks import BhxhUnit
from demo.scenario import CertSpec, demo_units, many_units
from esign.errors import CertificateNotFound, TwoFactorRequired
from flows import setup_remote_signing, sign_and_submit
from tests.flows.conftest import PERIOD, MakeWorld, wait_for_paused


async def test_usb_token_unit_submits_a_05_change_with_one_approval(make_world: MakeWorld) -> None:
    an_phat = demo_units()[0]
    world = await make_world([an_phat], setup=False)
    result = await setup_remote_signing(an_phat.block, interactive=False)
    assert result.registration_state == "registered"
    assert result.registration_dossier is not None
    assert result.registration_dossier.startswith("05-")
    assert world.count("approved", user=an_phat.username) == 1
    assert world.count("sign_request", user=an_phat.username) == 1
    unit = await BhxhUnit.aload_unit(an_phat.block)
    assert unit.registered_serial == unit.certificate_serial == result.certificate_serial
    assert unit.registration_state == "registered"
    # Afterwards business dossiers signed with the new certificate are accepted.
    await sign_and_submit(an_phat.block, period=PERIOD)
    assert world.count("approved", user=an_phat.username) == 3
    assert len(world.submissions()) == 2


async def test_business_dossiers_are_held_back_while_vss_has_another_certificate(
    make_world: MakeWorld,
) -> None:
    an_phat = demo_units()[0]
    world = await make_world([an_phat], setup=False)
    unit = await BhxhUnit.aload_unit(an_phat.block)
    remote = world.sandbox.pki.get(an_phat.remote_cert.pki_name)
    unit.certificate_serial = remote.serial_hex.upper()
    await unit.asave(an_phat.block, overwrite=True)
    with pytest.raises(Exception, match="chứng thư số chưa đăng ký"):
        await sign_and_submit(an_phat.block, period=PERIOD)
    assert world.count("sign_request") == 0


async def test_the_certificate_is_found_by_mst_among_several(make_world: MakeWorld) -> None:
    binh_minh = demo_units()[1]
    world = await make_world([binh_minh], setup=False)
    result = await setup_remote_signing(binh_minh.block, interactive=False)
    assert result.certificate_alias == "BM-2026"
    assert result.registration_state == "registered"
    assert result.registration_dossier is None
    assert world.count("sign_request") == 0


def _twin(prefix: str) -> list:
    (unit,) = many_units(1, prefix=prefix)
    second = CertSpec(f"{prefix}-0-second", unit.unit.tax_code, unit.unit.name, "SECOND")
    return [dataclasses.replace(unit, certificates=(*unit.certificates, second))]


async def test_several_fitting_certificates_fail_an_unattended_run_listing_them(
    make_world: MakeWorld,
) -> None:
    units = _twin("several")
    await make_world(units, setup=False, dossiers=0)
    with pytest.raises(CertificateNotFound, match="2 certificates fit") as info:
        await setup_remote_signing(units[0].block, interactive=False)
    assert "SECOND" in str(info.value) and "SEVERAL0" in str(info.value)


async def test_the_certificate_choice_is_answered_through_run_input(make_world: MakeWorld) -> None:
    units = _twin("choose")
    world = await make_world(units, setup=False, dossiers=0)
    second = world.sandbox.pki.get("choose-0-second").serial_hex.upper()
    run = asyncio.create_task(setup_remote_signing(units[0].block, interactive=True))
    flow_run_id = await wait_for_paused("setup_remote_signing")
    async with get_client() as client:
        schema = await client.read_flow_run_input(flow_run_id, "paused-certificate-schema")
    assert second in schema  # the form offers the serials as a dropdown (enum)
    (label,) = [c for c in json.loads(schema)["properties"]["serial"]["enum"] if second in c]
    await aresume_flow_run(flow_run_id, run_input={"serial": label})
    result = await asyncio.wait_for(run, 120)
    assert result.certificate_serial == second
    assert (await BhxhUnit.aload_unit(units[0].block)).certificate_alias == "SECOND"


async def test_no_fitting_certificate_says_what_was_found(make_world: MakeWorld) -> None:
    (unit,) = many_units(1, prefix="nofit")
    expired = CertSpec(
        "nofit-0-expired", unit.unit.tax_code, unit.unit.name, "OLD", variant="expired"
    )
    other = CertSpec("nofit-0-other", "0300000001", "Khác", "OTHER")
    unit = dataclasses.replace(unit, certificates=(expired, other), registered_cert=None)
    await make_world([unit], setup=False, dossiers=0)
    with pytest.raises(CertificateNotFound, match="expired on") as info:
        await setup_remote_signing(unit.block, interactive=False)
    assert "MST 0300000001 is not" in str(info.value)


async def test_two_factor_code_is_asked_in_a_manual_run_and_not_kept(make_world: MakeWorld) -> None:
    (unit,) = many_units(1, prefix="otp")
    unit = dataclasses.replace(unit, two_factor=True)
    world = await make_world([unit], setup=False, dossiers=0)
    code = world.scenario.two_factor_codes[unit.username]
    run = asyncio.create_task(setup_remote_signing(unit.block, interactive=True))
    flow_run_id = await wait_for_paused("setup_remote_signing")
    await aresume_flow_run(flow_run_id, run_input={"code": code})
    result = await asyncio.wait_for(run, 120)
    assert result.registration_state == "registered"
    assert world.count("two_factor", user=unit.username) >= 1
    async with get_client() as client:
        inputs = await client.filter_flow_run_input(
            flow_run_id, key_prefix="paused", limit=50, exclude_keys=set()
        )
    assert inputs, "the pause's schema and description stay"
    assert "paused-otp-0-response" not in {i.key for i in inputs}
    assert all(code not in i.value for i in inputs)


async def test_two_factor_in_an_unattended_run_fails_clearly(make_world: MakeWorld) -> None:
    (unit,) = many_units(1, prefix="otpsched")
    unit = dataclasses.replace(unit, two_factor=True)
    await make_world([unit], setup=False, dossiers=0)
    with pytest.raises(TwoFactorRequired, match="one-time code"):
        await setup_remote_signing(unit.block, interactive=False)


async def test_registration_dossier_is_journalled(make_world: MakeWorld) -> None:
    an_phat = demo_units()[0]
    world = await make_world([an_phat], setup=False, dossiers=0)
    result = await setup_remote_signing(an_phat.block, interactive=False)
    store_root = world.scenario.data_dir / "store" / an_phat.unit.code
    (journal,) = list(store_root.glob(f"*/{result.registration_dossier}/record.json"))
    text = journal.read_text()
    for step in (Step.ENVELOPE_PREPARED, Step.ROUND2_REQUESTED, Step.SIGNED, Step.SUBMITTED):
        assert f'"{step.value}"' in text
    assert f'"{Step.ROUND1_REQUESTED.value}"' not in text


async def test_a_pending_change_is_not_submitted_twice(make_world: MakeWorld) -> None:
    an_phat = demo_units()[0]
    world = await make_world([an_phat], setup=False, gateway={"change_delay_seconds": 600})
    first = await setup_remote_signing(an_phat.block, interactive=False, confirm_wait_seconds=0.5)
    assert first.registration_state == "change_pending"
    second = await setup_remote_signing(an_phat.block, interactive=False, confirm_wait_seconds=0.5)
    assert second.registration_state == "change_pending"
    assert second.registration_dossier is None
    assert world.count("sign_request", user=an_phat.username) == 1
    assert len(world.submissions()) == 1
    # Business dossiers wait until VSS has the new certificate on file.
    with pytest.raises(Exception, match="change_pending"):
        await sign_and_submit(an_phat.block, period=PERIOD)
    assert world.count("sign_request", user=an_phat.username) == 1
