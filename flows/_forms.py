"""What the run forms offer and how their answers are read: the unit picker, the period,
the choices with readable labels, and the checks a run makes before anything else.

Prefect builds a deployment's run form from the flow's signature: the annotation gives
the type (a block type becomes a picker of the saved blocks, a ``Literal`` a drop-down,
a ``pattern`` is checked before the run is created), the docstring's ``Args:`` the
description under each field, and ``json_schema_extra`` here the field's title. Each
annotation below is what the form shows; under ``TYPE_CHECKING`` it is what a Python
caller may pass (a unit's name, ``"per_unit"``...). The flows turn off Prefect's own
parameter validation (``validate_parameters=False``) and read every value through the
functions of this module, so that a wrong value ends the run with one sentence in
Vietnamese and English (``flows._failures``) instead of a pydantic traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from prefect import get_client
from pydantic import Field

from bhxh import periods
from blocks.unit import BhxhUnit
from flows._pickers import PICKER_KEY, block_of_choice
from flows.errors import PeriodInvalid, UnitNotFound

__all__ = [
    "ATTENDED_LABELS",
    "BATCHING_LABELS",
    "FORM_PERIOD_PATTERN",
    "PERIOD_PATTERN",
    "PERIOD_RULE",
    "AttendedChoice",
    "BatchingChoice",
    "CertificateSerial",
    "ConfirmWait",
    "DryRun",
    "MaxWait",
    "OptionalPeriod",
    "Period",
    "PollEvery",
    "ReceiptWait",
    "UnitChoice",
    "UnitNames",
    "attended_mode",
    "batching_mode",
    "check_period",
    "check_unit_names",
    "default_period",
    "list_unit_blocks",
    "resolve_unit",
]

#: MM/yyyy, months 01 to 12.
PERIOD_PATTERN = r"^(0[1-9]|1[0-2])/[0-9]{4}$"
_PERIOD = re.compile(PERIOD_PATTERN)
#: The rule a person reads when a period is refused.
PERIOD_RULE = "Kỳ phải có dạng MM/YYYY, ví dụ 12/2026 / Period must be MM/YYYY, e.g. 12/2026"
#: The pattern the run form carries. Prefect's server checks a form with ``jsonschema``,
#: whose only words for a pattern that fails are "'2026-11' does not match '<pattern>'",
#: and both UIs show those words as they are (the schema's own error messages, such as
#: ``errorMessage``, are not read). So the pattern carries the rule itself, near its start,
#: as a branch that can never match (``(?!)`` fails at once): the refusal reads
#: "'2026-11' does not match '^(?:(?!)Kỳ phải có dạng MM/YYYY, ví dụ 12/2026 / Period must
#: be MM/YYYY, e.g. 12/2026|(0[1-9]...'". It is valid in Python's ``re`` (the server) and in
#: JavaScript (a browser that checks the form itself); a ``(?#...)`` comment is not valid
#: in JavaScript. The flows check the value again themselves (:func:`check_period`).
FORM_PERIOD_PATTERN = f"^(?:(?!){PERIOD_RULE}|(0[1-9]|1[0-2])/[0-9]{{4}})$"
FORM_OPTIONAL_PERIOD_PATTERN = f"^(?:(?!){PERIOD_RULE}|((0[1-9]|1[0-2])/[0-9]{{4}})?)$"


def default_period() -> str:
    """The period (MM/yyyy) a run declares when none is given: the current month in
    Vietnam's time (``bhxh.periods.default_period``, the one place that decides it; the
    run forms show it, the flows use it)."""
    return periods.default_period()


def check_period(value: object, *, empty_means: str | None = None) -> str:
    """``value`` as a period ``MM/yyyy``; empty (or None) is ``empty_means``, by default
    :func:`default_period`. Anything else is refused with :class:`PeriodInvalid`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default_period() if empty_means is None else empty_means
    text = str(value).strip()
    if not _PERIOD.match(text):
        example = default_period()
        raise PeriodInvalid(
            f"Kỳ kê khai '{text}' không đúng dạng MM/yyyy, ví dụ {example} / the period "
            f"'{text}' is not MM/yyyy, e.g. {example}"
        )
    return text


