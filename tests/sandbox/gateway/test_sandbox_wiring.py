"""The gateway inside the sandbox: configured under [gateway], started with the provider."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bhxh.submission import GatewayClient
from sandbox.config import SandboxConfig, example_config, start_sandbox
from sandbox.gateway import GatewayConfig
from tests.sandbox.gateway.gateway_support import UNIT


def test_the_commented_gateway_example_is_a_valid_config() -> None:
    lines = example_config().splitlines()
    start = lines.index("# [gateway]")
    table = "\n".join(line.removeprefix("# ").removeprefix("#") for line in lines[start:])
    config = GatewayConfig.model_validate(tomllib.loads(table)["gateway"])
    assert config.units[0].certificate_ca == "token"


async def test_start_sandbox_runs_the_gateway(tmp_path: Path, pki_dir: Path) -> None:
    config = SandboxConfig.model_validate(
        {
            "pki_dir": str(pki_dir),
            "audit_path": str(tmp_path / "audit.jsonl"),
            "gateway": {
                "api_keys": ["wired-key"],
                "units": [
                    {
                        "unit_code": UNIT.code,
                        "tax_code": UNIT.tax_code,
                        "name": UNIT.name,
                        "certificate": "gw-wired-token",
                    }
                ],
            },
        }
    )
    with start_sandbox(config) as sandbox:
        assert sandbox.gateway_url
        async with GatewayClient(sandbox.gateway_url, "wired-key") as client:
            registration = await client.registration(UNIT.code)
    assert registration.state == "registered"
    assert registration.certificate is not None
    assert "MST:" + UNIT.tax_code in registration.certificate.subject
