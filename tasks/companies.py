"""A firm's companies: the saved units read for duplicates, the firm's integrator account
found in a saved credentials block, the signer's account checked by logging in, and a
company's blocks and folders saved.

The credentials block handed to :func:`check_signing_account` holds its secrets as
``SecretStr`` and lives in memory only (no cache, no persisted result), like the one-time
code of ``login_esign``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import get_client, task
from prefect.cache_policies import NONE
from pydantic import SecretStr

from bhxh.intake import period_folder
from bhxh.periods import default_period
from bhxh.roster import CompanyInvalid
from bhxh.settings import Settings
from blocks.providers import (
    SigningCredentials,
    credentials_type,
    empty_fields,
    provider_label,
)
from blocks.saved import saved_block_names
from blocks.unit import BhxhUnit
from esign.errors import AuthenticationFailed, TwoFactorRequired

__all__ = [
    "CompanyProfile",
    "SavedCompany",
    "build_credentials",
    "check_signing_account",
    "find_saved",
    "integrator_template",
    "read_saved_units",
    "save_companies",
    "taken_names",
]


@dataclass(frozen=True)
class CompanyProfile:
    """What is saved about a company besides its credentials (no secret, no block name)."""

    name: str
    tax_code: str
    unit_code: str
    agency_code: str
    provider: str
    route: str = "gateway"
    ivan_code: str = "00110"
    gateway_block: str = ""
    signer: str = ""
    phone: str = ""
    address: str = ""
    email: str = ""


@dataclass(frozen=True)
class SavedCompany:
    """A company's saved blocks and folder."""

    unit_block: str
    credentials_block: str
    inbox: str
    block_document_id: str | None
    missing: tuple[str, ...] = ()  # credential fields still empty (to fill in the UI)


@task(name="read_saved_units", cache_policy=NONE, persist_result=False)
async def read_saved_units() -> list[tuple[str, BhxhUnit]]:
    """Every saved unit, by block name (one request: a unit block holds no secret)."""
    async with get_client() as client:
        documents = await client.read_block_documents_by_type(
            BhxhUnit.get_block_type_slug(), include_secrets=False
        )
    return sorted(
        (d.name, BhxhUnit.model_validate(d.data))
        for d in documents
        if d.name and not d.is_anonymous
    )


def taken_names(units: list[tuple[str, BhxhUnit]]) -> list[str]:
    """The names a new unit block may not take: the saved units', and those whose
    credentials block (``<name>-<provider>``) a saved unit already uses (a credentials
    block no unit uses, left by an interrupted run, may be written again)."""
    taken = [name for name, _ in units]
    for _, unit in units:
        suffix = f"-{unit.provider}"
        if unit.credentials_block.endswith(suffix):
            taken.append(unit.credentials_block.removesuffix(suffix))
    return taken


def find_saved(
    units: list[tuple[str, BhxhUnit]], unit_code: str, tax_code: str
) -> tuple[str, BhxhUnit, str] | None:
    """The saved unit with this unit code or tax code: (block name, unit, which matched)."""
    for name, unit in units:
        if unit.unit_code.upper() == unit_code.upper():
            return name, unit, "unit_code"
        if unit.tax_code.replace("-", "") == tax_code.replace("-", ""):
            return name, unit, "tax_code"
    return None


async def integrator_template(provider: str) -> tuple[str, SigningCredentials] | None:
    """The firm's integrator account for ``provider``: the first saved credentials block of
    that provider (by name) whose integrator fields are filled, as (name, block).

    Our choice: the integrator account (MISA's client id and key, VNPT's sp_id and
    sp_password) is the firm's, the same for every company, so a new company takes it
    from a company already saved.
    """
    kind = credentials_type(provider)
    for name in await saved_block_names(kind):
        block = await kind.aload(name)
        if isinstance(block, kind) and not _empty_fields(block, exclude=kind.signer_fields):
            return name, block
    return None


def _empty_fields(block: SigningCredentials, exclude: tuple[str, ...] = ()) -> list[str]:
    return empty_fields(block, exclude)


