"""``python -m deployments.inbox PERIOD [UNIT ...]``: load a period's dossiers from this
machine's inbox into the dossier store, so that any worker of a pool continues them.

On workers of several machines (the PostgreSQL store, ``BHXH_STORE_URL``), a unit's run
may start on a machine that does not hold the folder where the month's files were put.
Run this where the files are (the machine of the firm's shared drive, or the one where
``build_dossiers`` wrote them): it reads each unit's inbox for the period, checks every
file as a run would (a refused file names the unit, the dossier and the field, and nothing
of that unit is stored), and opens the dossiers in the store. A run on any worker then
finds them there: dossiers of the period already in the store and not done are continued
by every run, whatever its own inbox holds. Loading twice opens nothing twice (a dossier's
id is its unit, period, procedure and content).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bhxh.errors import BhxhError
from bhxh.intake import validate_period
from bhxh.pipeline import Pipeline, open_store, store_name
from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from flows.monthly import list_unit_blocks

__all__ = ["Loaded", "load_period", "main"]


@dataclass(frozen=True)
class Loaded:
    """One unit's load: how many dossiers the store holds open for the period, or why not."""

    unit: str
    dossiers: int
    refused: str = ""


async def load_period(
    period: str, names: Sequence[str] = (), settings: Settings | None = None
) -> list[Loaded]:
    """Load every named unit's (every saved unit's) inbox for ``period`` into the store."""
    settings = settings or Settings()
    validate_period(period)
    store = open_store(settings)
    pipeline = Pipeline(store, settings.outbox_dir)
    out: list[Loaded] = []
    for name in names or await list_unit_blocks():
        unit = await BhxhUnit.aload_unit(name)
        try:
            views = await asyncio.to_thread(
                pipeline.load, unit.unit_info(), period, unit.inbox_path(settings)
            )
        except BhxhError as exc:
            out.append(Loaded(name, 0, str(exc)))
            continue
        out.append(Loaded(name, len(views)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.inbox",
        description="Nạp hồ sơ của kỳ từ hộp thư đến máy này vào kho hồ sơ chung / load a "
        "period's dossiers from this machine's inbox into the shared dossier store.",
    )
    parser.add_argument("period", help="kỳ kê khai / the period, MM/YYYY, e.g. 12/2026")
    parser.add_argument("units", nargs="*", help="tên đơn vị / unit names (empty: every unit)")
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        loaded = asyncio.run(load_period(args.period, args.units, settings))
    except (BhxhError, ValueError) as exc:
        print(f"Lỗi / error: {exc}", file=sys.stderr)
        return 2
    print(f"Kho hồ sơ / dossier store: {store_name(settings)}")
    for row in loaded:
        if row.refused:
            print(
                f"  {row.unit}: bị từ chối, không nạp gì / refused, nothing loaded: {row.refused}"
            )
        else:
            print(f"  {row.unit}: {row.dossiers} hồ sơ đang mở / open dossier(s)")
    return 1 if any(r.refused for r in loaded) else 0


if __name__ == "__main__":
    raise SystemExit(main())
