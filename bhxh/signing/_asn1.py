"""pyHanko imported once per process, under a lock, then asn1crypto's name tables made whole.

asn1crypto turns a name into its OID ("signing_certificate_v2" -> 1.2.840.113549.1.9.16.2.47)
through a reverse table that each class builds the first time a name is looked up. pyHanko
adds its own names to the OID tables while its modules are imported, but not to a reverse
table already built. So a process that looks one CMS attribute name up before importing
pyHanko (a verifier, a test, another library) keeps a reverse table without pyHanko's
names, and every later signature fails with "invalid literal for int() with base 10:
'signing_certificate_v2'". A lookup racing pyHanko's import in another thread (units are
signed in threads) can also stop half-way and leave a half-built table.

:func:`pyhanko_ready` imports pyHanko, then builds every reverse table from a copy of its
OID table, each put in place in one assignment. Every pyHanko use in this package calls it
first; so should any other code that signs with pyHanko directly.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from asn1crypto import core  # type: ignore[import-untyped]

__all__ = ["pyhanko_ready"]

#: Every pyHanko module the signing code imports, and those that add OIDs to asn1crypto.
PYHANKO_MODULES = (
    "pyhanko.pdf_utils.crypt",
    "pyhanko.pdf_utils.font.opentype",
    "pyhanko.pdf_utils.incremental_writer",
    "pyhanko.pdf_utils.layout",
    "pyhanko.pdf_utils.misc",
    "pyhanko.pdf_utils.reader",
    "pyhanko.pdf_utils.text",
    "pyhanko.sign.ades.cades_asn1",
    "pyhanko.sign.ades.qualified_asn1",
    "pyhanko.sign.fields",
    "pyhanko.sign.general",
    "pyhanko.sign.signers",
    "pyhanko.sign.signers.pdf_byterange",
    "pyhanko.sign.signers.pdf_cms",
    "pyhanko.sign.signers.pdf_signer",
    "pyhanko.sign.validation",
    "pyhanko.stamp",
    "pyhanko_certvalidator.asn1_types",
    "pyhanko_certvalidator.registry",
)


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


def _complete_reverse_maps() -> None:
    """Rebuild the name -> value table of every asn1crypto class that has names."""
    for cls in _value_maps():
        forward = dict(cls._map)  # one C-level copy: never seen half-changed
        cls._reverse_map = {name: value for value, name in forward.items()}


_lock = threading.Lock()
_ready = False


def pyhanko_ready() -> None:
    """Import pyHanko (once per process, whichever thread comes first) and make asn1crypto's
    name tables whole; cheap after the first call."""
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        for name in PYHANKO_MODULES:
            importlib.import_module(name)
        _complete_reverse_maps()
        _ready = True
