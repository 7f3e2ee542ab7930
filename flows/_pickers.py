"""The unit pickers of the run forms: each saved company on one line a person recognises,
its name, tax code and BHXH unit code, kept up to date in every deployment's form.

What Prefect 3.9 renders (read in both UIs' bundles, then seen in headless Chromium): a
parameter whose type is a block type becomes a picker of the saved block documents by
their slug only (``an-phat``); a string ``enum`` becomes a drop-down (in the new UI a
searchable one: typing part of a name or a tax code filters the lines); an array whose
items are an ``enum`` becomes a multiple choice of the same lines; ``oneOf`` / ``anyOf``
become tabs, one a branch (so forty ``const`` + ``title`` branches would be forty tabs).

A flow signature cannot know which companies are saved, so the forms are rewritten after
the fact: every property marked ``x-bhxh-picker`` in a deployment's
``parameter_openapi_schema`` (the unit of setup, manual, build; the units of track,
monthly, reconcile) gets the current labels, through the API's deployment update
(:func:`refresh_unit_pickers`), whenever a company is added or imported and when
``make server`` or ``python -m deployments.pickers`` runs after a deploy.

- One unit: two tabs, "Chọn công ty / Company" (the labels, shown first) and the saved
  block picker as before, so that a run started by code or from the command line with a
  block reference (``{"$ref": {"block_document_slug": "an-phat"}}``) is still accepted
  by the server (its check of the form, ``enforce_parameter_schema``).
- Several units: a multiple choice of the labels.

A label ends with the block's name (``... · an-phat``), so the flows read a label, a block
name or a block reference alike (:func:`block_of_choice`); a label whose block no longer
exists ends the run with one sentence naming it (``flows._forms``).
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prefect import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.logging import get_logger

from blocks.unit import BhxhUnit

__all__ = [
    "PICKER_KEY",
    "SEPARATOR",
    "block_of_choice",
    "refresh_unit_pickers",
    "refresh_unit_pickers_quietly",
    "unit_choices",
    "unit_label",
    "with_unit_pickers",
]

#: The schema key marking a unit parameter ("unit": one unit; "units": several). An
#: unknown keyword to JSON Schema, ignored by the server's check and by both UIs.
PICKER_KEY = "x-bhxh-picker"
#: Between the parts of a label. A block name (lowercase letters, digits, dashes) never
#: contains it, so the last part of a label is always the block's name.
SEPARATOR = " · "
#: The tab of the labels (shown first) and the tab of the saved blocks.
CHOICE_TAB = "Chọn công ty / Company"
BLOCK_TAB = "Khối đã lưu / Saved block"


def unit_label(block: str, unit: BhxhUnit | Mapping[str, Any]) -> str:
    """``Công ty TNHH An Phát · MST 0101234567 · mã đơn vị TA0001A · an-phat``: how a
    company appears in the pickers (our choice of words: MST is how Vietnamese forms
    abbreviate the tax code)."""
    data = unit if isinstance(unit, Mapping) else unit.model_dump()
    parts = [str(data.get("name") or "").strip()]
    if data.get("tax_code"):
        parts.append(f"MST {data['tax_code']}")
    if data.get("unit_code"):
        parts.append(f"mã đơn vị {data['unit_code']}")
    parts.append(block)
    return SEPARATOR.join(p for p in parts if p)


def block_of_choice(value: str) -> str:
    """The block name a form's value names: the last part of a label, or the value itself
    (a block name typed or passed by code)."""
    text = value.strip()
    return text.rsplit(SEPARATOR, 1)[-1].strip() if SEPARATOR in text else text


def _sort_key(label: str) -> tuple[str, str]:
    """Letters before their marks, as a Vietnamese list reads (Hải before Hòa): the
    label without diacritics first (đ as d), the label itself to break ties."""
    bare = unicodedata.normalize("NFD", label.casefold().replace("đ", "d"))
    return "".join(c for c in bare if not unicodedata.combining(c)), label


async def unit_choices() -> dict[str, str]:
    """Every saved unit as ``{label: block name}``, sorted by label (the company's name
    first, so a firm's forty companies read as an alphabetical list)."""
    async with get_client() as client:
        documents = await client.read_block_documents_by_type(
            BhxhUnit.get_block_type_slug(), include_secrets=False
        )
    found = {
        unit_label(d.name, d.data or {}): d.name for d in documents if d.name and not d.is_anonymous
    }
    return {label: found[label] for label in sorted(found, key=_sort_key)}


def _unit_definition(schema: Mapping[str, Any]) -> str | None:
    for key, definition in (schema.get("definitions") or {}).items():
        if definition.get("block_type_slug") == BhxhUnit.get_block_type_slug():
            return f"#/definitions/{key}"
    return None


def _one_unit(prop: dict[str, Any], labels: Sequence[str], block_ref: str | None) -> None:
    for key in ("$ref", "allOf", "anyOf", "enum", "type"):
        prop.pop(key, None)
    if not labels and block_ref:
        prop["$ref"] = block_ref  # nothing saved yet: the block picker, as Prefect makes it
        return
    choice = {"title": CHOICE_TAB, "type": "string", "enum": list(labels)}
    prop["anyOf"] = [choice, {"title": BLOCK_TAB, "$ref": block_ref}] if block_ref else [choice]


def _several_units(prop: dict[str, Any], labels: Sequence[str]) -> None:
    prop["type"] = "array"
    prop["items"] = {"type": "string", "enum": list(labels)} if labels else {"type": "string"}


def with_unit_pickers(schema: Mapping[str, Any], labels: Iterable[str]) -> dict[str, Any]:
    """``schema`` (a deployment's ``parameter_openapi_schema``) with every marked unit
    property offering ``labels``; a copy, the same as ``schema`` when nothing is marked."""
    new = copy.deepcopy(dict(schema))
    choices = list(labels)
    block_ref = _unit_definition(new)
    for prop in (new.get("properties") or {}).values():
        kind = prop.get(PICKER_KEY) if isinstance(prop, dict) else None
        if kind == "unit":
            _one_unit(prop, choices, block_ref)
        elif kind == "units":
            _several_units(prop, choices)
    return new


async def refresh_unit_pickers() -> list[str]:
    """Rewrite the unit pickers of every deployment on the server with the saved units;
    the names (``flow/deployment``) of the deployments changed."""
    labels = list(await unit_choices())
    changed: list[str] = []
    async with get_client() as client:
        flows = {f.id: f.name for f in await client.read_flows()}
        for deployment in await client.read_deployments():
            schema = deployment.parameter_openapi_schema or {}
            new = with_unit_pickers(schema, labels)
            if new == schema:
                continue
            await client.update_deployment(
                deployment.id, DeploymentUpdate(parameter_openapi_schema=new)
            )
            changed.append(f"{flows.get(deployment.flow_id, '?')}/{deployment.name}")
    return changed


async def refresh_unit_pickers_quietly() -> None:
    """:func:`refresh_unit_pickers` that never fails the run calling it: the company is
    saved either way, and the next refresh (``make server``, the next company added, or
    ``python -m deployments.pickers``) catches up."""
    try:
        await refresh_unit_pickers()
    except Exception:  # a form not refreshed is a convenience lost, not a failure
        get_logger("bhxh.flows").warning(
            "Chưa cập nhật được danh sách đơn vị trong các mẫu chạy; chạy python -m "
            "deployments.pickers để cập nhật / the unit pickers of the run forms were not "
            "refreshed; run python -m deployments.pickers",
            exc_info=True,
        )
