"""``python -m benchmarks._case CASE.json``: measured runs in a fresh process.

The case file names the world (already prepared by the driver), the steps to run one
after the other (``monthly``, ``sign_and_submit``, ``setup`` or ``baseline``, each over
some unit groups and one period) and where to write the result JSON. The sandbox runs in
a child process; Prefect (for the flow kinds) uses its temporary local API under the
``PREFECT_HOME`` the driver set, and is imported only by the flow kinds.

For every step the result says what the world saw (from the sandbox audit: dossiers the
gateway received, approvals and sign requests per unit), so the driver can tell a run that
did all its work from one that did not. A Prefect step also counts its requests to the
Prefect API by endpoint (an httpx hook in this process), and a step with ``"profile":
true`` runs under cProfile and reports where this process spent its CPU.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import re
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._sandbox import RunningSandbox

PERIOD = "01/2026"  # the default when a step names none
CLIENT_ID = "prefect-bhxh-demo"  # demo.scenario.CLIENT_ID (not imported: it imports Prefect)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _prefect_counts(tag: str) -> dict[str, Any]:
    """This case's flow and task runs in the API (those tagged ``tag``: the bench's API
    is shared by every case). Task runs reach the database through events, a little after
    they ran: count until the number stops moving (the API's count, one small request),
    then read the names once."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterTags,
        TaskRunFilter,
        TaskRunFilterTags,
    )

    flows = FlowRunFilter(tags=FlowRunFilterTags(all_=[tag]))
    tasks = TaskRunFilter(tags=TaskRunFilterTags(all_=[tag]))
    names: Counter[str] = Counter()
    previous = -1
    async with get_client() as client:
        flow_runs = await client.count_flow_runs(flow_run_filter=flows)
        for _ in range(60):
            response = await client.request(
                "POST", "/task_runs/count", json={"task_runs": tasks.model_dump(mode="json")}
            )
            total = int(response.json())
            if total == previous:
                break
            previous = total
            await asyncio.sleep(2)
        offset = 0
        while True:
            batch = await client.read_task_runs(task_run_filter=tasks, limit=200, offset=offset)
            names.update(t.name.rsplit("-", 1)[0] for t in batch)
            if len(batch) < 200:
                break
            offset += len(batch)
    return {
        "flow_runs": flow_runs,
        "task_runs": sum(names.values()),
        "task_runs_by_name": dict(names.most_common()),
    }


async def _flow_step(step: dict[str, Any], blocks: list[str]) -> list[str]:
    """Run a flow step; returns what failed (a failed run is a figure, not a crash)."""
    kind = step["kind"]
    batching = step.get("batching", "per_unit")
    period = step.get("period", PERIOD)
    failures: list[str] = []
    if kind == "monthly":
        from flows import monthly_submission

        state = await monthly_submission(
            period=period, units=blocks, batching=batching, return_state=True
        )
        if not state.is_completed():
            failures.append(str(state.message)[:2000])
    elif kind in ("sign_and_submit", "setup"):
        from flows import setup_remote_signing, sign_and_submit

        for block in blocks:
            if kind == "setup":
                done = await setup_remote_signing(block, interactive=False, return_state=True)
                ok, message = done.is_completed(), done.message
            else:
                state = await sign_and_submit(
                    block, period=period, batching=batching, interactive=False, return_state=True
                )
                ok, message = state.is_completed(), state.message
            if not ok:
                failures.append(f"{block}: {str(message)[:500]}")
    else:
        raise ValueError(f"unknown step kind {kind!r}")
    return failures


async def _baseline_step(
    case: dict[str, Any], step: dict[str, Any], rows: list[dict[str, Any]], sb: RunningSandbox
) -> list[str]:
    from benchmarks.baseline import BaselineUnit, run_baseline
    from bhxh.models import UnitInfo

    world = case["world"]
    units = [
        BaselineUnit(UnitInfo(**r["unit"]), r["username"], world["password"], r["serial"])
        for r in rows
    ]
    try:
        await run_baseline(
            units, sb.misa_url, CLIENT_ID, world["client_key"], sb.gateway_url,
            world["gateway_key"], step.get("period", PERIOD),
        )  # fmt: skip
    except Exception as exc:
        return [f"{type(exc).__name__}: {exc}"[:2000]]
    return []


def _audit_counts(sb: RunningSandbox, users: list[str]) -> dict[str, Any]:
    approvals: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    submitted: Counter[str] = Counter()
    for e in sb.audit():
        if e.get("event") == "approved":
            approvals[str(e.get("user"))] += 1
        elif e.get("event") == "sign_request":
            requests[str(e.get("user"))] += 1
        elif e.get("service") == "gateway" and e.get("event") == "submitted":
            submitted[str(e.get("dossier_id"))] += 1
    return {
        "approvals": {u: approvals.get(u, 0) for u in users},
        "sign_requests": {u: requests.get(u, 0) for u in users},
        "submitted": submitted,
    }


