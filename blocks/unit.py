"""The unit profile block: who the employer is, how it signs, where its dossiers wait."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar, Literal

from prefect.blocks.core import Block
from pydantic import Field, ValidationInfo, field_validator

from bhxh.ivan import DEFAULT_IVAN, get_ivan
from bhxh.models import UnitInfo
from bhxh.pdfsign import StampSpec
from bhxh.settings import Settings
from bhxh.vntext import normalize_person_text
from blocks.credentials import _DOCS, _LOGO, BhxhGatewayCredentials
from blocks.providers import SigningCredentials, credentials_type, provider_names

__all__ = ["BhxhUnit"]


def _provider_choices(schema: dict[str, Any]) -> None:
    # The form shows the registered providers as a drop-down.
    schema["enum"] = provider_names()


class BhxhUnit(Block):
    """An employer (đơn vị) that submits BHXH dossiers, and its signing setup.

    ``setup_remote_signing`` fills in the chosen certificate and the registration state;
    ``sign_and_submit`` reads them.

    Example:
        ```python
        from blocks import BhxhUnit

        unit = BhxhUnit.load("BLOCK_NAME")
        print(unit.unit_code, unit.certificate_serial)
        ```
    """

    _block_type_name: ClassVar[str] = "BHXH Unit"
    _block_type_slug: ClassVar[str] = "bhxh-unit"
    _logo_url = _LOGO
    _documentation_url = _DOCS
    _description: ClassVar[str] = (
        "An employer that submits BHXH e-dossiers: codes, signer, the remote-signing "
        "account and chosen certificate, and where its dossiers wait."
    )

    unit_code: str = Field(description="The unit's code at VSS (MaSoBHXH).")
    tax_code: str = Field(description="The unit's tax code (MaSoThue), e.g. 0101234567.")
    name: str = Field(description="The unit's registered name.")
    agency_code: str = Field(description="Code of the managing BHXH agency (CoQuanQuanLy).")
    signer: str = Field(default="", description="Name of the person who signs (NguoiKy).")
    phone: str = Field(default="", description="Contact phone number.")
    address: str = Field(default="", description="Contact address.")
    email: str = Field(default="", description="Contact e-mail.")

    provider: str = Field(
        default="misa",
        description="Remote-signing provider: misa (MISA eSign) or vnpt (VNPT SmartCA).",
        json_schema_extra=_provider_choices,
    )
    credentials_block: str = Field(
        description="Name of the provider credentials block (MISA eSign or VNPT SmartCA)."
    )
    gateway_block: str = Field(
        default="default",
        description="Name of the BHXH gateway credentials block (route gateway).",
    )
    route: Literal["gateway", "export"] = Field(
        default="gateway",
        description="How signed dossiers reach the unit's I-VAN: gateway (an adapter to the "
        "I-VAN's API) or export (files and a manifest for the I-VAN's own software).",
    )
    export_block: str | None = Field(
        default=None,
        description="Route export: name of a Prefect file-system block to export to "
        "(default: the unit's outbox folder).",
    )
    ivan_code: str = Field(
        default=DEFAULT_IVAN.code,
        description="MaIVAN: the I-VAN the unit is registered with (00110 MISA, 00040 "
        "Thái Sơn, 00020 VNPT, 00050 Viettel, 00060 Bkav, 00001 TS24...).",
    )
    ivan_name: str | None = Field(
        default=None,
        description="TenIVAN; default: the name the I-VAN list gives for ivan_code.",
    )

    certificate_alias: str | None = Field(
        default=None, description="Provider alias / id of the chosen certificate."
    )
    certificate_serial: str | None = Field(
        default=None, description="Serial (hex) of the chosen certificate."
    )
    certificate_subject: str | None = Field(
        default=None, description="Subject of the chosen certificate."
    )
    certificate_not_before: dt.datetime | None = Field(
        default=None, description="Start of the chosen certificate's validity."
    )
    certificate_not_after: dt.datetime | None = Field(
        default=None, description="End of the chosen certificate's validity."
    )

    registered_serial: str | None = Field(
        default=None,
        description="Serial of the certificate VSS has on file (for example a USB token).",
    )
    registration_state: str = Field(
        default="unknown",
        description="Registration at VSS: unknown, registered, change_pending or stopped.",
    )

    pdf_stamp: bool = Field(
        default=True,
        description="Draw the visible signature stamp (Ngày ký / Người ký / Nơi ký) at the "
        "bottom left of page 1 of every PDF attachment signed for this unit.",
    )
    stamp_place: str | None = Field(
        default=None,
        description="Nơi ký on the stamp, e.g. Hà Nội; default: the last part of the address.",
    )
    stamp_text: str | None = Field(
        default=None,
        description="The stamp's wording with {time}, {signer} and {place}, one line per "
        "line break; default: Ngày ký: {time} / Người ký: {signer} / Nơi ký: {place}.",
    )

    inbox_dir: str | None = Field(
        default=None, description="Where the unit's dossiers wait (default BHXH data dir)."
    )
    outbox_dir: str | None = Field(
        default=None, description="Where signed files are written for other software."
    )

    @field_validator("name", "signer", "address", "stamp_place", "stamp_text", mode="before")
    @classmethod
    def _unicode_text(cls, value: object, info: ValidationInfo) -> object:
        # A person's text: NFC (the signed bytes never depend on how it was typed); control
        # characters and TCVN3 / VNI mojibake refused, naming the field.
        if not isinstance(value, str):
            return value
        keep_lines = info.field_name == "stamp_text"  # one line per line break
        return normalize_person_text(
            value, field=info.field_name or "", collapse_spaces=not keep_lines
        )

    @field_validator("ivan_code")
    @classmethod
    def _known_ivan(cls, value: str) -> str:
        get_ivan(value)  # raises, listing the known I-VANs
        return value

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        credentials_type(value)  # raises UnknownProvider, naming the known ones
        return value

    def unit_info(self) -> UnitInfo:
        return UnitInfo(
            code=self.unit_code,
            tax_code=self.tax_code,
            name=self.name,
            agency_code=self.agency_code,
            signer=self.signer,
            phone=self.phone,
            address=self.address,
            email=self.email,
            ivan_code=self.ivan_code,
            ivan_name=self.ivan_name or get_ivan(self.ivan_code).name,
        )

    def stamp_spec(self) -> StampSpec | None:
        """The stamp drawn on the unit's signed PDFs, or None (``pdf_stamp`` off)."""
        if not self.pdf_stamp:
            return None
        place = self.stamp_place or (self.address.rsplit(",", 1)[-1].strip() or "Việt Nam")
        if self.stamp_text:
            return StampSpec(signer=self.name, place=place, template=self.stamp_text)
        return StampSpec(signer=self.name, place=place)

    def inbox_path(self, settings: Settings | None = None) -> Path:
        return Path(self.inbox_dir) if self.inbox_dir else (settings or Settings()).inbox_dir

    def outbox_path(self, settings: Settings | None = None) -> Path:
        return Path(self.outbox_dir) if self.outbox_dir else (settings or Settings()).outbox_dir

    @classmethod
    async def aload_unit(cls, name: str) -> BhxhUnit:
        """``aload`` with its type: the unit block saved under ``name``."""
        unit = await cls.aload(name)
        assert isinstance(unit, BhxhUnit)
        return unit

    async def aload_credentials(self) -> SigningCredentials:
        """The unit's provider credentials block, of the type its provider registered."""
        kind = credentials_type(self.provider)
        credentials = await kind.aload(self.credentials_block)
        if not isinstance(credentials, kind):
            raise TypeError(
                f"unit {self.unit_code}: block {self.credentials_block!r} is not "
                f"{self.provider} credentials"
            )
        return credentials

    async def aload_gateway(self) -> BhxhGatewayCredentials:
        """The unit's submission gateway credentials block."""
        gateway = await BhxhGatewayCredentials.aload(self.gateway_block)
        if not isinstance(gateway, BhxhGatewayCredentials):
            raise TypeError(
                f"unit {self.unit_code}: block {self.gateway_block!r} is not gateway credentials"
            )
        return gateway
