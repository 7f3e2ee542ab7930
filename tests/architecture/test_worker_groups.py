"""``make test`` runs on three pytest-xdist workers with ``--dist loadgroup``; the groups of
``tests/conftest.py`` keep a module's tests on one worker and every end-to-end test on one
worker. Checked by running a small suite on two workers, as ``make test`` does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.conftest import handout_rank, worker_group

ROOT = Path(__file__).resolve().parents[2]


def test_an_end_to_end_test_is_in_the_end_to_end_group_and_any_other_in_its_module() -> None:
    assert worker_group("tests/e2e/test_ui_browser.py::test_x[a]") == "e2e"
    assert worker_group("tests/e2e/test_overview.py::test_y") == "e2e"
    pool = "tests/e2e/test_month_over_pool.py"
    assert worker_group(f"{pool}::test_a_month") == pool  # long: beside the others
    assert worker_group("tests/bhxh/test_periods.py::TestA::test_b") == "tests/bhxh/test_periods.py"


def test_the_long_end_to_end_groups_are_handed_out_first() -> None:
    ids = [
        "tests/architecture/test_a.py::test_x",
        "tests/e2e/test_ui_browser.py::test_tour",
        "tests/bhxh/test_b.py::test_y",
        "tests/e2e/test_month_over_pool.py::test_month",
    ]
    assert sorted(ids, key=handout_rank) == [ids[3], ids[1], ids[0], ids[2]]


def test_each_module_runs_on_one_worker_in_the_order_collected(tmp_path: Path) -> None:
    """Collected order is the hand-out order (pytest-xdist would otherwise hand the largest
    module out first): the last and largest module here starts only when a worker has run
    one of the first two whole."""
    modules = [
        "tests/architecture/test_text_reads.py",  # 3 tests
        "tests/blocks/test_unit_block_text.py",  # 4 tests
        "tests/architecture/test_words_rule.py",  # 16 tests
    ]
    env = {**os.environ, "BHXH_TEST_ROOT": str(tmp_path / "root")}
    env.pop("PYTEST_XDIST_WORKER", None)
    options = [
        "-n",
        "2",
        "--dist",
        "loadgroup",
        "-v",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *options, "--durations=0", *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    workers: dict[str, set[str]] = defaultdict(set)
    finished: list[str] = []  # the module of each test, in the order they finished
    for worker, nodeid in re.findall(r"^\[(gw\d+)\] .*?PASSED (\S+)", done.stdout, re.M):
        workers[nodeid.split("::", 1)[0]].add(worker)
        finished.append(nodeid.split("::", 1)[0])
    assert set(workers) == set(modules), done.stdout[-3000:]
    assert all(len(on) == 1 for on in workers.values()), dict(workers)
    last_starts = finished.index(modules[2])
    before = finished[:last_starts]
    assert any(before.count(m) == finished.count(m) for m in modules[:2]), finished
