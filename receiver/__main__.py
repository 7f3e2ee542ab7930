"""``python -m receiver --block NAME [--host 127.0.0.1] [--port 8787]``: the receiver.

Loads the ``ProviderCallbackSecrets`` block ``NAME`` from the Prefect API
(``PREFECT_API_URL``), follows the approval events there and serves the callbacks with
uvicorn. In production it listens on loopback behind a TLS reverse proxy (see
``docs/deployment.md``); ``--proxy-headers`` trusts the proxy's ``X-Forwarded-*``.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from blocks.callbacks import ProviderCallbackSecrets
from receiver.app import ReceiverConfig
from receiver.service import serve_app


def config_from_block(block: ProviderCallbackSecrets) -> ReceiverConfig:
    """The receiver's configuration from its block (secrets unwrapped only here)."""
    return ReceiverConfig(
        misa_client_ids=tuple(block.misa_client_ids),
        misa_webhook_token=block.misa_webhook_token.get_secret_value(),
        mysign_client_id=block.mysign_client_id,
        mysign_client_secret=block.mysign_client_secret.get_secret_value(),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m receiver", description=__doc__)
    parser.add_argument("--block", required=True, help="ProviderCallbackSecrets block name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--proxy-headers", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    block = ProviderCallbackSecrets.load(args.block)
    assert isinstance(block, ProviderCallbackSecrets)  # a sync load returns the block
    config = config_from_block(block)
    uvicorn.run(
        serve_app(config),
        host=args.host,
        port=args.port,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips="127.0.0.1" if args.proxy_headers else None,
        access_log=False,  # the access log would carry the MISA webhook's path token
        log_level="info",
    )


if __name__ == "__main__":
    main()
