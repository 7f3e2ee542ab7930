"""``python -m deployments.serve``: the deployments of ``prefect.yaml`` from one process.

For one machine without a work pool: reads ``deployments/prefect.yaml`` (names,
entrypoints, parameters, tags, cron schedules with their time zone, slug and ``active``)
and serves the same deployments with ``prefect.serve``. Schedules need a real Prefect
server (``PREFECT_API_URL``; ``make server`` starts one): against the temporary local API
Prefect creates no scheduled runs, only manual ones. When the process stops, Prefect pauses
the served schedules; start it again to resume them.

A served deployment replaces the work-pool deployment of the same name: use one or the
other on a given server.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from deployments.stack import PREFECT_FILE

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

__all__ = [
    "TIMEZONE",
    "DeploymentSpec",
    "ScheduleSpec",
    "build_deployments",
    "load_flow",
    "load_specs",
    "main",
]

TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class ScheduleSpec:
    """One cron schedule of a deployment."""

    cron: str
    timezone: str = TIMEZONE
    slug: str | None = None
    active: bool = True


@dataclass(frozen=True)
class DeploymentSpec:
    """What ``prefect.yaml`` says about one deployment."""

    name: str
    entrypoint: str
    description: str = ""
    version: str | None = None
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[ScheduleSpec, ...] = ()

    @property
    def flow_module(self) -> str:
        """``flows/monthly.py:monthly_submission`` -> ``flows.monthly``."""
        path = self.entrypoint.split(":", 1)[0]
        return path.removesuffix(".py").replace("/", ".")

    @property
    def flow_attr(self) -> str:
        return self.entrypoint.split(":", 1)[1]


def load_specs(path: Path = PREFECT_FILE) -> list[DeploymentSpec]:
    """The deployments of a ``prefect.yaml`` (cron schedules only)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs = []
    for item in data.get("deployments") or []:
        schedules = []
        for sched in item.get("schedules") or []:
            if "cron" not in sched:
                raise ValueError(f"{path}: deployment {item['name']}: only cron schedules")
            schedules.append(
                ScheduleSpec(
                    cron=str(sched["cron"]),
                    timezone=str(sched.get("timezone") or TIMEZONE),
                    slug=sched.get("slug"),
                    active=bool(sched.get("active", True)),
                )
            )
        specs.append(
            DeploymentSpec(
                name=str(item["name"]),
                entrypoint=str(item["entrypoint"]),
                description=str(item.get("description") or ""),
                version=str(item["version"]) if item.get("version") is not None else None,
                tags=tuple(str(t) for t in item.get("tags") or ()),
                parameters=dict(item.get("parameters") or {}),
                schedules=tuple(schedules),
            )
        )
    return specs


def load_flow(spec: DeploymentSpec) -> Flow[Any, Any]:
    """The flow object an entrypoint names (imported as a module of this project)."""
    from prefect import Flow

    module = importlib.import_module(spec.flow_module)
    flow = getattr(module, spec.flow_attr)
    if not isinstance(flow, Flow):
        raise TypeError(f"{spec.entrypoint} is not a Prefect flow")
    return flow


def build_deployments(specs: list[DeploymentSpec]) -> list[RunnerDeployment]:
    """``flow.to_deployment(...)`` for every spec, with ``Cron(..., timezone=...)``."""
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    deployments: list[RunnerDeployment] = []
    for spec in specs:
        schedules = [
            Cron(s.cron, timezone=s.timezone, active=s.active, slug=s.slug) for s in spec.schedules
        ]
        deployment = load_flow(spec).to_deployment(
            name=spec.name,
            schedules=schedules,
            parameters=spec.parameters,
            description=spec.description or None,
            tags=list(spec.tags),
            version=spec.version,
            enforce_parameter_schema=True,
        )
        assert isinstance(deployment, RunnerDeployment)  # sync call: not a coroutine
        deployments.append(deployment)
    return deployments


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m deployments.serve``."""
    parser = argparse.ArgumentParser(
        prog="python -m deployments.serve",
        description="Serve the deployments of deployments/prefect.yaml (schedules included) "
        "from this process. Needs PREFECT_API_URL pointing at a Prefect server for schedules.",
    )
    parser.add_argument("--prefect-file", type=Path, default=PREFECT_FILE)
    parser.add_argument(
        "--limit", type=int, default=None, help="most flow runs at once (default no limit)"
    )
    args = parser.parse_args(argv)

    from prefect import serve

    serve(*build_deployments(load_specs(args.prefect_file)), limit=args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