_NAME = re.compile(r"(/name/)[^/]+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ApiRequests:
    """Counts this process's requests to the Prefect API, by method and endpoint.

    Prefect's clients are httpx clients: a wrapper around ``httpx.AsyncClient.send`` (and
    the sync one) sees every request; those to the sandbox's hosts are left out. Events
    and logs sent over the events websocket are not HTTP requests and are not counted.
    """

    def __init__(self, exclude_hosts: set[str]) -> None:
        self.exclude = exclude_hosts
        self.counts: Counter[str] = Counter()

    def _count(self, request: Any) -> None:
        url = request.url
        if f"{url.host}:{url.port}" in self.exclude:
            return
        path = _NAME.sub(r"\1{name}", _UUID.sub("{id}", url.path))
        self.counts[f"{request.method} {path}"] += 1

    def install(self) -> None:
        import httpx

        counter = self
        async_send = httpx.AsyncClient.send
        sync_send = httpx.Client.send

        async def send_async(self: httpx.AsyncClient, request: Any, **kw: Any) -> Any:
            counter._count(request)
            return await async_send(self, request, **kw)

        def send_sync(self: httpx.Client, request: Any, **kw: Any) -> Any:
            counter._count(request)
            return sync_send(self, request, **kw)

        httpx.AsyncClient.send = send_async  # type: ignore[method-assign]
        httpx.Client.send = send_sync  # type: ignore[method-assign]

    def snapshot(self) -> Counter[str]:
        return Counter(self.counts)


def _hosts(*urls: str) -> set[str]:
    from urllib.parse import urlsplit

    out = set()
    for url in urls:
        parts = urlsplit(url)
        out.add(f"{parts.hostname}:{parts.port}")
    return out


def _profile_summary(profile: cProfile.Profile, top: int = 25) -> dict[str, Any]:
    """Where the CPU went: own time by package, and the functions with most own time."""
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_package: Counter[str] = Counter()
    functions = []
    total = 0.0
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in raw.items():
        total += tottime
        path = filename.replace("\\", "/")
        if "site-packages/" in path:
            package = path.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/lib/python3" in path:
            package = "stdlib"
        elif filename.startswith("~") or filename.startswith("<"):
            package = "builtins"
        else:
            package = path.rsplit("/", 2)[-2] if "/" in path else path
        by_package[package] += tottime
        functions.append((tottime, cumtime, ncalls, f"{package}:{name}:{line}"))
    functions.sort(reverse=True)
    return {
        "cpu_seconds": total,
        "by_package": {k: round(v, 3) for k, v in by_package.most_common(15)},
        "top_functions": [
            {"own_s": round(t, 3), "cum_s": round(c, 3), "calls": n, "function": f}
            for t, c, n, f in functions[:top]
        ],
    }


def _sabotage(case: dict[str, Any], step: dict[str, Any], row: dict[str, Any]) -> None:
    """The harness test: take one dossier out of the inbox before a run, so that the run
    submits fewer dossiers than it was given (the driver must report it FAILED)."""
    import shutil

    month, year = step.get("period", PERIOD).split("/")
    folder = Path(case["world"]["data_dir"]) / "inbox" / row["unit"]["code"] / f"{month}-{year}"
    victim = sorted(p for p in folder.iterdir() if p.is_dir())[0]
    shutil.rmtree(victim)


async def _run(case: dict[str, Any], rows: list[dict[str, Any]], sb: RunningSandbox) -> Any:
    uses_prefect = any(s["kind"] != "baseline" for s in case["steps"])
    api = ApiRequests(_hosts(sb.provider_url, sb.misa_url, sb.gateway_url))
    api.install()
    if uses_prefect:
        from benchmarks._world import WorldSpec, save_blocks

        spec = WorldSpec.from_json(case["world"])
        await save_blocks(spec, rows, sb.misa_url, sb.gateway_url)
    results: dict[str, Any] = {}
    for step in case["steps"]:
        chosen = [r for r in rows if r["group"] in step["groups"]]
        if case.get("sabotage") == step["name"]:
            _sabotage(case, step, chosen[0])
        before = _audit_counts(sb, [r["username"] for r in chosen])
        requests_before = api.snapshot()
        profile = cProfile.Profile() if step.get("profile") else None
        cpu_started = time.process_time()
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        if step["kind"] == "baseline":
            failures = await _baseline_step(case, step, chosen, sb)
        else:
            from prefect import tags

            with tags(case["tag"]):  # this case's runs, on the bench's shared API
                failures = await _flow_step(step, [r["block"] for r in chosen])
        if profile is not None:
            profile.disable()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        await asyncio.sleep(0.5)  # let the sandbox write its last audit lines
        after = _audit_counts(sb, [r["username"] for r in chosen])
        period_tag = step.get("period", PERIOD).replace("/", "")
        received = {
            d: n - before["submitted"].get(d, 0)
            for d, n in after["submitted"].items()
            if n - before["submitted"].get(d, 0) and f"-{period_tag}-" in d
        }
        requests = api.snapshot() - requests_before
        results[step["name"]] = {
            "kind": step["kind"],
            "period": step.get("period", PERIOD),
            "units": len(chosen),
            "dossiers": sum(r["dossiers"] for r in chosen),
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "failures": failures,
            "max_rss_mib": _rss_mib(),
            "approvals": {u: n - before["approvals"][u] for u, n in after["approvals"].items()},
            "sign_requests": {
                u: n - before["sign_requests"][u] for u, n in after["sign_requests"].items()
            },
            "submitted": len(received),
            "submitted_twice": sorted(d for d, n in received.items() if n > 1),
            "api_requests": sum(requests.values()),
            "api_requests_by_endpoint": dict(requests.most_common()),
            "profile": _profile_summary(profile) if profile is not None else None,
        }
    counts = await _prefect_counts(case["tag"]) if uses_prefect and case.get("count_runs") else {}
    return results, counts


def main(argv: list[str]) -> int:
    case_path = Path(argv[0])
    case = json.loads(case_path.read_text())
    rows = json.loads(Path(case["units_file"]).read_text())
    with RunningSandbox(Path(case["world_file"]), case_path.parent / "sandbox.log") as sb:
        steps, counts = asyncio.run(_run(case, rows, sb))
    result = {"steps": steps, "max_rss_mib": _rss_mib(), **counts}
    Path(case["out"]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
