"""``python -m benchmarks._sandbox_proc SPEC.json``: run a benchmark world's sandbox.

Prints one JSON line (URLs, control token, audit path) once the servers listen, then
serves until its stdin is closed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks._world import WorldSpec, scenario_of
from sandbox.config import start_sandbox


def main(argv: list[str]) -> int:
    spec = WorldSpec.from_json(json.loads(Path(argv[0]).read_text()))
    scenario = scenario_of(spec)
    with start_sandbox(scenario.sandbox_config()) as sandbox:
        info = {
            "provider_url": sandbox.provider_url,
            "misa_url": sandbox.misa_url,
            "gateway_url": sandbox.gateway_url,
            "control_token": sandbox.control_token,
            "audit_path": str(sandbox.config.audit_path),
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes the pipe
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