# ------------------------------------------------------------------------------ units
async def list_unit_blocks() -> list[str]:
    """Names of every saved unit (``BhxhUnit`` block), sorted."""
    async with get_client() as client:
        documents = await client.read_block_documents_by_type(
            BhxhUnit.get_block_type_slug(), include_secrets=False
        )
    return sorted(d.name for d in documents if d.name and not d.is_anonymous)


def _describe_ref(ref: object) -> str:
    if isinstance(ref, Mapping):
        for key in ("block_document_slug", "block_document_name", "block_document_id"):
            if ref.get(key):
                return str(ref[key])
    return str(ref)


async def resolve_unit(value: object) -> tuple[str, BhxhUnit]:
    """The unit a run was given, as (block name, block).

    Accepts what each caller passes: the form's choice (a label ending with the block's
    name, ``flows._pickers``), its block reference (``{"$ref": {"block_document_id":
    ...}}``, or ``block_document_slug`` from the command line), a saved block, or a block
    name. Refuses anything else, or a choice whose block is not saved (a label chosen
    before its company was removed), with :class:`UnitNotFound` naming the value.
    """
    if isinstance(value, BhxhUnit):
        name = getattr(value, "_block_document_name", None)
        if name:
            return str(name), value
        raise UnitNotFound(value.unit_code, await list_unit_blocks())
    if isinstance(value, Mapping) and "$ref" in value:
        ref = value["$ref"]
        try:
            unit = await BhxhUnit.aload_from_ref(ref)
        except ValueError as exc:  # unknown id or name; a block of another type
            raise UnitNotFound(_describe_ref(ref), await list_unit_blocks()) from exc
        name = getattr(unit, "_block_document_name", None) or _describe_ref(ref)
        return str(name), unit
    if isinstance(value, str) and value.strip():
        name = block_of_choice(value)
        try:
            return name, await BhxhUnit.aload_unit(name)
        except ValueError as exc:  # Prefect: "Unable to find block document named ..."
            raise UnitNotFound(value.strip(), await list_unit_blocks()) from exc
    raise UnitNotFound(str(value or ""), await list_unit_blocks())


async def check_unit_names(names: Sequence[str] | None) -> list[str]:
    """The units a run covers, as block names: ``names`` (block names or the picker's
    labels; every saved unit when empty), each one saved.

    Every unknown name is refused at once, before any unit starts.
    """
    known = await list_unit_blocks()
    if not names:
        return known
    asked: list[str] = []
    for value in names:
        if not value or not value.strip():
            continue
        name = block_of_choice(value)
        if name not in known:
            raise UnitNotFound(value.strip(), known)
        if name not in asked:
            asked.append(name)
    return asked


# ------------------------------------------------------------------------------ choices
#: The batching choices as the form shows them, by the code the pipeline uses.
BATCHING_LABELS: Mapping[str, str] = {
    "per_unit": "Theo đơn vị: tối đa 2 lần duyệt / per unit: at most 2 approvals",
    "per_dossier": "Từng hồ sơ: 2 lần duyệt mỗi hồ sơ / per dossier: 2 approvals each",
}

#: Whether a person answers the run's questions, as the form shows it.
ATTENDED_LABELS: Mapping[bool | None, str] = {
    None: "Tự động: chạy tay thì hỏi, chạy theo lịch thì không / auto: asks only when "
    "started by hand",
    True: "Có người trả lời / a person answers",
    False: "Không ai trả lời, không dừng để hỏi / nobody answers, never pauses",
}


