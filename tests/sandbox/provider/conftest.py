"""Fixtures for the provider sandbox tests (shared helpers live in tests/esign)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.pki import TestPKI
from tests.esign.esign_support import ProviderFactory, provider_fixture


@pytest.fixture
def provider(pki: TestPKI, tmp_path: Path) -> Iterator[ProviderFactory]:
    """``provider(**overrides)`` starts a sandbox with ``base_config(**overrides)``."""
    yield from provider_fixture(pki, tmp_path)
