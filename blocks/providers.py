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

if TYPE_CHECKING:
    from esign.base import RemoteSigningClient

__all__ = [
    "SigningCredentials",
    "UnknownProvider",
    "credentials_type",
    "provider_names",
    "register_provider",
    "unregister_provider",
]


class UnknownProvider(ValueError):
    """A unit names a provider no credentials block is registered for."""


class SigningCredentials(CredentialsBlock, ABC):
    """The base of every remote-signing credentials block (an interface: never saved).

    Subclasses set ``provider`` (the registry key, e.g. ``"misa"``) and implement
    ``account`` (the signer's account: which phone to look at; not secret) and
    ``get_client()`` (a fresh, configured, not yet logged-in client; secrets are
    unwrapped only there).
    """

    provider: ClassVar[str] = ""

    @property
    @abstractmethod
    def account(self) -> str: ...

    @abstractmethod
    def get_client(self) -> RemoteSigningClient: ...


_REGISTRY: dict[str, type[SigningCredentials]] = {}

C = TypeVar("C", bound=type[SigningCredentials])


def register_provider(cls: C) -> C:
    """Class decorator: make ``cls`` the credentials block of ``cls.provider``."""
    name = cls.provider
    if not name or name != name.strip().lower():
        raise ValueError(f"{cls.__name__}.provider must be a lower-case name, not {name!r}")
    known = _REGISTRY.get(name)
    if known is not None and known is not cls and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"provider {name!r} is already registered by {known.__name__}")
    _REGISTRY[name] = cls
    return cls


def unregister_provider(name: str) -> None:
    """Remove a provider (tests that register a throwaway one)."""
    _REGISTRY.pop(name, None)


def provider_names() -> list[str]:
    """The registered provider names, sorted."""
    return sorted(_REGISTRY)


def credentials_type(name: str) -> type[SigningCredentials]:
    """The credentials block class of provider ``name``.

    Raises:
        UnknownProvider: no provider of that name is registered (the message lists them).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(provider_names()) or "(none)"
        raise UnknownProvider(
            f"Nhà cung cấp ký số {name!r} không được hỗ trợ / unknown remote-signing "
            f"provider {name!r}; known providers: {known}"
        ) from None
