"""The submission port is exercised against the sandbox gateway: its certificates and its
server come from the gateway tests' fixtures."""

from tests.sandbox.gateway.conftest import certs, start_gateway

__all__ = ["certs", "start_gateway"]
