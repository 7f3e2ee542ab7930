"""The CA2 RemoteSigning wire as public client code writes it, as test fixtures.

No vendor document for CA2 was found. The shapes, field names and JSON types below are
those of Thái Sơn's eBH remote-signing service (public repository
``5310101/ERS_EbhRemoteSigning``), the only source; every value is invented. Sources by
file (the ``source`` of each sample):

* ``CA2Request.cs`` (``ERS_Domain/Request/``): the request classes ``CA2GetCertRequest``,
  ``CA2SignRequest``, ``FileToSign``, ``CA2StatusCheckRequest``; Newtonsoft serialises
  every property, so each key is always sent.
* ``CA2Response.cs`` (``ERS_Domain/Response/``): ``CA2Response<T>`` ``{data, message,
  status_code}``, ``CA2Certificates``, ``CA2Certificate``, ``CA2Chain``, ``FileSigned``,
  ``CA2StatusCheckResponse`` ``{sp_id, status_code, message, data}``,
  ``CA2SignedResult``, ``CA2SignatureData``.
* ``GlobalVar.cs`` (``ERS_Domain/clsUtilities/``, class ``CA2_URI``): the paths under the
  ``.../api/data`` base.
* ``CA2SigningService.cs`` (``ERS_Domain/CAService/``): POST JSON; ``time_stamp`` as
  ``yyyyMMddHHmmss``.
* ``SignHashToKhaiProcess.cs`` / ``SignToKhaiProcess.cs`` (``CA2_Winservice/Process/``):
  success is ``status_code == 200``; ``data_to_be_signed`` is base64 of the SHA-256
  digest (via ``CA2SignUtilities.ComputeHashValueSendToServer``); ``file_type`` "xml" or
  "pdf"; a ``signature_value`` of ``""`` means not signed yet, ``"-2"`` that the server
  cannot sign the file.

Placeholders in angle brackets are filled at test time (``tests.esign.vendor_samples.fill``).
"""

from __future__ import annotations

from tests.esign.vendor_samples import Sample

__all__ = [
    "CA2_CANNOT_SIGN",
    "CA2_CERTIFICATE_ENTRY",
    "CA2_FILE_KEYS",
    "CA2_GET_CERTIFICATE",
    "CA2_PATHS",
    "CA2_SIGN",
    "CA2_STATUS",
    "CA2_STATUS_PENDING",
]

#: GlobalVar.cs, CA2_URI: the three paths under the base.
CA2_PATHS = {"certificates": "get_certificate", "sign": "sign", "status": "status"}

#: CA2Response.cs, CA2Certificate (with CA2Chain).
CA2_CERTIFICATE_ENTRY = {
    "cert_data": "<cert_data>",
    "cert_id": "c2f5e0a4-7d31-4b8e-9a60-3f1d2c4b5a69",
    "chain_data": {"ca_cert": "<ca_cert>", "root_cert": "<root_cert>"},
    "serial_number": "<serial_number>",
}

#: CA2Request.cs CA2GetCertRequest -> CA2Response<CA2Certificates>.
CA2_GET_CERTIFICATE = Sample(
    source="CA2Request.cs CA2GetCertRequest; CA2Response.cs CA2Certificates",
    method="POST",
    path=CA2_PATHS["certificates"],
    request={
        "sp_id": "<sp_id>",
        "sp_password": "<sp_password>",
        "user_id": "<user_id>",
        "serial_number": "",
        "transaction_id": "EBH7b0d6c1e9f2a4c3b8d5e6f708192a3b4",
    },
    response={
        "data": {
            "transaction_id": "EBH7b0d6c1e9f2a4c3b8d5e6f708192a3b4",
            "user_certificates": [CA2_CERTIFICATE_ENTRY],
        },
        "message": "Success",
        "status_code": 200,
    },
)

#: CA2Request.cs FileToSign: every key, always sent.
CA2_FILE_KEYS = ("data_to_be_signed", "doc_id", "file_type", "sign_type")

#: CA2Request.cs CA2SignRequest -> CA2Response<FileSigned>.
CA2_SIGN = Sample(
    source="CA2Request.cs CA2SignRequest, FileToSign; CA2Response.cs FileSigned",
    method="POST",
    path=CA2_PATHS["sign"],
    request={
        "sp_id": "<sp_id>",
        "sp_password": "<sp_password>",
        "user_id": "<user_id>",
        "sign_files": [
            {
                "data_to_be_signed": "<digest_b64_1>",
                "doc_id": "xml3f6a2b1c0d9e8f7a6b5c4d3e2f1a0b9c",
                "file_type": "xml",
                "sign_type": "hash",
            },
            {
                "data_to_be_signed": "<digest_b64_2>",
                "doc_id": "pdf0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                "file_type": "pdf",
                "sign_type": "hash",
            },
        ],
        "transaction_id": "<transaction_id>",
        "serial_number": "<serial_number>",
        "time_stamp": "20260110083000",
    },
    response={
        "data": {"transaction_id": "<transaction_id>", "sign_files": ["<doc_id>"]},
        "message": "Success",
        "status_code": 200,
    },
)

#: CA2Request.cs CA2StatusCheckRequest -> CA2Response.cs CA2StatusCheckResponse, signed.
CA2_STATUS = Sample(
    source="CA2Request.cs CA2StatusCheckRequest; CA2Response.cs CA2StatusCheckResponse",
    method="POST",
    path=CA2_PATHS["status"],
    request={
        "sp_id": "<sp_id>",
        "sp_password": "<sp_password>",
        "user_id": "<user_id>",
        "transaction_id": "<transaction_id>",
    },
    response={
        "sp_id": "<sp_id>",
        "status_code": 200,
        "message": "SUCCESS",
        "data": {
            "transaction_id": "<transaction_id>",
            "signatures": [
                {
                    "doc_id": "<doc_id>",
                    "signature_value": "<signature_value>",
                    "timestamp_signature": "",
                }
            ],
        },
    },
)

#: SignHSBHXHProcess.cs / SignToKhaiProcess.cs: ``signature_value == ""`` is not signed yet.
CA2_STATUS_PENDING = {
    "sp_id": "<sp_id>",
    "status_code": 200,
    "message": "PENDING",
    "data": {
        "transaction_id": "<transaction_id>",
        "signatures": [{"doc_id": "<doc_id>", "signature_value": "", "timestamp_signature": ""}],
    },
}

#: SignToKhaiProcess.cs: the server cannot sign this file.
CA2_CANNOT_SIGN = "-2"
