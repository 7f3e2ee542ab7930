"""pyHanko imported once per process, under a lock, then asn1crypto's name tables made whole.

A name table built before pyHanko was imported lacks pyHanko's names, and units are signed in
threads (see :mod:`bhxh.asn1names`). Every pyHanko use in this package calls
:func:`pyhanko_ready` first; so should any other code that signs with pyHanko directly.
"""

from __future__ import annotations

import importlib
import threading

from bhxh.asn1names import complete_reverse_maps

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
        complete_reverse_maps()
        _ready = True
