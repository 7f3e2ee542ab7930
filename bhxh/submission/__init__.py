"""The submission port: how a signed dossier reaches VSS through the unit's carrier.

``port`` holds the port and its vocabulary (statuses, registration, refusals);
each adapter is one module (``gateway``: the reference JSON gateway and its client;
``export``: files handed to an I-VAN's desktop tool). The conformance kit for adapters is
``bhxh.submission.conformance`` (imported on purpose, not through this face).
Imports only the base layer, never the pipeline.
"""

from __future__ import annotations

from bhxh.submission.export import (
    RECEIPTS_FILE,
    ExportAdapter,
    ExportConflict,
    ExportSink,
    LocalFolderSink,
    ReceiptsFileInvalid,
    read_receipts,
)
from bhxh.submission.gateway import (
    GatewayAdapter,
    GatewayAuthFailed,
    GatewayCapabilities,
    GatewayClient,
    GatewayProtocolError,
    GatewayUnavailable,
    IdempotencyConflict,
)
from bhxh.submission.port import (
    FINAL_STATUSES,
    REGISTRATION_STATES,
    Acknowledgement,
    Capabilities,
    DossierKind,
    DossierNotFound,
    DossierStatus,
    Handover,
    NaturalKey,
    RegisteredCertificate,
    Registration,
    RegistrationUnavailable,
    Submission,
    SubmissionPort,
    SubmissionRefused,
    UnknownOutcome,
)

__all__ = [
    "FINAL_STATUSES",
    "RECEIPTS_FILE",
    "REGISTRATION_STATES",
    "Acknowledgement",
    "Capabilities",
    "DossierKind",
    "DossierNotFound",
    "DossierStatus",
    "ExportAdapter",
    "ExportConflict",
    "ExportSink",
    "GatewayAdapter",
    "GatewayAuthFailed",
    "GatewayCapabilities",
    "GatewayClient",
    "GatewayProtocolError",
    "GatewayUnavailable",
    "Handover",
    "IdempotencyConflict",
    "LocalFolderSink",
    "NaturalKey",
    "ReceiptsFileInvalid",
    "RegisteredCertificate",
    "Registration",
    "RegistrationUnavailable",
    "Submission",
    "SubmissionPort",
    "SubmissionRefused",
    "UnknownOutcome",
    "read_receipts",
]
