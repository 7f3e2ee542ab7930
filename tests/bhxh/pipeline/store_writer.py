"""Run by test_dossier_store: records steps of one dossier in a loop until it is killed.

Usage: python store_writer.py <store root> <unit code> <period> <dossier id>
Prints the index of each step once its journal write has returned.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bhxh.pipeline import DossierStore, Step


def main() -> None:
    root, unit_code, period, ident = sys.argv[1:5]
    store = DossierStore(Path(root))
    rec = store.get(unit_code, period, ident)
    start = len(rec.steps) - 1
    pad = "x" * 20_000  # a bigger journal makes each write take longer: more chances to cut it
    for i in range(start, start + 100_000):
        rec = store.record(rec, Step.PREPARED, i=i, pad=pad)
        print(i, flush=True)


if __name__ == "__main__":
    main()
