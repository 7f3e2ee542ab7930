"""Credentials blocks: one per remote-signing provider, and the submission gateway.

Secrets are ``SecretStr`` and are unwrapped only inside ``get_client()``. Each provider
block subclasses ``blocks.providers.SigningCredentials`` and is registered under its
provider name (``@register_provider``).
"""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING, ClassVar

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl, SecretStr, field_validator

from blocks._schema import SchemaOnce
from blocks.providers import SigningCredentials, register_provider

if TYPE_CHECKING:
    from bhxh.submission import GatewayClient
    from esign.ca2 import Ca2RemoteSigningClient
    from esign.misa import MisaESignClient
    from esign.mysign import ViettelMySignClient
    from esign.vnpt import VnptSmartCAClient

__all__ = [
    "BhxhGatewayCredentials",
    "CA2RemoteSigningCredentials",
    "MisaESignCredentials",
    "ViettelMySignCredentials",
    "VnptSmartCACredentials",
]

# Prefect's own key logo (a credentials block) and its page on blocks: this project ships
# no hosted docs; the README is the manual.
_LOGO = HttpUrl(
    "https://raw.githubusercontent.com/PrefectHQ/prefect/420d0d6a78bb6df1fc18bcf188fdad43c1d22ea9"
    "/assets/block-logos/secret.png"
)
_DOCS = HttpUrl("https://www.prefect.io/docs/latest/develop/blocks")


def _verify(ca_bundle: str | None) -> bool | ssl.SSLContext:
    """TLS verification, always on: the system store, or a custom CA bundle: the block's
    ``ca_bundle``, else ``BHXH_CA_BUNDLE`` (``Settings.ca_bundle``) when set."""
    from bhxh.settings import Settings

    bundle = ca_bundle or Settings().ca_bundle
    if not bundle:
        return True
    return _bundle_context(str(bundle))


def _none_is_empty(value: object) -> object:
    # Blocks saved before these fields had typed defaults hold None for "unset".
    return "" if value is None else value


@functools.lru_cache(maxsize=16)
def _bundle_context(bundle: str) -> ssl.SSLContext:
    # Built once per bundle and process: parsing a CA bundle costs tens of milliseconds.
    return ssl.create_default_context(cafile=bundle)


@register_provider
class MisaESignCredentials(SigningCredentials):
    """MISA eSign RemoteSigning V2: the integrator's client id/key and the signer's account.

    Example:
        ```python
        from blocks import MisaESignCredentials

        creds = MisaESignCredentials.load("BLOCK_NAME")
        async with creds.get_client() as client:
            await client.login()
        ```
    """

    provider: ClassVar[str] = "misa"
    label: ClassVar[str] = "MISA eSign"
    signer_fields: ClassVar[tuple[str, ...]] = ("username", "password")
    _block_type_name: ClassVar[str] = "MISA eSign Credentials"
    _block_type_slug: ClassVar[str] = "misa-esign-credentials"
    _logo_url = _LOGO
    _documentation_url = _DOCS
    _description: ClassVar[str] = (
        "Credentials for MISA eSign remote signing (ký số từ xa): integrator client id and "
        "key, and the signer's MISA account."
    )

    base_url: str = Field(
        default="https://esignapp.misa.vn/",
        title="Địa chỉ dịch vụ / Base URL",
        description="Địa chỉ dịch vụ MISA eSign / base URL of the MISA eSign service. "
        "Sign-in is found under api/auth/... (the guide) or webdev/api/auth/... (MISA's "
        "test host) by itself; signing is at the root (external/esrm/...).",
    )
    auth_prefix: str = Field(
        default="",
        description="Chỉ khi không được tự dò: đường dẫn đăng nhập / only if sign-in must not "
        "be searched for: its path, api/auth/api/v1/auth/ (the guide) or "
        "webdev/api/auth/api/v1/auth/ (MISA's test host). Để trống / empty: found by itself.",
    )
    client_id: str = Field(
        title="Mã ứng dụng tích hợp / Integrator client id",
        description="Mã ứng dụng của đơn vị tích hợp (x-clientid), do MISA cấp cho công ty "
        "dịch vụ / the integrator's x-clientid, issued by MISA to the firm.",
    )
    client_key: SecretStr = Field(
        title="Khóa ứng dụng tích hợp / Integrator client key",
        description="Khóa bí mật của ứng dụng tích hợp (x-clientkey) / the integrator's "
        "x-clientkey.",
    )
    username: str = Field(
        title="Tài khoản người ký / Signer's account",
        description="Tài khoản MISA eSign của người ký, ví dụ ketoan@anphat.vn / the signer's "
        "MISA eSign account name.",
    )
    password: SecretStr = Field(
        title="Mật khẩu người ký / Signer's password",
        description="Mật khẩu MISA eSign của người ký; để trống khi chưa có (điền sau) / the "
        "signer's MISA eSign password; empty until it is filled in.",
    )
    ca_bundle: str = Field(
        default="",
        description="Tệp CA tin cậy thay cho kho hệ thống, để trống = kho hệ thống / path of "
        "a CA bundle to trust instead of the system store; empty = the system store (TLS "
        "stays on).",
    )
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per call, seconds.")

    _unset = field_validator("auth_prefix", "ca_bundle", mode="before")(_none_is_empty)

    @property
    def account(self) -> str:
        return self.username

    def get_client(self) -> MisaESignClient:
        """A fresh, configured client (not logged in yet)."""
        from esign.misa import MisaESignClient

        return MisaESignClient(
            self.base_url,
            self.client_id,
            self.client_key.get_secret_value(),
            self.username,
            self.password.get_secret_value(),
            timeout=self.timeout_seconds,
            verify=_verify(self.ca_bundle),
            auth_prefix=self.auth_prefix or None,
        )


