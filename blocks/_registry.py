"""The one registry shape of the plugin set: a lower-case name -> an entry, an unknown name
refused naming the known ones. Providers (``blocks.providers``) and carriers
(``blocks.carriers``) are each one of these."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Registered entries by name.

    Args:
        label_vi: what an entry is, in Vietnamese (``"Tuyến nộp hồ sơ"``).
        label_en: the same in English, singular and plural (``("carrier", "carriers")``).
        unknown: the error raised for a name nobody registered (a ``ValueError``).
        owner: how an entry is named in the refusal of a second registration.
    """

    def __init__(
        self,
        label_vi: str,
        label_en: tuple[str, str],
        unknown: type[ValueError],
        owner: Callable[[T], str],
    ) -> None:
        self._entries: dict[str, T] = {}
        self._label_vi = label_vi
        self._label_en = label_en
        self._unknown = unknown
        self._owner = owner

    def add(self, name: str, entry: T, *, same: Callable[[T, T], bool]) -> None:
        """Register ``entry`` as ``name``; registering the same entry again is a no-op.

        Raises:
            ValueError: ``name`` is taken by another entry (``same`` says which are one).
        """
        known = self._entries.get(name)
        if known is not None and not same(known, entry):
            raise ValueError(
                f"{self._label_en[0]} {name!r} is already registered by {self._owner(known)}"
            )
        self._entries[name] = entry

    def remove(self, name: str) -> None:
        """Remove an entry (tests that register a throwaway one)."""
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def get(self, name: str) -> T:
        """The entry registered as ``name``.

        Raises:
            ValueError: the registry's ``unknown`` error, naming the known entries.
        """
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            singular, plural = self._label_en
            raise self._unknown(
                f"{self._label_vi} {name!r} không được hỗ trợ / unknown {singular} {name!r}; "
                f"known {plural}: {known}"
            ) from None
