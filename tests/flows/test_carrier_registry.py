"""Carriers by registry: a new carrier is one adapter and one registry entry, and a unit
names it in its ``route``.

The throwaway carrier here is the in-memory one of the conformance tests
(``tests/gateway/example_adapter.py``), registered as ``"memory"``: a unit whose route
names it goes through the real sign_and_submit flow (signed on the sandbox phone), and its
dossier lands in that carrier, not at the sandbox gateway. A unit naming a carrier nobody
registered is refused before anything is signed, in one sentence naming the known ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bhxh.settings import Settings
from bhxh.submission import Submission, SubmissionPort
from blocks import BhxhUnit
from blocks.carriers import (
    CarrierUnit,
    UnknownCarrier,
    carrier_names,
    get_carrier,
    register_carrier,
    unregister_carrier,
)
from demo.scenario import many_units
from flows import sign_and_submit
from tests.bhxh.submission.example_adapter import MemoryAdapter, MemoryCarrier, Received
from tests.flows.conftest import PERIOD, MakeWorld


class NumberingCarrier(MemoryCarrier):
    """The in-memory carrier, where VSS numbers a dossier as soon as it is received."""

    def receive(self, submission: Submission) -> Received:
        record = super().receive(submission)
        record.status, record.so_ho_so = "numbered", f"{len(self.inbox):05d}/2026/07906"
        return record


@pytest.fixture
def memory() -> Iterator[NumberingCarrier]:
    carrier = NumberingCarrier()

    @register_carrier("memory", block_type=None)
    async def open_memory(unit: CarrierUnit, settings: Settings) -> SubmissionPort:
        return MemoryAdapter(carrier)

    yield carrier
    unregister_carrier("memory")


async def _route(block_name: str, route: str) -> None:
    block = await BhxhUnit.aload_unit(block_name)
    block.route = route
    await block.asave(block_name, overwrite=True)


async def test_a_registered_carrier_takes_the_dossiers_of_a_unit_that_names_it(
    make_world: MakeWorld, memory: NumberingCarrier
) -> None:
    (unit,) = units = many_units(1, prefix="memcarrier")
    world = await make_world(units)  # setup reads the registration at the sandbox gateway
    await _route(unit.block, "memory")
    assert "memory" in carrier_names()
    assert "memory" in BhxhUnit.model_json_schema()["properties"]["route"]["enum"]

    (row,) = await sign_and_submit(unit.block, period=PERIOD)

    # Signed on the phone (two approvals), handed to the memory carrier, numbered by it.
    (received,) = memory.inbox
    assert received.submission.dossier_id == row.dossier
    assert len(received.submission.approvals) == 2
    assert row.acknowledgement == received.transaction_id
    assert row.so_ho_so == received.so_ho_so
    assert world.count("approved", user=unit.username) == 2
    # Nothing went to the sandbox gateway.
    assert world.submissions() == {}


async def test_a_unit_naming_an_unknown_carrier_is_refused_naming_the_known_ones(
    make_world: MakeWorld,
) -> None:
    with pytest.raises(UnknownCarrier, match=r"'pigeon'.*known carriers: export, gateway$"):
        get_carrier("pigeon")

    (unit,) = units = many_units(1, prefix="pigeon")
    world = await make_world(units)
    await _route(unit.block, "pigeon")  # a saved unit still loads: checked at the port
    state = await sign_and_submit(unit.block, period=PERIOD, return_state=True)
    assert state.is_failed()
    message = state.message or ""
    assert message.startswith(
        f"{unit.unit.code}: Tuyến nộp hồ sơ của đơn vị không được hỗ trợ / the unit's "
        "carrier (route) is not supported."
    ), message
    assert "'pigeon'" in message and "known carriers: export, gateway" in message
    with pytest.raises(UnknownCarrier, match="known carriers: export, gateway"):
        await state.aresult()
    assert world.count("sign_request") == 0 and world.submissions() == {}