@register_provider
class VnptSmartCACredentials(SigningCredentials):
    """VNPT SmartCA (sp769 API): the integrator's sp_id/sp_password and the signer's user id.

    Example:
        ```python
        from blocks import VnptSmartCACredentials

        creds = VnptSmartCACredentials.load("BLOCK_NAME")
        client = creds.get_client()
        ```
    """

    provider: ClassVar[str] = "vnpt"
    label: ClassVar[str] = "VNPT SmartCA"
    signer_fields: ClassVar[tuple[str, ...]] = ("user_id",)
    _block_type_name: ClassVar[str] = "VNPT SmartCA Credentials"
    _block_type_slug: ClassVar[str] = "vnpt-smartca-credentials"
    _logo_url = _LOGO
    _documentation_url = _DOCS
    _description: ClassVar[str] = (
        "Credentials for VNPT SmartCA remote signing: integrator sp_id / sp_password and "
        "the signer's user id (ID number or tax code)."
    )

    base_url: str = Field(
        default="https://gwsca.vnpt.vn/sca/sp769",
        title="Địa chỉ dịch vụ / Base URL",
        description="Địa chỉ API sp769 của VNPT SmartCA / base URL of the sp769 API.",
    )
    sp_id: str = Field(
        title="Mã tích hợp / Integrator sp_id",
        description="Mã của đơn vị tích hợp (sp_id), do VNPT cấp cho công ty dịch vụ / the "
        "integrator's sp_id, issued by VNPT to the firm.",
    )
    sp_password: SecretStr = Field(
        title="Mật khẩu tích hợp / Integrator sp_password",
        description="Mật khẩu của đơn vị tích hợp (sp_password) / the integrator's sp_password.",
    )
    user_id: str = Field(
        title="Tài khoản người ký / Signer's user id",
        description="Mã người dùng SmartCA của người ký (số CCCD hoặc mã số thuế) / the "
        "signer's user id (ID number or tax code).",
    )
    ca_bundle: str = Field(
        default="",
        description="Tệp CA tin cậy thay cho kho hệ thống, để trống = kho hệ thống / path of "
        "a CA bundle to trust instead of the system store; empty = the system store (TLS "
        "stays on).",
    )
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per call, seconds.")

    _unset = field_validator("ca_bundle", mode="before")(_none_is_empty)

    @property
    def account(self) -> str:
        return self.user_id

    def get_client(self) -> VnptSmartCAClient:
        """A fresh, configured client."""
        from esign.vnpt import VnptSmartCAClient

        return VnptSmartCAClient(
            self.base_url,
            self.sp_id,
            self.sp_password.get_secret_value(),
            self.user_id,
            timeout=self.timeout_seconds,
            verify=_verify(self.ca_bundle),
        )


