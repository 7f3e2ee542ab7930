"""PDF attachments through the flows: signed in the first approval with the declarations
(still two approvals per unit), listed by name on the phone, valid for pdfsig."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bhxh.documents import read_envelope
from demo.scenario import many_units
from flows import sign_and_submit
from sandbox.pki import TestPKI
from tests.bhxh.signing.pdf.pdf_support import Pdfsig, flip_byte
from tests.flows.conftest import PERIOD, MakeWorld, World

PDF = "hop-dong-lao-dong.pdf"


@pytest.fixture(scope="module")
def pdfsig(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Pdfsig:
    return Pdfsig.create(pki, tmp_path_factory.mktemp("pdfsig-flows"))


async def _approve_when_asked(world: World, user: str, rounds: int) -> list[list[str]]:
    """Play the signer: wait for each request, read what the phone shows, approve it."""
    seen: list[list[str]] = []
    base = f"{world.sandbox.provider_url}/phone/api/{user}"
    headers = {"x-sandbox-token": world.sandbox.control_token}
    async with httpx.AsyncClient(headers=headers) as http:
        while len(seen) < rounds:
            pending = (await http.get(f"{base}/pending")).json()["pending"]
            if not pending:
                await asyncio.sleep(0.2)
                continue
            (request,) = pending
            seen.append([d["name"] for d in request["documents"]])
            tx = request["transaction_id"]
            answer = await http.post(f"{base}/{tx}/approve", json={"pin": "123456"})
            answer.raise_for_status()
    return seen


async def test_pdf_attachments_cost_no_approval_and_the_phone_lists_each_file(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = many_units(1, prefix="pdfphone")
    world = await make_world(units, dossiers=2, with_pdf=True)
    world.set_policy(unit, "manual")
    phone = asyncio.create_task(_approve_when_asked(world, unit.username, rounds=2))
    summary = await sign_and_submit(unit.block, period=PERIOD, receipt_wait_seconds=0)
    first, second = await asyncio.wait_for(phone, 60)
    assert [s.status for s in summary] == ["submitted", "submitted"]
    assert world.per_user("approved") == {unit.username: 2}
    # Round 1: both dossiers' declarations and both PDFs; round 2: the two envelopes.
    assert sum(PDF in name for name in first) == 2
    assert len(first) == 2 * 3 and len(second) == 2


async def test_every_pdf_the_flows_sign_verifies_with_pdfsig_and_a_changed_byte_fails(
    make_world: MakeWorld, pdfsig: Pdfsig
) -> None:
    (unit,) = units = many_units(1, prefix="pdfsig")
    world = await make_world(units, with_pdf=True)
    (row,) = await sign_and_submit(unit.block, period=PERIOD)
    folder = Path(world.scenario.data_dir) / "outbox" / unit.unit.code / "01-2026" / row.dossier
    signed = (folder / PDF).read_bytes()
    assert pdfsig.all_valid(signed)
    assert not pdfsig.all_valid(flip_byte(signed, len(signed) // 3))
    # What the gateway received embeds exactly that signed file.
    (attachment,) = [
        f for f in read_envelope((folder / "BHXHDienTu.xml").read_bytes()).files
        if f.form == "CT-DK"
    ]  # fmt: skip
    assert attachment.content == signed
