"""The secrets of the provider-callback receiver (``python -m receiver``), as a block.

They are the integrator's own (ours), not a signer's: the secret path segment of the URL
registered with MISA for its result webhook, and the client id / secret we issue to
Viettel for MySign's callbacks (``async=3``). The receiver loads this block when it starts.
"""

from __future__ import annotations

from typing import ClassVar

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl, SecretStr

from blocks._schema import SchemaOnce

__all__ = ["ProviderCallbackSecrets"]

_LOGO = HttpUrl(
    "https://raw.githubusercontent.com/PrefectHQ/prefect/420d0d6a78bb6df1fc18bcf188fdad43c1d22ea9"
    "/assets/block-logos/secret.png"
)


class ProviderCallbackSecrets(SchemaOnce, Block):
    """Who may call the receiver back: MISA's webhook and Viettel MySign's callback.

    Example:
        ```python
        from blocks.callbacks import ProviderCallbackSecrets

        ProviderCallbackSecrets(
            misa_client_ids=["<clientId MISA issued to us>"],
            misa_webhook_token="<32+ random characters>",
        ).save("bhxh-callbacks")
        # then: python -m receiver --block bhxh-callbacks --port 8787
        ```
    """

    _block_type_name: ClassVar[str] = "BHXH Provider Callback Secrets"
    _block_type_slug: ClassVar[str] = "bhxh-provider-callback-secrets"
    _logo_url = _LOGO
    _description: ClassVar[str] = (
        "Bí mật của dịch vụ nhận tín hiệu từ nhà cung cấp ký số / secrets of the "
        "provider-callback receiver: the MISA webhook URL token, the MySign client secret."
    )

    misa_client_ids: list[str] = Field(
        default_factory=list,
        description="The clientId(s) MISA issued to us; a webhook must carry one of them.",
    )
    misa_webhook_token: SecretStr = Field(
        default=SecretStr(""),
        description="The secret last segment of the webhook URL registered with MISA "
        "(https://<host>/misa/webhook/<token>); empty turns the MISA webhook off.",
    )
    mysign_client_id: str = Field(
        default="", description="The client id we issued to Viettel for MySign callbacks."
    )
    mysign_client_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Its secret; empty turns the MySign callback off.",
    )
