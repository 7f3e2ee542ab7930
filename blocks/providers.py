"""The remote-signing providers, by registry: a provider name -> its credentials block.

Adding a provider is one client module in ``esign/`` (implementing
``esign.base.RemoteSigningClient``), one credentials block subclassing
:class:`SigningCredentials` (with ``provider`` set and ``get_client()`` returning that
client), and one registry entry (``@register_provider`` on the block class). A unit names
its provider (``BhxhUnit.provider``); an unknown name is a clear error, never a fallback.

Example:
    ```python
    from blocks.providers import SigningCredentials, register_provider

    @register_provider
    class AcmeSignCredentials(SigningCredentials):
        provider = "acme"
        _block_type_slug = "acme-sign-credentials"
        ...
    ```
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, TypeVar

from prefect.blocks.abstract import CredentialsBlock
from pydantic import SecretStr

from blocks._registry import Registry
from blocks._schema import SchemaOnce

if TYPE_CHECKING:
    from esign.base import RemoteSigningClient

__all__ = [
    "SigningCredentials",
    "UnknownProvider",
    "credentials_type",
    "empty_fields",
    "provider_label",
    "provider_names",
    "register_provider",
    "unregister_provider",
]


class UnknownProvider(ValueError):
    """A unit names a provider no credentials block is registered for."""


class SigningCredentials(SchemaOnce, CredentialsBlock, ABC):
    """The base of every remote-signing credentials block (an interface: never saved).

    Subclasses set ``provider`` (the registry key, e.g. ``"misa"``) and implement
    ``account`` (the signer's account: which phone to look at; not secret) and
    ``get_client()`` (a fresh, configured, not yet logged-in client; secrets are
    unwrapped only there).
    """

    provider: ClassVar[str] = ""
    #: The provider's name as people know it (``"MISA eSign"``); empty: the block type's.
    label: ClassVar[str] = ""
    #: The fields that belong to the signer (asked for each company); the others are the
    #: firm's integrator account, the same for every company. Empty: every field is asked.
    signer_fields: ClassVar[tuple[str, ...]] = ()

    @property
    @abstractmethod
    def account(self) -> str: ...

    @abstractmethod
    def get_client(self) -> RemoteSigningClient: ...


_REGISTRY: Registry[type[SigningCredentials]] = Registry(
    "Nhà cung cấp ký số",
    ("remote-signing provider", "providers"),
    UnknownProvider,
    owner=lambda cls: cls.__name__,
)

C = TypeVar("C", bound=type[SigningCredentials])


def register_provider(cls: C) -> C:
    """Class decorator: make ``cls`` the credentials block of ``cls.provider``."""
    name = cls.provider
    if not name or name != name.strip().lower():
        raise ValueError(f"{cls.__name__}.provider must be a lower-case name, not {name!r}")
    _REGISTRY.add(name, cls, same=lambda a, b: a is b or a.__qualname__ == b.__qualname__)
    return cls


def unregister_provider(name: str) -> None:
    """Remove a provider (tests that register a throwaway one)."""
    _REGISTRY.remove(name)


def provider_names() -> list[str]:
    """The registered provider names, sorted."""
    return _REGISTRY.names()


def empty_fields(block: CredentialsBlock, exclude: tuple[str, ...] = ()) -> list[str]:
    """The required fields of a credentials block left empty (a company imported without
    its password waits so until a person fills it in)."""
    empty = []
    for name, info in type(block).model_fields.items():
        if name in exclude or not info.is_required():
            continue
        value = getattr(block, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value == "":
            empty.append(name)
    return empty


def provider_label(name: str) -> str:
    """How people name provider ``name`` (``"MISA eSign"``), for forms and messages."""
    kind = credentials_type(name)
    return kind.label or kind.get_block_type_name()


def credentials_type(name: str) -> type[SigningCredentials]:
    """The credentials block class of provider ``name``.

    Raises:
        UnknownProvider: no provider of that name is registered (the message lists them).
    """
    return _REGISTRY.get(name)
