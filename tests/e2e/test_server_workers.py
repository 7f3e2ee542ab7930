"""A real Prefect server (SQLite, then PostgreSQL), process workers and prefect.yaml.

Each test starts ``prefect server start`` as a subprocess on a free port, creates the work
pool and the deployments with ``prefect deploy``, starts the sandbox (the phone approves
after a second) and the worker(s), then triggers runs with ``prefect deployment run``.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import httpx
import pytest

from bhxh.pipeline import Step
from demo.scenario import demo_units
from deployments.processes import ManagedProcess, spawn
from deployments.server import running_stack
from deployments.stack import (
    PROJECT_DIR,
    PrefectServer,
    run_deployment,
    start_prefect_server,
    unit_ref,
    wait_for_flow_run,
)
from tests.e2e.support import (
    FAST_FLOWS,
    PERIOD,
    VIETNAM,
    approvals,
    read_deployment,
    records,
    scheduled_starts,
    stopped_at_exit,
    submissions,
    workers_that_ran,
)

pytestmark = pytest.mark.e2e


def _assert_monthly_schedule(starts: list[dt.datetime]) -> None:
    for start in starts:
        local = start.astimezone(VIETNAM)
        assert (local.day, local.hour, local.minute) == (10, 8, 0), local
        assert local.utcoffset() == dt.timedelta(hours=7)


@pytest.mark.parametrize(
    ("database", "workers"),
    [("sqlite", 1), ("postgresql", 2)],
    ids=["sqlite-one-worker", "postgresql-two-workers"],
)
def test_deployment_runs_sign_submit_and_get_dossiers_acknowledged(
    tmp_path: Path, pki_dir: Path, database: str, workers: int
) -> None:
    an_phat, _, cuu_long, *_ = demo_units()
    units = [an_phat, cuu_long]
    blocks = [u.block for u in units]
    with running_stack(
        tmp_path / "stack",
        units,
        period=PERIOD,
        pki_dir=pki_dir,
        postgres=database == "postgresql",
        workers=workers,
        worker_env=FAST_FLOWS,
        query_seconds=2,
    ) as stack:
        server = stack.server
        # prefect.yaml made every deployment, on the process pool; the monthly one on cron.
        monthly = read_deployment(server, "monthly_submission/monthly")
        assert monthly["work_pool_name"] == "bhxh-process"
        (schedule,) = monthly["schedules"]
        assert schedule["slug"] == "monthly-10th-0800" and schedule["active"] is True
        assert schedule["schedule"]["cron"] == "0 8 10 * *"
        assert schedule["schedule"]["timezone"] == "Asia/Ho_Chi_Minh"
        for name in ("sign_and_submit/manual", "setup_remote_signing/setup", "track_results/track"):
            deployment = read_deployment(server, name)
            assert deployment["schedules"] == [] and deployment["work_pool_name"] == "bhxh-process"
        _assert_monthly_schedule(scheduled_starts(server, monthly["id"]))

        # Set both units up (an-phat submits a 05 change: one approval).
        setups = [
            run_deployment(server, "setup_remote_signing/setup", unit_block=unit_ref(b))
            for b in blocks
        ]
        for run_id in setups:
            wait_for_flow_run(server, run_id, timeout=240)

        if workers == 1:
            run_ids = [
                run_deployment(server, "monthly_submission/monthly", period=PERIOD, units=blocks)
            ]
        else:  # one run per unit, for the two workers to share
            run_ids = [
                run_deployment(
                    server, "sign_and_submit/manual", unit_block=unit_ref(b), period=PERIOD
                )
                for b in blocks
            ]
        for run_id in run_ids:
            run = wait_for_flow_run(server, run_id, timeout=300)
            assert run["parameters"]["period"] == PERIOD

        track = run_deployment(
            server,
            "track_results/track",
            period=PERIOD,
            units=blocks,
            max_wait_seconds=60,
            poll_seconds=1,
        )
        wait_for_flow_run(server, track, timeout=240)

        # Every dossier of the period was submitted once, acknowledged and numbered by VSS.
        for unit in units:
            recs = records(stack, unit)
            assert len(recs) == 1, unit.block
            for rec in recs:
                submitted = rec.last(Step.SUBMITTED)
                assert submitted is not None and submitted.data.get("gateway_transaction_id")
                receipt = rec.last(Step.RECEIPT)
                assert receipt is not None and receipt.data.get("so_ho_so")
        assert all(count == 1 for count in submissions(stack).values())
        assert len(submissions(stack)) == 3  # two declarations dossiers + an-phat's 05 form
        # Two approvals per unit for its dossier, one more for an-phat's 05 change.
        approved = approvals(stack)
        assert approved[an_phat.username] == 3
        assert approved[cuu_long.username] == 2

        ran_by = workers_that_ran(stack, [*setups, *run_ids, track])
        assert set(ran_by.values()) <= set(stack.worker_names)
        assert len(ran_by) == len(setups) + len(run_ids) + 1
        if stack.postgres is not None:
            version = httpx.get(f"{server.api_url}/admin/version", timeout=10)
            assert version.status_code == 200
            assert server.database_url.startswith("postgresql+asyncpg://")
        print(f"\n{database}: runs per worker {sorted(ran_by.values())}")


def _wait_for_deployments(server: PrefectServer, names: list[str], serve: ManagedProcess) -> None:
    deadline = time.monotonic() + 120
    missing = list(names)
    while missing:
        assert serve.alive(), serve.tail()
        try:
            read_deployment(server, missing[0])
            missing.pop(0)
        except httpx.HTTPStatusError:
            assert time.monotonic() < deadline, f"not served: {missing}\n{serve.tail()}"
            time.sleep(1)


def test_serve_entry_point_serves_the_same_deployments_with_their_schedule(
    tmp_path: Path,
) -> None:
    server = start_prefect_server(tmp_path / "prefect")
    try:
        serve = spawn(
            "serve",
            [sys.executable, "-m", "deployments.serve"],
            env=server.env({"BHXH_DATA_DIR": str(tmp_path / "data")}),
            cwd=PROJECT_DIR,
            log_path=tmp_path / "serve.log",
        )
        with stopped_at_exit(serve):
            names = [
                "monthly_submission/monthly",
                "sign_and_submit/manual",
                "setup_remote_signing/setup",
                "track_results/track",
            ]
            _wait_for_deployments(server, names, serve)
            monthly = read_deployment(server, names[0])
            (schedule,) = monthly["schedules"]
            assert schedule["schedule"] == {
                "cron": "0 8 10 * *",
                "timezone": "Asia/Ho_Chi_Minh",
                "day_or": True,
            }
            assert schedule["slug"] == "monthly-10th-0800" and schedule["active"] is True
            assert monthly["work_pool_name"] is None  # served by the process, not a pool
            assert monthly["parameters"] == {"period": "", "dry_run": False}
            _assert_monthly_schedule(scheduled_starts(server, monthly["id"]))
            for name in names[1:]:
                assert read_deployment(server, name)["schedules"] == []
    finally:
        server.stop()
