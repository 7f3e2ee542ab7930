"""What the company flows share: the form's choices (providers, carriers, I-VANs) with
readable labels, the signer's account form (a pause, never a parameter), the gateway a
company is routed through, and the import folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.input import RunInput
from prefect.input.actions import adelete_flow_run_input
from prefect.runtime import flow_run
from pydantic import Field, SecretStr, create_model

from bhxh.catalogue import DEFAULT_IVAN, IVANS
from bhxh.roster import CompanyInvalid
from bhxh.settings import Settings
from blocks.carriers import carrier_names
from blocks.credentials import BhxhGatewayCredentials
from blocks.providers import SigningCredentials, credentials_type, provider_label, provider_names
from blocks.unit import only_gateway_block
from flows._pauses import Question, ask

__all__ = [
    "CARRIER_LABELS",
    "IMPORT_FOLDER",
    "IVAN_LABELS",
    "ask_signing_account",
    "carrier_labels_for_files",
    "code_of",
    "gateway_name",
    "import_path",
    "provider_labels",
    "signer_values",
]

#: The carriers as the forms show them (a carrier registered later shows its name).
_KNOWN_CARRIERS: Mapping[str, str] = {
    "gateway": "Gửi qua API của I-VAN / through the I-VAN's API (gateway)",
    "export": "Xuất tệp cho phần mềm của I-VAN / files for the I-VAN's software (export)",
}
CARRIER_LABELS: Mapping[str, str] = {n: _KNOWN_CARRIERS.get(n, n) for n in carrier_names()}
IVAN_LABELS: Mapping[str, str] = {
    code: f"{code} · {ivan.short} ({ivan.name})" for code, ivan in IVANS.items()
}
DEFAULT_IVAN_LABEL = IVAN_LABELS[DEFAULT_IVAN.code]

#: Where a firm drops its company workbooks, under the data folder.
IMPORT_FOLDER = "import"


def provider_labels() -> dict[str, str]:
    """Provider name -> ``MISA eSign (misa)``, as the form shows it."""
    return {name: f"{provider_label(name)} ({name})" for name in provider_names()}


def code_of(value: object, labels: Mapping[str, str], what: tuple[str, str]) -> str:
    """The code a form's value names (the code itself or its label)."""
    for code, label in labels.items():
        if value in (code, label):
            return code
    known = ", ".join(labels)
    raise CompanyInvalid(
        f"{what[0]} '{value}' không có trong danh sách ({known}) / unknown {what[1]} "
        f"'{value}' (known: {known})"
    )


def carrier_labels_for_files() -> dict[str, tuple[str, ...]]:
    """Carrier name -> the words a workbook cell may use for it."""
    words = {"gateway": ("Gateway", "API", "I-VAN"), "export": ("Xuất tệp", "Export")}
    return {name: words.get(name, ()) for name in carrier_names()}


async def gateway_name(value: object, unit_code: str) -> str:
    """The gateway block a company is routed through: the one picked in the form, else
    the only one saved."""
    if isinstance(value, BhxhGatewayCredentials):
        name = getattr(value, "_block_document_name", None)
        if name:
            return str(name)
    if isinstance(value, Mapping) and "$ref" in value:
        block = await BhxhGatewayCredentials.aload_from_ref(value["$ref"])
        name = getattr(block, "_block_document_name", None)
        if name:
            return str(name)
    if isinstance(value, str) and value.strip():
        return value.strip()
    try:
        return await only_gateway_block(unit_code)
    except ValueError as exc:
        raise CompanyInvalid(str(exc)) from None


def signer_values(
    kind: type[SigningCredentials], account: str, password: SecretStr | None
) -> dict[str, Any]:
    """The signer's fields of a provider's credentials from an account and a password."""
    values: dict[str, Any] = {}
    for name in kind.signer_fields:
        if kind.model_fields[name].annotation is SecretStr:
            values.setdefault(name, password)
        else:
            values.setdefault(name, account)
    return values


def _account_form(kind: type[SigningCredentials], asked: list[str]) -> type[RunInput]:
    fields: dict[str, Any] = {}
    for name in asked:
        info = kind.model_fields[name]
        default = info.default if not info.is_required() else ...
        if info.annotation is SecretStr and default is ...:
            default = SecretStr("")
        fields[name] = (
            info.annotation,
            Field(default=default, title=info.title or name, description=info.description),
        )
    return create_model(f"{kind.__name__}Account", __base__=RunInput, **fields)


async def ask_signing_account(
    provider: str,
    template: tuple[str, SigningCredentials] | None,
    unit_code: str,
    name: str,
    settings: Settings,
) -> dict[str, Any]:
    """Ask a person, in a paused run, for the signer's account and secrets (the fields the
    firm's integrator account does not give); the answer is deleted from Prefect's
    database as soon as it is read."""
    kind = credentials_type(provider)
    if template is not None and kind.signer_fields:
        asked = list(kind.signer_fields)
        source = (
            f"Tài khoản tích hợp của công ty lấy từ khối `{template[0]}` / the firm's "
            f"integrator account is taken from block `{template[0]}`."
        )
    else:
        asked = [
            n for n, info in kind.model_fields.items() if info.is_required() or n == "base_url"
        ]
        source = (
            "Chưa có khối nào của nhà cung cấp này: nhập cả tài khoản tích hợp của công ty / "
            "no block of this provider is saved yet: type the firm's integrator account too."
        )
    label = provider_label(provider)
    question = Question(
        f"nhập tài khoản {label} của người ký",
        f"type the signer's {label} account",
        f"**{name}** ({unit_code}): {source} Mật khẩu chỉ được lưu trong khối đăng nhập / "
        "the password is kept only in the credentials block.",
        unit_code,
    )
    form = _account_form(kind, asked)
    key = "tai-khoan"
    answer: Any = await ask(question, form, key=key, settings=settings)
    if flow_run.id is not None:
        # The secrets must not stay in the run's stored inputs.
        await adelete_flow_run_input(key=f"paused-{key}-response", flow_run_id=UUID(flow_run.id))
    return {n: getattr(answer, n) for n in asked}


def import_path(file: str, settings: Settings) -> Path:
    """The workbook to import: ``file`` in the import folder (or a path inside the data
    folder); empty: the newest ``.xlsx`` or ``.csv`` in the import folder.

    Raises:
        CompanyInvalid: no such file, or a path outside the data folder.
    """
    root = settings.data_dir.resolve()
    folder = root / IMPORT_FOLDER
    if not file.strip():
        found = [p for p in folder.glob("*") if p.suffix.lower() in {".xlsx", ".csv"}]
        if not found:
            raise CompanyInvalid(
                f"thư mục {folder} chưa có tệp .xlsx hay .csv nào / the folder {folder} holds "
                "no .xlsx or .csv file"
            )
        return max(found, key=lambda p: (p.stat().st_mtime, p.name))
    given = Path(file.strip())
    path = (given if given.is_absolute() else folder / given).resolve()
    if not path.is_relative_to(root):
        raise CompanyInvalid(
            f"tệp {file} nằm ngoài thư mục dữ liệu {root} / the file {file} is outside the "
            f"data folder {root}"
        )
    if not path.is_file():
        raise CompanyInvalid(f"không có tệp {path} / there is no file {path}")
    return path
