"""The unit pickers: each saved company on one line (name, tax code, unit code), in the
forms of the deployments taking one unit and of those taking several, kept up to date
when a company is added; what a person chooses is read back as the unit's block."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.utilities.schema_tools.validation import validate

from blocks import BhxhUnit
from demo.scenario import demo_units
from flows import refresh_unit_pickers, sign_and_submit, track_results, unit_choices, unit_label
from flows._forms import check_unit_names, resolve_unit
from flows._pickers import BLOCK_TAB, CHOICE_TAB, _sort_key, block_of_choice, with_unit_pickers
from flows.errors import UnitNotFound
from tests.flows.conftest import MakeWorld
from tests.flows.test_companies import _add_answering

AN_PHAT = {"name": "Công ty TNHH An Phát", "tax_code": "0101234567", "unit_code": "TA0001A"}
LABEL = "Công ty TNHH An Phát · MST 0101234567 · mã đơn vị TA0001A · an-phat"
OTHER = "Công ty CP Bình Minh · MST 0309876543 · mã đơn vị TB0002B · binh-minh"


def _schema(flow: Any) -> dict[str, Any]:
    schema: dict[str, Any] = flow.parameters.model_dump()
    return schema


# ------------------------------------------------------------------------------ the schema
def test_a_label_names_the_company_its_tax_code_unit_code_and_block() -> None:
    assert unit_label("an-phat", AN_PHAT) == LABEL
    assert block_of_choice(LABEL) == "an-phat"
    assert block_of_choice(" an-phat ") == "an-phat"  # a block name passed by code


def test_the_companies_read_in_vietnamese_order() -> None:
    names = ["Công ty Hòa Bình", "Công ty Đông Á", "Công ty Hải Đăng", "Công ty Dũng"]
    assert sorted(names, key=_sort_key) == [
        "Công ty Đông Á",  # đ read as d
        "Công ty Dũng",
        "Công ty Hải Đăng",
        "Công ty Hòa Bình",
    ]


def test_one_unit_is_chosen_by_label_and_the_block_picker_stays_beside() -> None:
    static = _schema(sign_and_submit)
    schema = with_unit_pickers(static, [LABEL, OTHER])
    unit = schema["properties"]["unit_block"]
    choice, block = unit["anyOf"]
    assert (choice["title"], choice["enum"]) == (CHOICE_TAB, [LABEL, OTHER])
    assert (block["title"], block["$ref"]) == (BLOCK_TAB, "#/definitions/BhxhUnit")
    assert unit["title"] == "Đơn vị / Unit" and "$ref" not in unit
    assert static["properties"]["unit_block"]["$ref"] == "#/definitions/BhxhUnit"  # a copy
    assert with_unit_pickers(schema, [LABEL, OTHER]) == schema  # refreshing twice: the same
    # What the server accepts when it enforces the form: a label, or a block reference
    # (code, the command line, add_company's start of setup); not a label of no company.
    base = {"period": "12/2026"}
    assert validate({**base, "unit_block": LABEL}, schema) == []
    ref = {"$ref": {"block_document_slug": "an-phat"}}
    assert validate({**base, "unit_block": ref}, schema) == []
    assert validate({**base, "unit_block": "Công ty đã xoá · x"}, schema) != []


def test_no_company_saved_leaves_prefects_block_picker() -> None:
    schema = with_unit_pickers(with_unit_pickers(_schema(sign_and_submit), [LABEL]), [])
    assert schema["properties"]["unit_block"]["$ref"] == "#/definitions/BhxhUnit"
    assert "anyOf" not in schema["properties"]["unit_block"]


def test_several_units_are_a_multiple_choice_of_the_same_labels() -> None:
    schema = with_unit_pickers(_schema(track_results), [LABEL, OTHER])
    units = schema["properties"]["units"]
    assert units["type"] == "array" and units["default"] == []
    assert units["items"] == {"type": "string", "enum": [LABEL, OTHER]}
    assert validate({"units": [OTHER, LABEL]}, schema) == []
    assert validate({"units": ["binhminh"]}, schema) != []  # a typo: refused by the form
    again = with_unit_pickers(schema, [])
    assert again["properties"]["units"]["items"] == {"type": "string"}


def test_a_schema_without_a_unit_is_left_alone() -> None:
    from flows import import_companies

    static = _schema(import_companies)
    assert with_unit_pickers(static, [LABEL]) == static


# ------------------------------------------------------------------------------ saved units
@pytest.fixture
async def two_units(make_world: MakeWorld) -> AsyncIterator[None]:
    await make_world(demo_units()[:2], setup=False, dossiers=0)
    yield


async def test_saved_units_are_offered_by_name_and_read_back_as_blocks(two_units: None) -> None:
    choices = await unit_choices()
    an_phat, binh_minh = demo_units()[:2]
    unit = await BhxhUnit.aload_unit(an_phat.block)
    label = unit_label(an_phat.block, unit)
    assert choices[label] == an_phat.block
    assert unit.name in label and unit.tax_code in label and unit.unit_code in label
    assert list(choices) == sorted(choices, key=_sort_key)
    name, loaded = await resolve_unit(label)
    assert (name, loaded.unit_code) == (an_phat.block, unit.unit_code)
    other = next(lbl for lbl, block in choices.items() if block == binh_minh.block)
    assert await check_unit_names([other, label, an_phat.block]) == [
        binh_minh.block,
        an_phat.block,
    ]


async def test_a_stale_choice_is_refused_naming_it(two_units: None) -> None:
    stale = "Công ty TNHH Đã Xoá · MST 0100000000 · mã đơn vị TX0000X · da-xoa"
    with pytest.raises(UnitNotFound, match="Không có đơn vị 'Công ty TNHH Đã Xoá"):
        await resolve_unit(stale)
    with pytest.raises(UnitNotFound, match="there is no unit named 'Công ty TNHH Đã Xoá"):
        await check_unit_names([stale])


# ------------------------------------------------------------------------------ refreshed
async def _deploy(flow: Any, name: str) -> UUID:
    async with get_client() as client:
        flow_id = await client.create_flow_from_name(flow.name)
        return await client.create_deployment(
            flow_id,
            name,
            parameter_openapi_schema=_schema(flow),
            enforce_parameter_schema=True,
        )


async def _form(deployment_id: UUID) -> dict[str, Any]:
    async with get_client() as client:
        deployment = await client.read_deployment(deployment_id)
    return dict(deployment.parameter_openapi_schema or {})


async def test_the_forms_list_a_company_once_it_is_added(make_world: MakeWorld) -> None:
    an_phat = demo_units()[0]
    world = await make_world([an_phat], setup=False, dossiers=0)
    manual = await _deploy(sign_and_submit, "picker-manual")
    track = await _deploy(track_results, "picker-track")
    try:
        assert "picker-manual" in " ".join(await refresh_unit_pickers())
        before = (await _form(manual))["properties"]["unit_block"]["anyOf"][0]["enum"]
        added = "Công ty TNHH Sen Vàng · MST 0107654399 · mã đơn vị TH0012H · "
        assert not any(label.startswith(added) for label in before)

        password = world.scenario.passwords[an_phat.username]
        state = await _add_answering(
            an_phat.username,
            password,
            name="Công ty TNHH Sen Vàng",
            tax_code="0107654399",
            unit_code="TH0012H",
            run_setup=False,
        )
        assert state.is_completed(), state.message  # type: ignore[attr-defined]

        one = (await _form(manual))["properties"]["unit_block"]["anyOf"][0]["enum"]
        several = (await _form(track))["properties"]["units"]["items"]["enum"]
        (line,) = [x for x in one if x.startswith(added)]
        assert line in several
        assert set(before) < set(one)
    finally:
        async with get_client() as client:
            for deployment_id in (manual, track):
                await client.delete_deployment(deployment_id)
