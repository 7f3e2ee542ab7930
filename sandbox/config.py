"""The sandbox's declarative file (TOML or JSON) and a Python handle to run it.

Example:
    >>> with start_sandbox(load_config(Path("sandbox.toml"))) as sb:  # doctest: +SKIP
    ...     print(sb.provider_url, sb.phone_url("acme"))
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from sandbox.audit import AuditLog
from sandbox.gateway import GatewayConfig, create_gateway_app
from sandbox.pki import TestPKI
from sandbox.provider import ProviderConfig, create_provider_app
from sandbox.serve import ServerThread

__all__ = ["Sandbox", "SandboxConfig", "example_config", "load_config", "start_sandbox"]


class SandboxConfig(BaseModel):
    """The whole sandbox: the signing provider, the submission gateway, where files go."""

    model_config = ConfigDict(extra="forbid")

    provider: ProviderConfig = Field(default_factory=ProviderConfig)
    gateway: GatewayConfig | None = Field(
        None, description="The submission gateway playing VSS; None runs the provider alone."
    )
    pki_dir: Path = Path("var/pki")
    audit_path: Path = Path("var/sandbox/audit.jsonl")
    provider_port: int = Field(0, ge=0, le=65535, description="0 = any free port.")
    gateway_port: int = Field(0, ge=0, le=65535, description="0 = any free port.")


def load_config(path: Path) -> SandboxConfig:
    """Read a ``.toml`` or ``.json`` sandbox file; relative paths stay relative to the cwd."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ValueError(f"{path}: sandbox config must end in .toml or .json")
    raw = path.read_bytes()
    data = json.loads(raw) if suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    return SandboxConfig.model_validate(data)


class Sandbox:
    """Running sandbox servers on loopback; stop them with :meth:`stop` or ``with``."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.pki = TestPKI.load_or_create(config.pki_dir)
        self.audit = AuditLog(config.audit_path)
        self.provider_app = create_provider_app(config.provider, self.pki, self.audit)
        self._servers: list[ServerThread] = []
        self.provider_url = ""
        self.gateway_url: str | None = None
        self.gateway_app: Any = None
        if config.gateway is not None:
            self.gateway_app = create_gateway_app(config.gateway, self.pki, self.audit)

    def start(self) -> Sandbox:
        try:
            server = ServerThread(self.provider_app, port=self.config.provider_port).start()
            self._servers.append(server)
            self.provider_url = server.url
            if self.gateway_app is not None:
                gw = ServerThread(self.gateway_app, port=self.config.gateway_port).start()
                self._servers.append(gw)
                self.gateway_url = gw.url
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def control_token(self) -> str:
        """The ``x-sandbox-token`` value for the phone's control API."""
        return self.config.provider.control_token

    @property
    def misa_url(self) -> str:
        """Base URL for a MISA client (auth at /api/auth/ and /webdev/api/auth/, ESRM at /)."""
        return self.provider_url + "/"

    @property
    def vnpt_url(self) -> str:
        """Base URL for a VNPT SmartCA sp769 client."""
        return self.provider_url + "/sca/sp769"

    @property
    def mysign_url(self) -> str:
        """Base URL for a Viettel MySign client (the calls are under /vtss/service/)."""
        return self.provider_url

    @property
    def ca2_url(self) -> str:
        """Base URL for a CA2 RemoteSigning client (the ``.../api/data`` base)."""
        return self.provider_url + "/ca2/api/data"

    def phone_url(self, user: str) -> str:
        """The virtual phone page of ``user``."""
        return f"{self.provider_url}/phone/{quote(user, safe='')}"

    def stop(self) -> None:
        while self._servers:
            self._servers.pop().stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_sandbox(config: SandboxConfig) -> Sandbox:
    """Issue the certificates, start the provider (and gateway, when configured)."""
    return Sandbox(config).start()


