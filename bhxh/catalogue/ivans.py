"""The I-VANs: licensed carriers between a unit's software and VSS, as data.

There is no public wire from a unit to VSS: every dossier is carried by an I-VAN under
its own contract with VSS, and the envelope and the 04/05/06 forms name that carrier
(``MaIVAN``, ``TenIVAN``). A unit is registered with VSS through one I-VAN, and its
dossiers must name that one.

Source: the VSS portal publishes the list of I-VANs (``GetListIVAN``); the codes below are
the ones recorded in the project's domain notes from that list. A code not here is
refused until it is added: adding an I-VAN is one more row.

Example:
    >>> get_ivan("00040").name
    'Công ty Cổ phần Thái Sơn'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bhxh.errors import DossierInvalid

__all__ = ["DEFAULT_IVAN", "IVANS", "Ivan", "get_ivan"]


@dataclass(frozen=True)
class Ivan:
    """One I-VAN: its 5-digit code at VSS and its name as the envelope writes it."""

    code: str  # MaIVAN
    name: str  # TenIVAN
    short: str  # what accountants call it


_ROWS: tuple[Ivan, ...] = (
    Ivan("00001", "Công ty Cổ phần TS24", "TS24"),
    Ivan("00020", "Tập đoàn Bưu chính Viễn thông Việt Nam", "VNPT"),
    Ivan("00030", "Công ty Cổ phần Công nghệ Tin học EFY Việt Nam", "EFY"),
    Ivan("00040", "Công ty Cổ phần Thái Sơn", "Thái Sơn (eBH)"),
    Ivan("00050", "Tập đoàn Công nghiệp - Viễn thông Quân đội", "Viettel"),
    Ivan("00060", "Công ty Cổ phần Bkav", "Bkav"),
    Ivan("00070", "Công ty Cổ phần Hạ tầng Viễn thông CMC", "CMC"),
    Ivan("00080", "Tổng công ty Bưu điện Việt Nam", "VNPost"),
    Ivan("00110", "Công ty Cổ phần MISA", "MISA (AMIS BHXH)"),
)

#: I-VAN code -> I-VAN.
IVANS: Mapping[str, Ivan] = MappingProxyType({i.code: i for i in _ROWS})

#: The project starts from the AMIS BHXH + MISA eSign routine: MISA is the default carrier.
DEFAULT_IVAN = IVANS["00110"]


def get_ivan(code: str) -> Ivan:
    """The I-VAN with this code.

    Raises:
        DossierInvalid: the code is not in the list (the message lists the known ones).
    """
    try:
        return IVANS[code]
    except KeyError:
        known = ", ".join(f"{i.code} {i.short}" for i in _ROWS)
        raise DossierInvalid(
            f"Mã I-VAN {code!r} không có trong danh sách I-VAN của BHXH / unknown I-VAN code "
            f"{code!r}; known: {known}"
        ) from None
