"""asn1crypto's name tables, built whole in one assignment each.

asn1crypto turns a name into its OID ("signing_certificate_v2" -> 1.2.840.113549.1.9.16.2.47)
through a reverse table that each class builds the first time a name is looked up. pyHanko
adds its own names to the OID tables while its modules are imported, but not to a reverse
table already built. So a process that looks one CMS attribute name up before importing
pyHanko (a verifier, a test, another library) keeps a reverse table without pyHanko's
names, and every later signature fails with "invalid literal for int() with base 10:
'signing_certificate_v2'". A lookup racing pyHanko's import in another thread can also stop
half-way ("dictionary changed size during iteration") and leave a half-built table.

:func:`complete_reverse_maps` builds every reverse table from a copy of its OID table and
puts it in place in one assignment. The signing code calls it once pyHanko is imported
(``bhxh.signing.pyhanko_ready``); the sandbox's verifier calls it when it is imported.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import core  # type: ignore[import-untyped]

__all__ = ["complete_reverse_maps"]


def _value_maps() -> list[Any]:
    seen: list[Any] = []
    todo: list[Any] = [core.ValueMap]
    while todo:
        sub: Any
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return [c for c in seen if isinstance(getattr(c, "_map", None), dict)]


def complete_reverse_maps() -> None:
    """Rebuild the name -> value table of every asn1crypto class that has names."""
    for cls in _value_maps():
        forward = dict(cls._map)  # one C-level copy: never seen half-changed
        cls._reverse_map = {name: value for value, name in forward.items()}