class BhxhGatewayCredentials(SchemaOnce, Block):
    """The submission gateway (I-VAN to VSS) this project submits dossiers through.

    Example:
        ```python
        from blocks import BhxhGatewayCredentials

        gateway = BhxhGatewayCredentials.load("BLOCK_NAME")
        client = gateway.get_client()
        ```
    """

    _block_type_name: ClassVar[str] = "BHXH Gateway Credentials"
    _block_type_slug: ClassVar[str] = "bhxh-gateway-credentials"
    _logo_url = _LOGO
    _documentation_url = _DOCS
    _description: ClassVar[str] = (
        "Where and how to submit signed BHXH dossiers: the gateway's base URL and API key."
    )

    base_url: str = Field(description="Base URL of the submission gateway.")
    api_key: SecretStr = Field(description="The API key sent as a bearer token.")
    ca_bundle: str = Field(
        default="",
        description="Tệp CA tin cậy thay cho kho hệ thống, để trống = kho hệ thống / path of "
        "a CA bundle to trust instead of the system store; empty = the system store (TLS "
        "stays on).",
    )
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per call, seconds.")

    _unset = field_validator("ca_bundle", mode="before")(_none_is_empty)

    def get_client(self) -> GatewayClient:
        """A fresh, configured gateway client."""
        from bhxh.submission import GatewayClient

        return GatewayClient(
            self.base_url,
            self.api_key.get_secret_value(),
            timeout=self.timeout_seconds,
            verify=_verify(self.ca_bundle),
        )


@register_provider
class ViettelMySignCredentials(SigningCredentials):
    """Viettel MySign (ký số từ xa của Viettel-CA): the integrator's client id / secret and
    RAS profile, and the signer's MySign user id.

    Example:
        ```python
        from blocks import ViettelMySignCredentials

        creds = ViettelMySignCredentials.load("BLOCK_NAME")
        async with creds.get_client() as client:
            await client.login()
        ```
    """

    provider: ClassVar[str] = "mysign"
    signer_fields: ClassVar[tuple[str, ...]] = ("user_id",)
    _block_type_name: ClassVar[str] = "Viettel MySign Credentials"
    _block_type_slug: ClassVar[str] = "viettel-mysign-credentials"
    _logo_url = _LOGO
    _documentation_url = _DOCS
    _description: ClassVar[str] = (
        "Ký số từ xa Viettel MySign: mã ứng dụng tích hợp (client id, client secret, "
        "profile id) và tài khoản MySign của người ký. / Credentials for Viettel MySign "
        "remote signing: the integrator's client id, secret and profile id, and the signer's "
        "MySign user id."
    )

    base_url: str = Field(
        default="https://remotesigning.viettel.vn",
        title="Địa chỉ dịch vụ / base URL",
        description="Địa chỉ dịch vụ MySign (cổng 443 theo tài liệu của Viettel). / Base URL "
        "of the MySign service; the calls are under /vtss/service/.",
    )
    client_id: str = Field(
        title="Mã ứng dụng / client id",
        description="Mã ứng dụng tích hợp do Viettel cấp. / The integrator's client_id.",
    )
    client_secret: SecretStr = Field(
        title="Mã bí mật / client secret",
        description="Mã bí mật của ứng dụng tích hợp. / The integrator's client_secret.",
    )
    profile_id: str = Field(
        default="adss:ras:profile:001",
        title="Hồ sơ ký / profile id",
        description="Mã hồ sơ ký (RAS profile) do Viettel cấp, ví dụ adss:ras:profile:001. / "
        "The RAS profile id.",
    )
    user_id: str = Field(
        title="Tài khoản người ký / user id",
        description="Tài khoản MySign của người ký, ví dụ MST_0101234567. / The signer's "
        "MySign user id.",
    )
    callback: bool = Field(
        default=False,
        title="Nhận kết quả qua gọi lại / callback",
        description="Bật khi Viettel đã được đăng ký địa chỉ nhận kết quả của ta (async=3); "
        "tắt: chỉ hỏi trạng thái (async=1). / On when Viettel calls our receiver back "
        "(async=3); off: polling only (async=1).",
    )
    ca_bundle: str = Field(
        default="",
        title="Tệp CA / CA bundle",
        description="Tệp CA tin cậy thay cho kho hệ thống, để trống = kho hệ thống / path of "
        "a CA bundle to trust instead of the system store; empty = the system store (TLS "
        "stays on).",
    )
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per call, seconds.")

    _unset = field_validator("ca_bundle", mode="before")(_none_is_empty)

    @property
    def account(self) -> str:
        return self.user_id

    def get_client(self) -> ViettelMySignClient:
        """A fresh, configured client (not logged in yet)."""
        from esign.mysign import ViettelMySignClient

        return ViettelMySignClient(
            self.base_url,
            self.client_id,
            self.client_secret.get_secret_value(),
            self.profile_id,
            self.user_id,
            callback=self.callback,
            timeout=self.timeout_seconds,
            verify=_verify(self.ca_bundle),
        )


