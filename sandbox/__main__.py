"""``python -m sandbox --config FILE``: run the sandbox in the foreground.

The file (TOML or JSON) declares the signing provider's integrators, accounts,
certificates (issued from the test PKI), phone policies and faults, and optionally the
submission gateway. ``--print-example`` prints a commented example.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

__all__ = ["main"]

_EPILOG = """\
what it serves (all on 127.0.0.1):
  MISA eSign RemoteSigning V2   <provider>/webdev/api/auth/...  and  <provider>/external/esrm/...
  VNPT SmartCA sp769            <provider>/sca/sp769/v1/...
  virtual phone (for a person)  <provider>/phone/<user>
  phone control API (JSON)      <provider>/phone/api/<user>/pending|policy|<tx>/approve|reject
                                (header x-sandbox-token: <provider.control_token>)
  health                        <provider>/health
  submission gateway (VSS)      <gateway>/api/v1/dossiers, /api/v1/units/<unit>/registration
                                (Authorization: Bearer <gateway.api_keys>; contract at
                                <gateway>/openapi.json), when [gateway] is configured
  audit log                     one JSON object per line at audit_path

examples:
  python -m sandbox --print-example > sandbox.toml
  python -m sandbox --config sandbox.toml
"""


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sandbox`` and ``bhxh-sandbox``."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=(
            "Run the local stand-ins for the remote-signing providers (MISA eSign, "
            "VNPT SmartCA) with a virtual phone, and the submission gateway when configured. "
            "Test material only: test PKI, loopback only."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="sandbox file (.toml or .json)")
    parser.add_argument(
        "--print-example", action="store_true", help="print a commented example file and exit"
    )
    args = parser.parse_args(argv)

    from sandbox.config import example_config, load_config, start_sandbox

    if args.print_example:
        sys.stdout.write(example_config())
        return 0
    if args.config is None:
        parser.error("--config FILE is required (or --print-example)")
    try:
        config = load_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.config}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with start_sandbox(config) as sandbox:
        print(f"provider (MISA base URL):  {sandbox.misa_url}")
        print(f"provider (VNPT base URL):  {sandbox.vnpt_url}")
        print(f"provider (MySign base URL): {sandbox.mysign_url}")
        print(f"provider (CA2 base URL):   {sandbox.ca2_url}")
        for account in config.provider.accounts:
            label = f"phone of {account.username}:"
            print(f"{label:<27}{sandbox.phone_url(account.username)}")
        if sandbox.gateway_url:
            print(f"gateway:                   {sandbox.gateway_url}")
        print(f"audit log:                 {config.audit_path}")
        print("Ctrl-C to stop.", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