def _code_of(value: object, labels: Mapping[Any, str], what: str) -> Any:
    for code, label in labels.items():
        if value in (code, label):
            return code
    choices = " | ".join(str(code) for code in labels)
    raise ValueError(
        f"Giá trị '{value}' không hợp lệ cho {what} / '{value}' is not a valid {what}: {choices}"
    )


def batching_mode(value: object) -> Literal["per_unit", "per_dossier"]:
    """``per_unit`` or ``per_dossier`` from the form's label or the code itself."""
    code: Literal["per_unit", "per_dossier"] = _code_of(value, BATCHING_LABELS, "batching")
    return code


def attended_mode(value: object) -> bool | None:
    """True, False or None (decide from how the run started), from a label or a bool."""
    code: bool | None = _code_of(value, ATTENDED_LABELS, "interactive")
    return code


def _title(title: str, **extra: Any) -> Any:
    return Field(json_schema_extra={"title": title, **extra})


def _seconds(title: str, maximum: float) -> Any:
    return Annotated[float, Field(ge=0, le=maximum, json_schema_extra={"title": title})]


if TYPE_CHECKING:
    UnitChoice = BhxhUnit | str
    Period = str
    OptionalPeriod = str | None
    BatchingChoice = str
    AttendedChoice = bool | str | None
    UnitNames = Sequence[str] | None
    DryRun = bool
    CertificateSerial = str | None
    ReceiptWait = float
    ConfirmWait = float
    MaxWait = float
    PollEvery = float
else:
    # The form: a picker of the saved units (Prefect renders a block type so; the
    # deployments' forms get each company's name, tax code and unit code from
    # flows._pickers, by the PICKER_KEY mark), a period checked against the pattern
    # before a run is created, drop-downs of readable labels.
    UnitChoice = Annotated[BhxhUnit, _title("Đơn vị / Unit", **{PICKER_KEY: "unit"})]
    Period = Annotated[
        str,
        Field(
            json_schema_extra={
                "title": "Kỳ kê khai / Period (MM/yyyy)",
                "example": "10/2026",
                "pattern": FORM_PERIOD_PATTERN,
            },
        ),
    ]
    OptionalPeriod = Annotated[
        str,
        Field(
            json_schema_extra={
                "pattern": FORM_OPTIONAL_PERIOD_PATTERN,
                "title": "Kỳ kê khai / Period (MM/yyyy; để trống = mọi kỳ / empty = every one)",
                "example": "10/2026",
            },
        ),
    ]
    BatchingChoice = Annotated[
        Literal.__getitem__(tuple(BATCHING_LABELS.values())),
        _title("Cách gộp chữ ký / Batching"),
    ]
    AttendedChoice = Annotated[
        Literal.__getitem__(tuple(ATTENDED_LABELS.values())),
        _title("Có người trả lời câu hỏi? / Interactive"),
    ]
    UnitNames = Annotated[
        list[str],
        _title(
            "Các đơn vị / Units (để trống = mọi đơn vị / empty = every unit)",
            **{PICKER_KEY: "units"},
        ),
    ]
    DryRun = Annotated[bool, _title("Chạy thử, không ký / Dry run")]
    CertificateSerial = Annotated[
        str,
        Field(
            pattern=r"^([0-9A-Fa-f]{6,64})?$",
            json_schema_extra={
                "title": "Số serial chứng thư / Certificate serial (để trống = tự chọn / "
                "empty = choose)",
                "example": "5A0C3F9E12B7",
            },
        ),
    ]
    ReceiptWait = _seconds("Chờ số hồ sơ, giây / Wait for the receipt (seconds)", 3600)
    ConfirmWait = _seconds("Chờ BHXH xác nhận, giây / Wait for VSS to confirm (seconds)", 3600)
    MaxWait = _seconds("Chờ tối đa, giây / Wait at most (seconds)", 86400)
    PollEvery = _seconds("Hỏi lại sau mỗi, giây / Ask again every (seconds)", 3600)
