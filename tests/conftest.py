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
    "never stored", a receiver following a server no run talks to).

    Its start waits up to 600 s: the temporary API costs about 26 s of CPU to start (its
    imports and the migration of a new SQLite database), and a worker that first needed
    it while the end-to-end stacks ran beside it waited more than 180 s (a fresh-clone
    run: 70 tests in error at setup)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=600):
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


E2E_FOLDER = "tests/e2e/"
#: The month over a work pool: one test of 10 to 20 minutes, a group of its own, so that
#: the other end-to-end tests do not wait behind it (two stacks at most at once).
E2E_ALONE = "tests/e2e/test_month_over_pool.py"


def worker_group(nodeid: str) -> str:
    """Which worker-sharing group a test belongs to under ``make test``'s ``-n 3 --dist
    loadgroup`` (pytest-xdist): the end-to-end folder is one group (its stacks of servers,
    workers and a browser run one after another on two cores), but for ``E2E_ALONE``; any
    other module is its own group (its module fixtures are set up once, on one worker)."""
    module = nodeid.split("::", 1)[0]
    return "e2e" if nodeid.startswith(E2E_FOLDER) and module != E2E_ALONE else module


#: The groups handed out first, longest first: pytest-xdist hands groups out in the order
#: they are collected, and a long group handed out last is the whole run's tail (seen: the
#: month over the pool, one test, started after every other group, 15 minutes alone).
FIRST_GROUPS = (E2E_ALONE, "e2e")


def handout_rank(nodeid: str) -> int:
    """Where a test's group comes in the order groups are handed out: the long ones
    first, every other group after, in the order pytest collects them."""
    group = worker_group(nodeid)
    return FIRST_GROUPS.index(group) if group in FIRST_GROUPS else len(FIRST_GROUPS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the workers of ``--dist loadgroup``: the long groups first (a stable sort, so
    any other test keeps its place)."""
    if getattr(config.option, "loadgroup", False):
        items.sort(key=lambda item: handout_rank(item.nodeid))


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup`` grouped by :func:`worker_group`, read from the test's id.

    Why not ``xdist_group`` marks: pytest-xdist 3.8 groups by a suffix its workers add to
    ``item._nodeid``, and pytest 9.2 no longer reads a node's id from that attribute, so
    marked tests spread over every worker (seen in the reports: no ``@group`` in any id,
    one module's tests on three workers). The scheduler's scope is the supported seam."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    # Hand groups out in the collected order (long ones first), not by their number of
    # tests, which would put the one-test month over the pool last.
    config.option.loadscopereorder = False

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return ByGroup(config, log)  # type: ignore[arg-type]
