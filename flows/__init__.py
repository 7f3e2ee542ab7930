"""Prefect flows: orchestration only (setup_remote_signing, sign_and_submit,
monthly_submission, track_results, reconcile_contributions, build_dossiers; add_company
and import_companies, which add a firm's client companies), one module per flow (the two
company flows share ``companies``).

The face (``__all__``): the five flows, and what a caller needs beside them: what the
flows return (``DossierSummary``, ``SetupResult``); what the run forms offer and how a
value given is read (the labels, the period's pattern and default, ``check_period``,
``batching_mode``, ``attended_mode``; the unit pickers kept up to date,
``refresh_unit_pickers``, ``unit_choices``, ``unit_label``, ``block_of_choice``); the
answers a paused run waits for (the pause forms, the two choices after a refusal); the
signing round's limit of lost requests; where the period's overview is published (``overview_key``,
``build_period_overview``). The exceptions a caller catches are in ``flows.errors``.

The private modules, by job: ``_run`` (one unit's run: its session, whether a person
answers, the log-in with a one-time code), ``_signing`` (one signing round with resume),
``_approvals`` (the approval card of each signing request), ``_receipts`` (the export
route's receipt question), ``_pauses`` (every pause announces what it asks, how to answer,
until when; the forms it asks with), ``_pickers`` (each company's name, tax code and unit
code in the deployments' unit pickers), ``_forms`` (what the run forms offer, and the checks
of every value given), ``_failures`` (an expected failure ends a run with one sentence in
Vietnamese and English), ``_artifacts`` (keys, Vietnam time, tables updated in place),
``_overview`` (the period's overview, published) and ``_logging`` (Prefect's per-task lines
at DEBUG). Flows read dossiers as ``bhxh.pipeline.DossierView``s, never as store folders or
raw step data. May import Prefect, ``tasks``, ``blocks`` and the value types of ``esign``
/ ``bhxh``.
"""

import os as _os

# Prefect creates its home folder when first imported, but not its parents: on a fresh
# clone (PREFECT_HOME=var/prefect, no var/ yet) it would warn "Failed to create the
# Prefect home directory". Create it, parents included, before Prefect is imported.
if _os.environ.get("PREFECT_HOME"):
    _os.makedirs(_os.path.expanduser(_os.environ["PREFECT_HOME"]), mode=0o700, exist_ok=True)

from flows._logging import quiet_prefect_logs

quiet_prefect_logs()

from flows._forms import (  # noqa: E402
    ATTENDED_LABELS,
    BATCHING_LABELS,
    PERIOD_PATTERN,
    attended_mode,
    batching_mode,
    check_period,
    default_period,
)
from flows._overview import build_period_overview, overview_key  # noqa: E402
from flows._pauses import (  # noqa: E402
    ASK_AGAIN,
    STOP,
    AskAgain,
    ExportReceipt,
    OneTimeCode,
    RegistrationAnswer,
    certificate_choice,
)
from flows._pickers import (  # noqa: E402
    block_of_choice,
    refresh_unit_pickers,
    unit_choices,
    unit_label,
)
from flows._signing import UNKNOWN_SENDS  # noqa: E402
from flows.build import build_dossiers  # noqa: E402
from flows.companies import add_company, import_companies  # noqa: E402
from flows.monthly import monthly_submission  # noqa: E402
from flows.reconcile import ReconcileOutcome, reconcile_contributions  # noqa: E402
from flows.setup import SetupResult, setup_remote_signing  # noqa: E402
from flows.sign_and_submit import DossierSummary, sign_and_submit  # noqa: E402
from flows.track import track_results  # noqa: E402

__all__ = [
    "ASK_AGAIN",
    "ATTENDED_LABELS",
    "BATCHING_LABELS",
    "PERIOD_PATTERN",
    "STOP",
    "UNKNOWN_SENDS",
    "AskAgain",
    "DossierSummary",
    "ExportReceipt",
    "OneTimeCode",
    "ReconcileOutcome",
    "RegistrationAnswer",
    "SetupResult",
    "add_company",
    "attended_mode",
    "batching_mode",
    "block_of_choice",
    "build_dossiers",
    "build_period_overview",
    "certificate_choice",
    "check_period",
    "default_period",
    "import_companies",
    "monthly_submission",
    "overview_key",
    "reconcile_contributions",
    "refresh_unit_pickers",
    "setup_remote_signing",
    "sign_and_submit",
    "track_results",
    "unit_choices",
    "unit_label",
]
