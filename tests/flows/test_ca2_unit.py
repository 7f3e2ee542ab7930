"""A unit on CA2 RemoteSigning signs and submits through ``sign_and_submit`` (Prefect test
harness, the sandbox's CA2 wire and gateway over HTTP); every XML signature verifies with
``xmlsec1`` trusting only the test PKI, every PDF signature with ``pdfsig``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bhxh.pipeline import Step
from demo.scenario import many_units
from flows import sign_and_submit
from sandbox.pki import TestPKI
from tests.flows.conftest import PERIOD, MakeWorld


def _xmlsec1_verifies(path: Path, pki: TestPKI) -> bool:
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
            # xmlsec1 reads one certificate from an --untrusted-pem file: the CA2 one
            "--untrusted-pem",
            str(pki.dir / "ca" / "ca2.pem"),
            "--id-attr:Id",
            "Signature",
            str(path),
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _pdfsig_says_valid(path: Path) -> bool:
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig is not installed (Debian package poppler-utils)")
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return "Signature is Valid." in done.stdout


async def test_a_ca2_unit_signs_and_submits_with_two_approvals(
    make_world: MakeWorld, pki: TestPKI
) -> None:
    (unit,) = units = many_units(1, prefix="caii", approve_after=0.2, provider="ca2")
    world = await make_world(units, dossiers=2, with_pdf=True)
    summary = await sign_and_submit(unit.block, period=PERIOD)
    assert [s.procedure for s in summary] == ["600", "600"]
    # one approval for the declarations, one for the envelopes, both on CA2's wire
    assert world.count("sign_request", user=unit.username, service="ca2") == 2
    assert world.count("approved", user=unit.username) == 2
    records = world.records(unit)
    assert all(r.has(Step.DECLARATIONS_SIGNED) and r.has(Step.SUBMITTED) for r in records)
    assert sorted(world.submissions().values()) == [1, 1]
    signed = sorted((world.scenario.data_dir / "outbox" / unit.unit.code).rglob("*.xml"))
    assert signed
    for path in signed:
        if b"<SignatureValue>" in path.read_bytes():
            assert _xmlsec1_verifies(path, pki), path.name
    assert any(p.name == "BHXHDienTu.xml" for p in signed)
    pdfs = sorted((world.scenario.data_dir / "outbox" / unit.unit.code).rglob("*.pdf"))
    assert len(pdfs) == 2  # one attachment per dossier, sent to CA2 as file_type "pdf"
    for path in pdfs:
        assert _pdfsig_says_valid(path), path.name
