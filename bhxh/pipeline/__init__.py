"""Every step of a dossier, and the journal that makes a re-run continue.

``steps`` (the ``Pipeline``: load, prepare, request, apply, envelopes, submit,
record), ``store`` (the journal interface), ``folder`` (the folder journal:
``DossierStore``, the embedded default), ``postgres`` (``PostgresJournal``, for workers
on several machines), ``open_store`` (the one the settings name), ``outbox``.
The only code that knows where a step's files live.
"""

from __future__ import annotations

from bhxh.pipeline.backend import (
    open_store,
    store_name,
)
from bhxh.pipeline.folder import (
    JOURNAL,
    DossierStore,
)
from bhxh.pipeline.layout import (
    ENVELOPE_FILE,
    ROUND_STEPS,
    Layout,
    Round,
)
from bhxh.pipeline.outbox import (
    OutboxConflict,
    outbox_path,
    write_outbox,
)
from bhxh.pipeline.records import (
    Acknowledged,
    Failure,
    Prepared,
    PreparedItem,
    Signed,
    SigningRequest,
    VssStatus,
)
from bhxh.pipeline.steps import (
    Observer,
    Pipeline,
)
from bhxh.pipeline.store import (
    DossierJournal,
    DossierOutbox,
    DossierRecord,
    Step,
    StepRecord,
    StoredFile,
    dossier_id,
)
from bhxh.pipeline.views import (
    DossierKey,
    DossierView,
    OpenRequest,
    certificate_serial,
)

__all__ = [
    "ENVELOPE_FILE",
    "JOURNAL",
    "ROUND_STEPS",
    "Acknowledged",
    "DossierJournal",
    "DossierKey",
    "DossierOutbox",
    "DossierRecord",
    "DossierStore",
    "DossierView",
    "Failure",
    "Layout",
    "Observer",
    "OpenRequest",
    "OutboxConflict",
    "Pipeline",
    "Prepared",
    "PreparedItem",
    "Round",
    "Signed",
    "SigningRequest",
    "Step",
    "StepRecord",
    "StoredFile",
    "VssStatus",
    "certificate_serial",
    "dossier_id",
    "open_store",
    "outbox_path",
    "store_name",
    "write_outbox",
]