def build_credentials(
    provider: str,
    template: SigningCredentials | None,
    values: dict[str, Any],
) -> tuple[SigningCredentials, tuple[str, ...]]:
    """A credentials block of ``provider``: the template's fields, then ``values`` (the
    signer's account and what a person typed); a required field known nowhere is saved
    empty, to be filled in later. Returns the block and its empty required fields."""
    kind = credentials_type(provider)
    data: dict[str, Any] = {}
    if template is not None:
        # The firm's integrator account only: never another company's signer (account or
        # password), which a person types for this company or fills in later.
        data.update(template.model_dump(exclude={"block_type_slug", *kind.signer_fields}))
    data.update({k: v for k, v in values.items() if v not in (None, "")})
    for name, info in kind.model_fields.items():
        if name not in data and info.is_required():
            data[name] = SecretStr("") if info.annotation is SecretStr else ""
    block = kind(**data)
    return block, tuple(_empty_fields(block))


@task(name="check_signing_account", cache_policy=NONE, persist_result=False)
async def check_signing_account(credentials: SigningCredentials, unit_code: str) -> str:
    """Log in to the provider with ``credentials``; returns a note for people ("" when the
    login went through; a note when the provider wants a one-time code, which setup asks).

    Raises:
        CompanyInvalid: the provider refused the account or the password.
    """
    label = provider_label(credentials.provider)
    client = credentials.get_client()
    try:
        async with client:
            await client.login()
    except TwoFactorRequired:
        return (
            f"{label} đã nhận mật khẩu và sẽ hỏi mã OTP khi thiết lập / {label} accepted the "
            "password and will ask for a one-time code at setup"
        )
    except AuthenticationFailed as exc:
        raise CompanyInvalid(
            f"Đơn vị {unit_code}: {label} từ chối tài khoản {credentials.account} hoặc mật "
            f"khẩu ({exc}); chưa lưu gì / unit {unit_code}: {label} refused account "
            f"{credentials.account} or its password; nothing was saved"
        ) from None
    return ""


@task(name="save_companies", cache_policy=NONE, persist_result=False)
async def save_companies(
    companies: list[tuple[CompanyProfile, SigningCredentials, str]],
    settings: Settings | None = None,
) -> list[SavedCompany]:
    """Save each company (profile, credentials, unit block name) with
    :func:`save_company`, one after the other through one API client (the API's database
    takes one write at a time: SQLite answered 503 to four at once)."""
    saved = []
    async with get_client() as client:
        for profile, credentials, name in companies:
            saved.append(await save_company(profile, credentials, name, settings, client=client))
    return saved


async def save_company(
    profile: CompanyProfile,
    credentials: SigningCredentials,
    unit_block: str,
    settings: Settings | None = None,
    *,
    client: Any = None,
) -> SavedCompany:
    """Save the company's credentials block (``<unit block>-<provider>``) and its unit
    block, linked, and create its inbox folder for the current period."""
    chosen = settings or Settings()
    credentials_block = f"{unit_block}-{profile.provider}"
    await credentials.asave(credentials_block, overwrite=True, client=client)
    unit = BhxhUnit(
        unit_code=profile.unit_code,
        tax_code=profile.tax_code,
        name=profile.name,
        agency_code=profile.agency_code,
        signer=profile.signer,
        phone=profile.phone,
        address=profile.address,
        email=profile.email,
        provider=profile.provider,
        credentials_block=credentials_block,
        gateway_block=profile.gateway_block,
        route=profile.route,
        ivan_code=profile.ivan_code,
    )
    document_id = await unit.asave(unit_block, overwrite=False, client=client)
    inbox = unit.inbox_path(chosen) / profile.unit_code / period_folder(default_period())
    inbox.mkdir(parents=True, exist_ok=True)
    return SavedCompany(
        unit_block,
        credentials_block,
        str(inbox),
        str(document_id) if document_id else None,
        tuple(_empty_fields(credentials)),
    )