_EXAMPLE = """\
# prefect-bhxh sandbox: a local MISA eSign / VNPT SmartCA / CA2 stand-in with a virtual phone.
# Start it with:  python -m sandbox --config sandbox.toml
# Everything here is TEST material: test PKI, throwaway passwords, loopback only.

pki_dir = "var/pki"                      # test PKI (created on first run, then reused)
audit_path = "var/sandbox/audit.jsonl"   # one JSON object per line
provider_port = 8765                     # 0 = any free port
gateway_port = 8766

[provider]
lockout_after = 5                 # wrong passwords before the account locks
lockout_seconds = 900
token_ttl_seconds = 3600          # MISA access token lifetime (expiresIn)
signing_deadline_seconds = 300    # how long the phone has to approve
control_token = "change-me-sandbox-control-token"   # header x-sandbox-token for /phone/api

# Integrators: MISA clientId / clientKey pairs, VNPT and CA2 sp_id / sp_password pairs.
[[provider.clients.misa]]
client_id = "demo-client"
client_key = "demo-client-key"

[[provider.clients.vnpt]]
sp_id = "demo-sp"
sp_password = "demo-sp-password"

# A Viettel MySign integrator client (client_id / client_secret / RAS profile). For
# async = 3, the URLs Viettel calls back and the client id / secret the integrator issued
# to Viettel (callback_method: GET as the document prints, or POST).
[[provider.clients.mysign]]
client_id = "demo_mysign_client"
client_secret = "demo-mysign-secret"
profile_id = "adss:ras:profile:001"
# callback_auth_url = "https://callbacks.example/mysign/auth"
# callback_result_url = "https://callbacks.example/mysign/result"
# callback_client_id = "demo_callback"
# callback_client_secret = "demo-callback-secret"
# callback_method = "GET"

[[provider.clients.ca2]]
sp_id = "demo-ca2-sp"
sp_password = "demo-ca2-sp-password"

# A MISA account with two-factor and three certificates (one inactive, one expired).
[[provider.accounts]]
username = "acme"
password = "acme-password"
two_factor_code = "246810"        # omit for no two-factor
provider = "misa"
pin = "123456"                    # PIN asked by the virtual phone

[[provider.accounts.certificates]]
pki_name = "acme-misa"
alias = "ACME-2025"
tax_code = "0101234567"
unit_name = "Công ty TNHH ACME"
ca = "misa"                       # misa | vnpt | mysign (Viettel-CA) | ca2 | token
variant = "valid"                 # valid | expired | not_yet_valid | revoked
key_status = "ACTIVE"             # ACTIVE | INACTIVE

[[provider.accounts.certificates]]
pki_name = "acme-misa-old"
alias = "ACME-2022"
tax_code = "0101234567"
unit_name = "Công ty TNHH ACME"
variant = "expired"

[[provider.accounts.certificates]]
pki_name = "acme-misa-paused"
alias = "ACME-PAUSED"
tax_code = "0101234567"
unit_name = "Công ty TNHH ACME"
key_status = "INACTIVE"

# A VNPT SmartCA signer: the user id is the ID number or the tax code.
[[provider.accounts]]
user_id = "0109876543"
provider = "vnpt"

[[provider.accounts.certificates]]
pki_name = "beta-vnpt"
tax_code = "0109876543"
unit_name = "Công ty CP Beta"
ca = "vnpt"

# A Viettel MySign signer: its MySign user id.
[[provider.accounts]]
user_id = "MST_0201234567"
provider = "mysign"

[[provider.accounts.certificates]]
pki_name = "gamma-mysign"
alias = "0201234567_2482540_20260101000000"   # MySign's credential_id
tax_code = "0201234567"
unit_name = "Công ty TNHH Gamma"
ca = "mysign"

# A CA2 RemoteSigning signer (NACENCOMM): the user id is the ID number or the tax code.
[[provider.accounts]]
user_id = "0201234568"
provider = "ca2"

[[provider.accounts.certificates]]
pki_name = "gamma-ca2"
tax_code = "0201234568"
unit_name = "Công ty TNHH Gamma"
ca = "ca2"

# Phone policies: approve | reject | expire | fail | manual (wait for a person).
[provider.policies.acme]
action = "manual"

[provider.policies."0109876543"]
action = "approve"
after_seconds = 3

# Fault switches (all off here).
[provider.faults]
rate_429 = 0.0               # share of API calls answered 429 (with Retry-After)
rate_5xx = 0.0               # share answered 503
burst_429 = 0                # the first N API calls answer 429
retry_after_seconds = 1
slow_seconds = 0.0           # delay before each API answer
rate_timeout = 0.0           # share of API calls that hang timeout_seconds, then 504 (unprocessed)
timeout_seconds = 5.0
lose_sign_response = 0       # the next N sign requests (any provider) are processed but answer 502
wrong_key_signatures = false # sign with a key that is not the certificate's
token_expires_early = false  # a password login's token dies after its first use
refresh_fails = false        # refresh tokens are refused (client must log in again)
seed = 1

# The submission gateway playing VSS (sandbox.gateway.GatewayConfig): uncomment to run it.
# Clients call it with  Authorization: Bearer <one of api_keys>;  contract at /openapi.json.
# [gateway]
# api_keys = ["change-me-gateway-key"]
# result_delay_seconds = 5          # receipt -> outcome (0 = at once)
# numbering_delay_seconds = 2       # receipt -> soHoSo (default: with the outcome)
# change_delay_seconds = 10         # how long an accepted 05 stays change_pending
#
# [[gateway.units]]                 # units VSS already knows
# unit_code = "TZ1234A"
# tax_code = "0101234567"
# name = "Công ty TNHH ACME"
# agency_code = "07906"
# certificate = "acme-token"        # registered certificate (issued if missing)
# certificate_ca = "token"          # a USB token: the unit must file a 05 to sign remotely
#
# [gateway.outcomes]                # accepted | rejected_at_receipt | rejected | supplement
# default = "accepted"
# by_dossier = { "TZ1234A-600-2" = "supplement" }
#
# [gateway.faults]
# burst_503 = 0                     # the first N API calls answer 503
# rate_503 = 0.0
# slow_seconds = 0.0
# lose_response_after_record = { count = 0, mode = "drop" }   # drop | 502
"""


def example_config() -> str:
    """A commented example sandbox file (TOML)."""
    return _EXAMPLE
