"""The submission port: how a signed dossier reaches VSS through the unit's carrier.

``port`` holds the port and its vocabulary (statuses, registration, refusals);
each adapter is one module (``gateway``: the reference JSON gateway and its client;
``export``: files handed to an I-VAN's desktop tool; ``notice_files``: the C12-TS
notice a person drops as a file). The conformance kit for adapters is
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
from bhxh.submission.notice_files import (
    NOTICE_FOLDER,
    NOTICE_JSON,
    NOTICE_XLSX,
    read_notice_json,
    read_notice_workbook,
)
from bhxh.submission.port import (
    FINAL_STATUSES,
    REGISTRATION_STATES,
    Acknowledgement,
    C12Document,
    Capabilities,
    DossierKind,
    DossierNotFound,
    DossierStatus,
    Handover,
    NaturalKey,
    NoticeReader,
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
    "NOTICE_FOLDER",
    "NOTICE_JSON",
    "NOTICE_XLSX",
    "RECEIPTS_FILE",
    "REGISTRATION_STATES",
    "Acknowledgement",
    "C12Document",
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
    "NoticeReader",
    "ReceiptsFileInvalid",
    "RegisteredCertificate",
    "Registration",
    "RegistrationUnavailable",
    "Submission",
    "SubmissionPort",
    "SubmissionRefused",
    "UnknownOutcome",
    "read_notice_json",
    "read_notice_workbook",
    "read_receipts",
]
