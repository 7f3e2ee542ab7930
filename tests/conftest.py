"""Session-wide fixtures: an isolated data directory, the test PKI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.pki import TestPKI

# The embedded Prefect default, isolated per test session, set before Prefect is imported.
_SESSION_ROOT = Path(os.environ.get("BHXH_TEST_ROOT", Path.cwd() / "var" / "test"))
os.environ.setdefault("PREFECT_HOME", str(_SESSION_ROOT / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """One Prefect test harness (a temporary API on SQLite) per test process, started by
    the first test that needs it and kept to the end of the session.

    One only: Prefect's event and log workers are process-wide and keep the API they
    were started for, so a second harness would read what was sent to the first (events
    "never stored", a receiver following a server no run talks to)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def pki_dir() -> Path:
    """The test PKI is reused across sessions (var/test/pki), as the project reuses var/pki."""
    return _SESSION_ROOT / "pki"


@pytest.fixture(scope="session")
def pki(pki_dir: Path) -> TestPKI:
    return TestPKI.load_or_create(pki_dir)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh BHXH_DATA_DIR for one test."""
    monkeypatch.setenv("BHXH_DATA_DIR", str(tmp_path / "var"))
    yield tmp_path / "var"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Meant for ``make test``'s ``-n 3 --dist loadgroup`` (pytest-xdist): a module's tests
    on one worker, the end-to-end tests one after another on one worker. Not applied yet:
    pytest-xdist reads the marks before this hook adds them (``tryfirst`` did not change
    it), so tests spread freely (docs/testing.md)."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        group = "e2e" if item.get_closest_marker("e2e") else module
        item.add_marker(pytest.mark.xdist_group(group))
