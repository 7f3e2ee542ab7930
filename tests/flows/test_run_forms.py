"""The run forms as Prefect builds them from the flows: what the accountant reads and picks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from prefect import Flow
from prefect.input import RunInput
from prefect.utilities.schema_tools import validate

import flows
from esign.models import Certificate
from flows import (
    ATTENDED_LABELS,
    BATCHING_LABELS,
    AskAgain,
    ExportReceipt,
    OneTimeCode,
    RegistrationAnswer,
    attended_mode,
    batching_mode,
    certificate_choice,
    check_period,
    default_period,
)

FLOWS: list[Flow[Any, Any]] = [
    flow for name in flows.__all__ if isinstance(flow := getattr(flows, name), Flow)
]

#: reStructuredText that a form would show literally: ``literal``, :role:`x`, a directive,
#: `link <url>`_, a literal-block marker (a Markdown code fence is fine).
RST = re.compile(r"(?<!`)``(?!`)|:[a-z]+:`|^\s*\.\. |`[^`]*`_|::\s*$", re.MULTILINE)


def _properties(flow: Flow[Any, Any]) -> dict[str, dict[str, Any]]:
    props: dict[str, dict[str, Any]] = flow.parameters.model_dump()["properties"]
    return props


def _forms() -> list[type[RunInput]]:
    now = dt.datetime.now(dt.UTC)
    fake = Certificate("misa", "A", "0A1B2C3D", "CN=Test", "0101234567", now, now, "active", b"")
    return [OneTimeCode, AskAgain, ExportReceipt, RegistrationAnswer, certificate_choice((fake,))]


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_every_flow_parameter_has_a_description_without_restructuredtext(
    flow: Flow[Any, Any],
) -> None:
    for name, prop in _properties(flow).items():
        description = (prop.get("description") or "").strip()
        assert description, f"{flow.name}.{name}: no description"
        assert not RST.search(description), f"{flow.name}.{name}: reStructuredText: {description}"


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_every_flow_parameter_reads_in_vietnamese_and_english_with_a_title(
    flow: Flow[Any, Any],
) -> None:
    for name, prop in _properties(flow).items():
        assert " / " in prop["title"] and prop["title"] != name, f"{flow.name}.{name}"
        description = " ".join(prop["description"].split())
        assert " / " in description, f"{flow.name}.{name}: one language only"
        if prop.get("type") == "string" and "enum" not in prop:
            assert "e.g." in description and "ví dụ" in description, f"{flow.name}.{name}"
        if prop.get("type") == "number":
            assert "maximum" in prop and prop["minimum"] == 0, f"{flow.name}.{name}"
            assert "default" in description, f"{flow.name}.{name}: no range/default said"


def test_the_flow_descriptions_are_plain_text_too() -> None:
    for flow in FLOWS:
        assert flow.description and not RST.search(flow.description), flow.name


@pytest.mark.parametrize("form", _forms(), ids=lambda f: f.__name__)
def test_every_pause_form_field_has_a_title_and_a_plain_description(
    form: type[RunInput],
) -> None:
    for name, field in form.model_fields.items():
        if name in RunInput.model_fields:
            continue
        assert field.title and " / " in field.title, f"{form.__name__}.{name}"
        assert field.description and not RST.search(field.description), f"{form.__name__}.{name}"


def test_the_unit_is_a_picker_of_the_saved_units_with_no_secret() -> None:
    schema = flows.sign_and_submit.parameters.model_dump()
    unit = schema["properties"]["unit_block"]
    definition = schema["definitions"][unit["$ref"].rsplit("/", 1)[-1]]
    assert definition["block_type_slug"] == "bhxh-unit"  # the UI lists the saved blocks
    assert schema["required"] == ["unit_block"]
    # The unit block holds names of the credentials blocks, never a secret.
    assert all(p.get("format") != "password" for p in definition["properties"].values())
    for flow in (flows.setup_remote_signing,):
        assert "$ref" in _properties(flow)["unit_block"]


def test_the_form_refuses_a_period_that_is_not_mm_yyyy() -> None:
    schema = flows.sign_and_submit.parameters.model_dump()
    unit = {"$ref": {"block_document_slug": "an-phat"}}
    ok = validate({"unit_block": unit, "period": "10/2026"}, schema, raise_on_error=False)
    assert ok == []
    for wrong in ("2026-11", "13/2026", "1/2026", "10/26"):
        errors = validate({"unit_block": unit, "period": wrong}, schema, raise_on_error=False)
        assert errors, wrong
    track = flows.track_results.parameters.model_dump()
    assert validate({"period": ""}, track, raise_on_error=False) == []
    assert validate({"period": "2026-11"}, track, raise_on_error=False)


def test_the_period_shown_is_the_previous_month_not_none() -> None:
    props = _properties(flows.sign_and_submit)
    assert props["period"]["default"] == default_period()
    assert re.fullmatch(r"\d\d/\d{4}", props["period"]["default"])
    assert "anyOf" not in props["period"]  # no "str | None" tabs in the form
    # track_results follows every open dossier unless told a period.
    assert _properties(flows.track_results)["period"]["default"] == ""
    assert _properties(flows.track_results)["units"]["default"] == []


def test_choices_show_readable_labels_and_read_back_as_codes() -> None:
    props = _properties(flows.sign_and_submit)
    assert props["batching"]["enum"] == list(BATCHING_LABELS.values())
    assert props["interactive"]["enum"] == list(ATTENDED_LABELS.values())
    for code, label in BATCHING_LABELS.items():
        assert batching_mode(label) == batching_mode(code) == code
    for attended, label in ATTENDED_LABELS.items():
        assert attended_mode(label) is attended_mode(attended) is attended
    with pytest.raises(ValueError, match=re.escape("per_unit | per_dossier")):
        batching_mode("unit")
    ask = AskAgain.model_json_schema()["properties"]["action"]
    assert all(" / " in choice for choice in ask["enum"])


def test_a_period_is_checked_with_a_sentence_in_both_languages() -> None:
    assert check_period("  10/2026 ") == "10/2026"
    assert check_period("") == check_period(None) == default_period()
    assert check_period("", empty_means="") == ""
    with pytest.raises(ValueError, match=r"không đúng dạng MM/yyyy.*is not MM/yyyy"):
        check_period("2026-11")
