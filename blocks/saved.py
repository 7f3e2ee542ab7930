"""The blocks saved on the Prefect server, by type: what a picker or a default chooses from."""

from __future__ import annotations

from prefect import get_client
from prefect.blocks.core import Block

__all__ = ["saved_block_names"]


async def saved_block_names(block_type: type[Block]) -> list[str]:
    """Names of the saved (named, not anonymous) blocks of ``block_type``, sorted."""
    async with get_client() as client:
        documents = await client.read_block_documents_by_type(
            block_type.get_block_type_slug(), include_secrets=False
        )
    return sorted(d.name for d in documents if d.name and not d.is_anonymous)
