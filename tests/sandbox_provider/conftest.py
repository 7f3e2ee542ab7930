"""Fixtures for the provider sandbox tests (shared helpers live in tests/esign)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "esign"))

from esign_support import ProviderFactory, provider_fixture

from sandbox.pki import TestPKI


@pytest.fixture
def provider(pki: TestPKI, tmp_path: Path) -> Iterator[ProviderFactory]:
    """``provider(**overrides)`` starts a sandbox with ``base_config(**overrides)``."""
    yield from provider_fixture(pki, tmp_path)