@register_provider
class CA2RemoteSigningCredentials(SigningCredentials):
    """CA2 RemoteSigning (NACENCOMM): the integrator's sp_id / sp_password and the signer's
    user id.

    Example:
        ```python
        from blocks import CA2RemoteSigningCredentials

        creds = CA2RemoteSigningCredentials.load("BLOCK_NAME")
        async with creds.get_client() as client:
            certificates = await client.list_certificates()
        ```
    """

    provider: ClassVar[str] = "ca2"
    signer_fields: ClassVar[tuple[str, ...]] = ("user_id",)
    _block_type_name: ClassVar[str] = "CA2 RemoteSigning Credentials"
    _block_type_slug: ClassVar[str] = "ca2-remotesigning-credentials"
    _logo_url = _LOGO
    _documentation_url = _DOCS
    _description: ClassVar[str] = (
        "Thông tin ký số từ xa CA2 (NACENCOMM): sp_id / sp_password của đơn vị tích hợp và "
        "mã người ký (số định danh hoặc mã số thuế). / Credentials for CA2 remote signing: "
        "the integrator's sp_id / sp_password and the signer's user id."
    )

    base_url: str = Field(
        default="https://rmsca2.nacencomm.vn/api/data",
        description="Địa chỉ API CA2, đến hết /api/data. / Base URL of the CA2 API, "
        "ending in /api/data.",
    )
    sp_id: str = Field(description="sp_id của đơn vị tích hợp. / The integrator's sp_id.")
    sp_password: SecretStr = Field(
        description="sp_password của đơn vị tích hợp. / The integrator's sp_password."
    )
    user_id: str = Field(
        description="Mã người ký tại CA2 (số định danh hoặc mã số thuế). / The signer's user "
        "id at CA2 (ID number or tax code)."
    )
    ca_bundle: str = Field(
        default="",
        title="Tệp CA / CA bundle",
        description="Tệp CA tin cậy thay cho kho hệ thống, để trống = kho hệ thống / path of "
        "a CA bundle to trust instead of the system store; empty = the system store (TLS "
        "stays on).",
    )
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per call, seconds.")

    _unset = field_validator("ca_bundle", mode="before")(_none_is_empty)

    @property
    def account(self) -> str:
        return self.user_id

    def get_client(self) -> Ca2RemoteSigningClient:
        """A fresh, configured client."""
        from esign.ca2 import Ca2RemoteSigningClient

        return Ca2RemoteSigningClient(
            self.base_url,
            self.sp_id,
            self.sp_password.get_secret_value(),
            self.user_id,
            timeout=self.timeout_seconds,
            verify=_verify(self.ca_bundle),
        )
