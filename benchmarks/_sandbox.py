"""The sandbox of a benchmark world, in its own process (no Prefect imported here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["RunningSandbox"]


class RunningSandbox:
    """The sandbox (provider + gateway) in a child process, so that it does not share the
    measured process's CPU (GIL) or memory. Stopped by closing its stdin."""

    def __init__(self, spec_path: Path, log_path: Path) -> None:
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._sandbox_proc", str(spec_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=os.environ.copy(),
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"the sandbox process did not start; see {log_path}")
        info = json.loads(line)
        self.provider_url: str = info["provider_url"]
        self.misa_url: str = info["misa_url"]
        self.gateway_url: str = info["gateway_url"]
        self.control_token: str = info["control_token"]
        self.audit_path = Path(info["audit_path"])

    def audit(self) -> list[dict[str, Any]]:
        from sandbox.audit import read_audit

        return read_audit(self.audit_path)

    def per_user(self, event: str) -> Counter[str]:
        return Counter(str(e.get("user")) for e in self.audit() if e.get("event") == event)

    def stop(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
