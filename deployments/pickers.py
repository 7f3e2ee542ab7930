"""``python -m deployments.pickers``: each saved company (name, tax code, unit code) in the
unit pickers of every deployment's run form, after a ``prefect deploy``.

``prefect deploy`` writes each form from the flow's signature, which cannot know the saved
companies; adding or importing a company refreshes the forms by itself, and ``make
server`` does so once its blocks are saved. Run this after deploying by hand (against the
server ``PREFECT_API_URL`` names). See ``flows._pickers``.
"""

from __future__ import annotations

import asyncio

from flows import refresh_unit_pickers, unit_choices

__all__ = ["main"]


async def _refresh() -> tuple[int, list[str]]:
    changed = await refresh_unit_pickers()
    return len(await unit_choices()), changed


def main() -> int:
    """Entry point of ``python -m deployments.pickers``."""
    units, changed = asyncio.run(_refresh())
    names = ", ".join(changed) or "không có / none"
    print(
        f"{units} đơn vị trong các mẫu chạy; đã cập nhật: {names} / {units} units in the "
        f"run forms; updated: {names}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
