"""A unit on Viettel MySign through sign_and_submit (Prefect harness, sandbox over HTTP)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from bhxh.pipeline import Step
from demo.scenario import demo_units, many_units
from esign.errors import SigningBlocked
from flows import sign_and_submit
from sandbox.pki import TestPKI
from tests.flows.conftest import PERIOD, MakeWorld, World


def _xmlsec1_verifies(path: Path, pki: TestPKI) -> bool:
    """xmlsec1 trusting the test root, the Viettel-CA test intermediate beside it (xmlsec1
    reads one certificate per --untrusted-pem file)."""
    binary = shutil.which("xmlsec1")
    if binary is None:
        pytest.skip("xmlsec1 is not installed (Debian package xmlsec1)")
    done = subprocess.run(
        [
            binary,
            "--verify",
            "--enabled-key-data",
            "x509",
            "--trusted-pem",
            str(pki.root_pem_path),
            "--untrusted-pem",
            str(pki.dir / "ca" / "mysign.pem"),
            "--id-attr:Id",
            "Signature",
            str(path),
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _fail_with(world: World, user: str, code: str) -> None:
    httpx.put(
        f"{world.sandbox.provider_url}/phone/api/{user}/policy",
        json={"action": "fail", "after_seconds": 0.2, "fail_code": code},
        headers={"x-sandbox-token": world.sandbox.control_token},
    ).raise_for_status()


async def test_the_demo_mysign_unit_signs_and_submits_with_two_approvals(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = [u for u in demo_units() if u.provider == "mysign"]
    world = await make_world(units)
    summary = await sign_and_submit(unit.block, period=PERIOD)
    assert [s.procedure for s in summary] == ["600"]
    assert world.count("approved", user=unit.username, service="mysign") == 2
    assert world.count("sign_request", user=unit.username, service="mysign") == 2
    (rec,) = world.records(unit)
    assert rec.has(Step.SUBMITTED) and world.submissions() == {rec.id: 1}
    # what the MySign app showed: the decoded description, ending with the reference
    shown = [
        tx.display_text
        for tx in world.sandbox.provider_app.state.provider.transactions.values()
        if tx.service == "mysign"
    ]
    assert len(shown) == 2 and all("Mã yêu cầu: " in text for text in shown)
    outbox = world.scenario.data_dir / "outbox" / unit.unit.code / "01-2026" / rec.id
    pki = world.sandbox.pki
    assert "Viettel-CA" in pki.ca_certificate("mysign").subject.rfc4514_string()
    signed = sorted(outbox.glob("*.xml"))
    assert [p.name for p in signed] == ["BHXHDienTu.xml", "D02-TS-595.xml", "TK1-TS-595.xml"]
    assert all(_xmlsec1_verifies(path, pki) for path in signed)


async def test_out_of_quota_ends_the_unit_with_its_sentence_without_asking_again(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = many_units(1, prefix="quota", provider="mysign")
    world = await make_world(units)
    _fail_with(world, unit.username, "4005")
    with pytest.raises(SigningBlocked, match="hết lượt ký"):
        await sign_and_submit(unit.block, period=PERIOD, interactive=False)
    assert world.count("sign_request", user=unit.username) == 1
    (rec,) = world.records(unit)
    assert rec.has(Step.PREPARED) and not rec.has(Step.SUBMITTED)
    # once quota is bought, the next run asks anew and finishes
    world.set_policy(unit, "approve")
    await sign_and_submit(unit.block, period=PERIOD, interactive=False)
    assert world.submissions() == {rec.id: 1}
