"""A unit's registration at VSS, tracked locally when the carrier cannot read it.

No known I-VAN lets a unit's software read which certificate VSS has on file. When the
carrier's adapter declares no registration read, the state is derived from what this
project knows: the unit's own 04/05/06 dossiers and their results, on top of what a person
recorded in the unit block (``registration_state``, ``registered_serial``: for example the
USB token a unit registered with before remote signing). ``unknown`` is a normal state:
a flow whose choice depends on it (04 or 05?) says so in one sentence and asks.

Rules, oldest dossier first:

* a 04 or 05 accepted by VSS: ``registered``, with the certificate the form names;
* a 04 or 05 handed over without a final answer: ``change_pending`` (the earlier
  certificate, if any, still rules);
* a 04 or 05 refused: nothing changes;
* a 06 accepted: ``stopped``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bhxh.pipeline import DossierView
from bhxh.submission import REGISTRATION_STATES, RegisteredCertificate, Registration

__all__ = ["STATES", "local_registration"]

#: The registration states, ``unknown`` included.
STATES = REGISTRATION_STATES

_FINAL_REFUSED = {"rejected", "rejected_at_receipt"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _certificate(serial: str | None) -> RegisteredCertificate | None:
    if not serial:
        return None
    # Only the serial is known locally; the form on file names the rest.
    return RegisteredCertificate(serial.upper(), "", _EPOCH, _EPOCH)


def local_registration(
    unit_code: str,
    views: Iterable[DossierView],
    *,
    recorded_state: str = "unknown",
    recorded_serial: str | None = None,
    tax_code: str | None = None,
) -> Registration:
    """The unit's registration as its dossiers tell it (see the module's rules).

    Args:
        unit_code: the unit.
        views: the unit's dossiers (any period), oldest first.
        recorded_state: what a person recorded in the unit block (default ``unknown``).
        recorded_serial: the certificate a person recorded as registered, if any.
        tax_code: the unit's tax code, for the result.
    """
    state = recorded_state if recorded_state in STATES else "unknown"
    serial = recorded_serial.upper() if recorded_serial else None
    pending: str | None = None
    for view in views:
        if not view.is_registration or not view.handed_over:
            continue
        result = view.result
        outcome = result.outcome if result else None
        named = view.certificate_serial
        if view.procedure in {"04", "05"}:
            if outcome == "accepted":
                state, serial, pending = "registered", named, None
            elif outcome in _FINAL_REFUSED or (outcome and outcome != "accepted"):
                pending = None
                if state == "change_pending":
                    state = "registered" if serial else "unknown"
            else:
                state, pending = "change_pending", named
        elif view.procedure == "06" and outcome == "accepted":
            state, pending = "stopped", None
    return Registration(
        unit_code=unit_code,
        state=state,
        tax_code=tax_code,
        certificate=_certificate(serial),
        source="local",
        pending_serial=pending,
    )
