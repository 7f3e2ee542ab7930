"""Ready examples of Prefect automations over the project's events, and the command that
creates them.

``notify-refusal.yaml``: notify when a dossier is refused or a supplement is requested.
``crashed-when-silent.yaml``: mark a flow run Crashed when its heartbeats stop (its
machine died), so that a monthly run over a work pool schedules the unit again.
A file is an automation as Prefect's ``prefect automation create --from-file`` reads it,
except that its ``send-notification`` actions name the notification block by id, which no
file can know in advance: :func:`create_automation` fills in the id of a block named
``TYPE/NAME`` (``custom-webhook/bhxh-thong-bao``, ``slack-webhook/ke-toan``...), then
creates the automation, or updates the one of the same name.

Example:
    ```bash
    python -m deployments.automations notify-refusal --block custom-webhook/bhxh-thong-bao
    ```
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect import get_client
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.events.schemas.automations import AutomationCore

__all__ = [
    "AUTOMATIONS_DIR",
    "automation_definition",
    "create_automation",
    "save_webhook_block",
]

AUTOMATIONS_DIR = Path(__file__).resolve().parent


def _split_block(block: str) -> tuple[str, str]:
    kind, sep, name = block.partition("/")
    if not sep or not kind or not name:
        raise ValueError(
            f"block {block!r} must be TYPE/NAME, e.g. custom-webhook/bhxh-thong-bao "
            "(`prefect block ls` lists them)"
        )
    return kind, name


def automation_definition(name: str, block_document_id: UUID | None = None) -> AutomationCore:
    """The automation of ``<name>.yaml``, its notification actions pointed at a block.

    Raises:
        FileNotFoundError: no such example (the message lists the ones there are).
    """
    path = AUTOMATIONS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in AUTOMATIONS_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"no automation {name!r}; the examples are: {', '.join(known)}")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if block_document_id is not None:
        for action in data.get("actions", []):
            if action.get("type") == "send-notification":
                action["block_document_id"] = str(block_document_id)
    return AutomationCore.model_validate(data)


async def save_webhook_block(block: str, url: str) -> UUID:
    """Save (or replace) a Custom Webhook notification block posting subject and body as
    JSON to ``url``; returns its id."""
    kind, name = _split_block(block)
    if kind != CustomWebhookNotificationBlock.get_block_type_slug():
        raise ValueError(f"--webhook-url saves a custom-webhook block, not {kind!r}")
    webhook = CustomWebhookNotificationBlock(
        name=name,
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
    )
    return await webhook.asave(name, overwrite=True)


async def create_automation(
    name: str, block: str | None = None, *, within: float | None = None
) -> tuple[UUID, bool]:
    """Create the example ``name`` (notifying through ``block``, ``TYPE/NAME``, when it
    sends notifications), or update the automation of the same name; returns (its id,
    whether it was created).

    Raises:
        ValueError: the example sends notifications and no block was named.
    """
    automation = automation_definition(name)
    if within is not None:
        if not hasattr(automation.trigger, "within"):
            raise ValueError(f"automation {name!r} has no time window to set")
        automation.trigger.within = dt.timedelta(seconds=within)
    if block is None and any(a.type == "send-notification" for a in automation.actions):
        raise ValueError(f"automation {name!r} sends notifications: name a --block")
    async with get_client() as client:
        if block is not None:
            kind, block_name = _split_block(block)
            document = await client.read_block_document_by_name(
                block_name, kind, include_secrets=False
            )
            automation.actions = automation_definition(name, document.id).actions
        existing = await client.read_automations_by_name(automation.name)
        if existing:
            await client.update_automation(existing[0].id, automation)
            return existing[0].id, False
        return await client.create_automation(automation), True
