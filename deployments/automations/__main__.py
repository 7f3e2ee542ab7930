"""``python -m deployments.automations NAME [--block TYPE/NAME [--webhook-url URL]]``.

Creates (or updates) the example automation ``deployments/automations/NAME.yaml`` on the
Prefect API of the environment (``PREFECT_API_URL``), notifying through the named block.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from deployments.automations import create_automation, save_webhook_block


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.automations",
        description="Create or update an example automation over the bhxh.* events.",
    )
    parser.add_argument("name", help="the example, e.g. notify-refusal")
    parser.add_argument(
        "--block",
        help="the notification block TYPE/NAME, e.g. custom-webhook/bhxh-thong-bao (for an "
        "automation that notifies)",
    )
    parser.add_argument(
        "--webhook-url",
        help="save the block first as a Custom Webhook posting {subject, body} to this URL",
    )
    parser.add_argument(
        "--within",
        type=float,
        help="the trigger's window in seconds (crashed-when-silent: three heartbeats' time)",
    )
    args = parser.parse_args(argv)

    async def run() -> int:
        if args.webhook_url:
            if not args.block:
                raise ValueError("--webhook-url needs --block TYPE/NAME")
            await save_webhook_block(args.block, args.webhook_url)
            print(f"Đã lưu khối thông báo / saved notification block {args.block}")
        automation_id, created = await create_automation(args.name, args.block, within=args.within)
        verb = "Đã tạo / created" if created else "Đã cập nhật / updated"
        via = f", notifying via {args.block}" if args.block else ""
        print(f"{verb} automation {args.name} ({automation_id}){via}")
        return 0

    try:
        return asyncio.run(run())
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
