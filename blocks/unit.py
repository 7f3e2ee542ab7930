"""The unit profile block: who the employer is, how it signs, where its dossiers wait."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from pathlib import Path
from typing import Any, ClassVar, Literal

from prefect.blocks.core import Block
from pydantic import Field, ValidationInfo, field_validator

from bhxh.catalogue import DEFAULT_IVAN, get_ivan
from bhxh.models import UnitInfo
from bhxh.settings import Settings
from bhxh.signing import StampSpec
from bhxh.vntext import normalize_person_text
from blocks._schema import SchemaOnce
from blocks.carriers import carrier_names
from blocks.credentials import _DOCS, _LOGO, BhxhGatewayCredentials
from blocks.providers import (
    SigningCredentials,
    credentials_type,
    empty_fields,
    provider_names,
)
from blocks.saved import saved_block_names
from esign.errors import AuthenticationFailed

__all__ = ["BhxhUnit", "only_gateway_block"]


def _provider_choices(schema: dict[str, Any]) -> None:
    # The form shows the registered providers as a drop-down.
    schema["enum"] = provider_names()


def _written_by_setup(schema: dict[str, Any]) -> None:
    # What setup_remote_signing writes: one plain type (no "None" toggle in the form, a
    # datetime shown as a date), marked read-only and titled so. Prefect's UIs render
    # every field editable whatever ``readOnly`` says, so the title says it too.
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if branches:
        schema.update(branches[0])
    if schema.get("default") is None:
        schema.pop("default", None)
    schema["readOnly"] = True
    schema["title"] = f"{schema.get('title', '')} (do thiết lập ghi / written by setup)".strip()


def _carrier_choices(schema: dict[str, Any]) -> None:
    # The form shows the registered carriers as a drop-down. The value itself is a plain
    # name, checked against the registry when the unit's port is opened
    # (blocks.carriers.open_port), so a saved unit always loads.
    schema["enum"] = carrier_names()


#: Text fields where "" means unset (blocks saved earlier may hold None there).
_UNSET_IS_EMPTY = (
    "export_block",
    "ivan_name",
    "certificate_alias",
    "certificate_serial",
    "certificate_subject",
    "registered_serial",
    "stamp_place",
    "stamp_text",
    "inbox_dir",
    "outbox_dir",
    "gateway_block",
)


class BhxhUnit(SchemaOnce, Block):
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
        "Đơn vị nộp hồ sơ BHXH điện tử / an employer that submits BHXH e-dossiers: codes, "
        "signer, the remote-signing account and chosen certificate, and where its dossiers "
        "wait. No secret: the passwords live in the credentials blocks it names."
    )

    unit_code: str = Field(
        title="Mã đơn vị / Unit code",
        description="Mã đơn vị tại BHXH (MaSoBHXH của đơn vị), ví dụ TA0001A / the unit's "
        "code at VSS, e.g. TA0001A.",
    )
    tax_code: str = Field(
        title="Mã số thuế / Tax code",
        pattern=r"^[0-9]{10}(-?[0-9]{3})?$",
        description="Mã số thuế (MaSoThue), 10 hoặc 13 chữ số, ví dụ 0101234567; phải trùng "
        "UID=MST: của chứng thư số / the tax code, 10 or 13 digits, e.g. 0101234567; it must "
        "match the certificate's UID=MST:.",
    )
    name: str = Field(
        title="Tên đơn vị / Company name",
        description="Tên đơn vị như đã đăng ký, ví dụ Công ty TNHH An Phát / the unit's "
        "registered name, e.g. Công ty TNHH An Phát.",
    )
    agency_code: str = Field(
        title="Mã cơ quan BHXH / BHXH agency code",
        description="Mã cơ quan BHXH quản lý (CoQuanQuanLy), ví dụ 07906 / code of the "
        "managing BHXH agency, e.g. 07906.",
    )
    signer: str = Field(
        title="Người ký / Signer",
        default="",
        description="Người ký (NguoiKy), ví dụ Nguyễn Thị Thu Hà / the person who signs, "
        "e.g. Nguyễn Thị Thu Hà.",
    )
    phone: str = Field(
        title="Điện thoại / Phone",
        default="",
        description="Số điện thoại liên hệ, ví dụ 0901234567 / contact phone, e.g. 0901234567.",
    )
    address: str = Field(
        title="Địa chỉ / Address",
        default="",
        description="Địa chỉ liên hệ (cũng là nơi ký trên tờ khai 04/05), ví dụ Số 1 Phố Thử, "
        "Cầu Giấy, Hà Nội / contact address (also the place of signing on 04/05 forms).",
    )
    email: str = Field(
        title="E-mail",
        default="",
        description="E-mail liên hệ, ví dụ ketoan@example.vn / contact e-mail.",
    )

    provider: str = Field(
        title="Nhà cung cấp ký số / Signing provider",
        default="misa",
        description="Nhà cung cấp ký số từ xa: misa (MISA eSign), vnpt (VNPT SmartCA), mysign "
        "(Viettel MySign) hoặc ca2 (CA2 RemoteSigning) / the remote-signing provider: misa "
        "(MISA eSign), vnpt (VNPT SmartCA), mysign (Viettel MySign) or ca2 (CA2 RemoteSigning).",
        json_schema_extra=_provider_choices,
    )
    credentials_block: str = Field(
        title="Khối đăng nhập / Credentials block",
        description="Tên khối đăng nhập của nhà cung cấp (MISA eSign, VNPT SmartCA, Viettel "
        "MySign hoặc CA2), do add_company điền, ví dụ an-phat-misa / name of the provider "
        "credentials block, filled in by add_company, e.g. an-phat-misa.",
    )
    gateway_block: str = Field(
        title="Khối gateway / Gateway block",
        default="",
        description="Tuyến gateway: tên khối BHXH Gateway Credentials, do add_company điền; "
        "để trống = khối gateway duy nhất đã lưu / route gateway: name of the BHXH Gateway "
        "Credentials block, filled in by add_company; empty = the only saved gateway block.",
    )
    route: str = Field(
        title="Tuyến nộp / Carrier",
        default="gateway",
        description="Cách hồ sơ đã ký tới I-VAN của đơn vị: gateway (qua API của I-VAN) hoặc "
        "export (xuất tệp và manifest để nhập vào phần mềm của I-VAN) / how signed dossiers "
        "reach the unit's I-VAN: gateway (an adapter to the I-VAN's API) or export (files "
        "and a manifest for the I-VAN's own software).",
        json_schema_extra=_carrier_choices,
    )
    export_block: str = Field(
        title="Khối xuất tệp / Export block",
        default="",
        description="Tuyến export: tên khối file-system của Prefect để xuất tệp; để trống = "
        "thư mục outbox của đơn vị / route export: name of a Prefect file-system block to "
        "export to; empty = the unit's outbox folder.",
    )
    ivan_code: str = Field(
        title="Mã I-VAN / I-VAN code",
        default=DEFAULT_IVAN.code,
        description="MaIVAN: I-VAN mà đơn vị đăng ký (00110 MISA, 00040 Thái Sơn, 00020 VNPT, "
        "00050 Viettel, 00060 Bkav, 00001 TS24...) / the I-VAN the unit is registered with, "
        "e.g. 00110.",
    )
    ivan_name: str = Field(
        title="Tên I-VAN / I-VAN name",
        default="",
        description="TenIVAN; để trống = tên trong danh sách I-VAN theo ivan_code / empty = "
        "the name the I-VAN list gives for ivan_code.",
    )

    certificate_alias: str = Field(
        title="Mã chứng thư / Certificate alias",
        default="",
        description="Do setup_remote_signing ghi: mã chứng thư tại nhà cung cấp / written by "
        "setup_remote_signing: the provider's alias of the chosen certificate.",
        json_schema_extra=_written_by_setup,
    )
    certificate_serial: str = Field(
        title="Serial chứng thư / Certificate serial",
        default="",
        description="Do setup_remote_signing ghi: serial (hệ 16) của chứng thư đã chọn, ví dụ "
        "5A0C3F9E12B7 / written by setup_remote_signing: serial (hex) of the chosen "
        "certificate.",
        json_schema_extra=_written_by_setup,
    )
    certificate_subject: str = Field(
        title="Chủ thể chứng thư / Certificate subject",
        default="",
        description="Do setup_remote_signing ghi: chủ thể của chứng thư / written by setup: "
        "the certificate's subject.",
        json_schema_extra=_written_by_setup,
    )
    certificate_not_before: dt.datetime | None = Field(
        title="Hiệu lực từ / Valid from",
        default=None,
        description="Do setup_remote_signing ghi: hiệu lực từ / written by setup: valid from.",
        json_schema_extra=_written_by_setup,
    )
    certificate_not_after: dt.datetime | None = Field(
        title="Hiệu lực đến / Valid until",
        default=None,
        description="Do setup_remote_signing ghi: hiệu lực đến / written by setup: valid until.",
        json_schema_extra=_written_by_setup,
    )

    registered_serial: str = Field(
        title="Serial chứng thư BHXH đang giữ / Serial VSS has on file",
        default="",
        description="Serial của chứng thư BHXH đang giữ cho đơn vị (ví dụ USB token) / serial "
        "of the certificate VSS has on file (a USB token, say).",
    )
    registration_state: Literal["unknown", "registered", "change_pending", "stopped"] = Field(
        title="Đăng ký tại BHXH / Registration at VSS",
        default="unknown",
        description="Đăng ký giao dịch điện tử tại BHXH: unknown (chưa rõ), registered (đã "
        "đăng ký), change_pending (đang đổi chứng thư), stopped (đã dừng) / the registration "
        "at VSS: unknown, registered, change_pending or stopped.",
    )

    pdf_stamp: bool = Field(
        title="Dấu chữ ký trên PDF / Stamp on PDFs",
        default=True,
        description="Draw the visible signature stamp (Ngày ký / Người ký / Nơi ký) at the "
        "bottom left of page 1 of every PDF attachment signed for this unit.",
    )
    stamp_place: str = Field(
        title="Nơi ký trên dấu / Place on the stamp",
        default="",
        description="Nơi ký on the stamp, e.g. Hà Nội; default: the last part of the address.",
    )
    stamp_text: str = Field(
        title="Nội dung dấu / Stamp text",
        default="",
        description="The stamp's wording with {time}, {signer} and {place}, one line per "
        "line break; default: Ngày ký: {time} / Người ký: {signer} / Nơi ký: {place}.",
    )

    inbox_dir: str = Field(
        title="Thư mục hồ sơ chờ ký / Inbox folder",
        default="",
        description="Thư mục hồ sơ chờ ký của đơn vị; để trống = BHXH_INBOX_DIR / where the "
        "unit's dossiers wait; empty = BHXH_INBOX_DIR.",
    )
    outbox_dir: str = Field(
        title="Thư mục hồ sơ đã ký / Outbox folder",
        default="",
        description="Thư mục lưu bản hồ sơ đã ký; để trống = $BHXH_DATA_DIR/outbox / where "
        "signed files are kept; empty = $BHXH_DATA_DIR/outbox.",
    )

    @classmethod
    def schema_inputs(cls) -> tuple[Hashable, ...]:
        """The provider and route drop-downs list the registries' names (a plugin may
        register one while the process runs): the schema is built again when they change."""
        return (tuple(provider_names()), tuple(carrier_names()))

    @field_validator(*_UNSET_IS_EMPTY, mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        # Blocks saved before these fields had typed defaults hold None for "unset".
        return "" if value is None else value

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
        missing = empty_fields(credentials)
        if missing:
            # Refused before the provider sees a login it would count as failed.
            titles = [kind.model_fields[f].title or f for f in missing]
            vi = ", ".join(t.split(" / ")[0] for t in titles)
            en = ", ".join(t.split(" / ")[-1] for t in titles)
            path = f"Blocks > {kind.get_block_type_name()} > {self.credentials_block} > Edit"
            raise AuthenticationFailed(
                f"Đơn vị {self.unit_code}: khối đăng nhập {self.credentials_block} chưa có "
                f"{vi}; điền tại {path} / unit {self.unit_code}: the credentials block "
                f"{self.credentials_block} has no {en} yet; fill it in at {path}"
            )
        return credentials

    async def aload_gateway(self) -> BhxhGatewayCredentials:
        """The unit's submission gateway credentials block (when ``gateway_block`` is
        empty: the only one saved)."""
        name = self.gateway_block or await only_gateway_block(self.unit_code)
        gateway = await BhxhGatewayCredentials.aload(name)
        if not isinstance(gateway, BhxhGatewayCredentials):
            raise TypeError(f"unit {self.unit_code}: block {name!r} is not gateway credentials")
        return gateway


async def only_gateway_block(unit_code: str = "") -> str:
    """The name of the one saved gateway block.

    Raises:
        ValueError: none is saved, or several are (the unit must name one).
    """
    names = await saved_block_names(BhxhGatewayCredentials)
    if len(names) == 1:
        return names[0]
    who = f"Đơn vị {unit_code}: " if unit_code else ""
    who_en = f"unit {unit_code}: " if unit_code else ""
    if not names:
        raise ValueError(
            f"{who}chưa lưu khối BHXH Gateway Credentials nào / {who_en}no BHXH Gateway "
            "Credentials block is saved"
        )
    raise ValueError(
        f"{who}có {len(names)} khối gateway ({', '.join(names)}), cần ghi tên một khối vào "
        f"trường gateway_block / {who_en}{len(names)} gateway blocks are saved; name one in "
        "the gateway_block field"
    )
