"""deployments/prefect.yaml and the serve entry point, read without a server (fast)."""

from __future__ import annotations

from typing import Any

import yaml
from prefect.utilities.schema_tools import validate

from deployments.serve import TIMEZONE, build_deployments, load_flow, load_specs
from deployments.stack import PREFECT_FILE, WORK_POOL
from flows import BATCHING_LABELS, default_period
from flows._forms import FORM_PERIOD_PATTERN, PERIOD_RULE


def _yaml() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PREFECT_FILE.read_text(encoding="utf-8"))
    return data


def test_every_flow_is_deployed_once_on_the_process_pool() -> None:
    data = _yaml()
    entrypoints = {d["entrypoint"]: d for d in data["deployments"]}
    assert set(entrypoints) == {
        "flows/monthly.py:monthly_submission",
        "flows/sign_and_submit.py:sign_and_submit",
        "flows/setup.py:setup_remote_signing",
        "flows/track.py:track_results",
        "flows/reconcile.py:reconcile_contributions",
        "flows/companies.py:add_company",
        "flows/companies.py:import_companies",
        "flows/build.py:build_dossiers",
    }
    for deployment in data["deployments"]:
        assert deployment["work_pool"]["name"] == WORK_POOL
        assert deployment["enforce_parameter_schema"] is True
    assert data["pull"] == [
        {
            "prefect.deployments.steps.set_working_directory": {
                "directory": "{{ $BHXH_PROJECT_DIR }}"
            }
        }
    ]


def test_only_the_monthly_job_is_scheduled_on_the_10th_at_0800_vietnam_time() -> None:
    specs = {s.name: s for s in load_specs()}
    (schedule,) = specs["monthly"].schedules
    assert schedule.cron == "0 8 10 * *"
    assert schedule.timezone == TIMEZONE == "Asia/Ho_Chi_Minh"
    assert schedule.slug == "monthly-10th-0800"
    assert schedule.active is True
    # Besides it, only the reconciliation of the month before, after the 15th.
    assert all(not s.schedules for name, s in specs.items() if name not in ("monthly", "reconcile"))


def test_the_reconciliation_is_scheduled_on_the_16th_at_0800_vietnam_time() -> None:
    specs = {s.name: s for s in load_specs()}
    (schedule,) = specs["reconcile"].schedules
    assert schedule.cron == "0 8 16 * *"
    assert schedule.timezone == "Asia/Ho_Chi_Minh"
    assert schedule.slug == "reconcile-16th-0800" and schedule.active is True
    assert specs["reconcile"].parameters == {"period": "", "units": []}


def test_deployment_parameters_are_parameters_of_their_flows() -> None:
    for spec in load_specs():
        flow = load_flow(spec)
        names = set(flow.parameters.properties)
        assert set(spec.parameters) <= names, spec.name


def test_manual_runs_offer_unit_period_batching_and_dry_run_typed() -> None:
    (spec,) = [s for s in load_specs() if s.name == "manual"]
    schema = load_flow(spec).parameters.model_dump()
    props = schema["properties"]
    assert schema["required"] == ["unit_block"]
    # A picker of the saved BHXH Unit blocks, not a free-text box.
    unit = schema["definitions"][props["unit_block"]["$ref"].rsplit("/", 1)[-1]]
    assert unit["block_type_slug"] == "bhxh-unit"
    assert props["period"]["default"] == default_period()  # shown, not None
    assert props["period"]["pattern"] == FORM_PERIOD_PATTERN
    assert props["batching"]["enum"] == list(BATCHING_LABELS.values())
    assert props["dry_run"]["type"] == "boolean"


def test_deployment_parameters_fit_the_forms_the_server_enforces() -> None:
    for spec in load_specs():
        schema = load_flow(spec).parameters.model_dump()
        assert validate(spec.parameters, schema, raise_on_error=False, ignore_required=True) == []
    track = next(s for s in load_specs() if s.name == "track")
    assert track.parameters["period"] == "" and track.parameters["units"] == []


def test_serve_builds_the_same_deployments_with_time_zone_aware_schedules() -> None:
    deployments = {d.name: d for d in build_deployments(load_specs())}
    assert set(deployments) == {d["name"] for d in _yaml()["deployments"]}
    (monthly,) = deployments["monthly"].schedules
    assert monthly.schedule.model_dump() == {
        "cron": "0 8 10 * *",
        "timezone": "Asia/Ho_Chi_Minh",
        "day_or": True,
    }
    assert monthly.slug == "monthly-10th-0800" and monthly.active is True
    assert deployments["manual"].schedules == []
    assert deployments["monthly"].parameters == {"period": "", "dry_run": False}


def test_a_wrong_period_is_refused_by_the_server_with_the_rule_and_an_example() -> None:
    """The words both UIs show: jsonschema's refusal, which quotes the pattern, and the
    pattern starts with the rule (Vietnamese first), not with a regular expression."""
    for spec in load_specs():
        schema = load_flow(spec).parameters.model_dump()
        if "period" not in schema["properties"]:
            continue
        errors = validate({"period": "2026-11"}, schema, ignore_required=True)
        (error,) = [e.message for e in errors]
        assert error.startswith(f"'2026-11' does not match '^(?:(?!){PERIOD_RULE}|"), spec.name
        assert PERIOD_RULE.startswith("Kỳ phải có dạng MM/YYYY, ví dụ 12/2026 / Period must")
        assert validate({"period": "11/2026"}, schema, ignore_required=True) == []


def test_the_period_patterns_are_valid_in_a_browser_too() -> None:
    """A browser that checks the form itself compiles the pattern as JavaScript, where a
    Python-only construct (a ``(?#...)`` comment, say) is a syntax error."""
    import json
    import subprocess

    from playwright._impl._driver import compute_driver_executable

    from flows._forms import FORM_OPTIONAL_PERIOD_PATTERN

    node = compute_driver_executable()[0]
    script = (
        "const [a, b] = JSON.parse(process.argv[1]);"
        "const r = new RegExp(a, 'u'), o = new RegExp(b, 'u');"
        "console.log(JSON.stringify([r.test('12/2026'), r.test('2026-11'), r.test(''),"
        " o.test(''), o.test('01/2027'), o.test('13/2026')]));"
    )
    patterns = json.dumps([FORM_PERIOD_PATTERN, FORM_OPTIONAL_PERIOD_PATTERN])
    out = subprocess.run(
        [node, "-e", script, patterns], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == [True, False, False, True, True, False]
