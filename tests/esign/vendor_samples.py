"""The request and response samples printed in the vendor documents, as test fixtures.

The shapes, field names and JSON types are the documents'; every value is invented
(people, companies, tokens, ids). Placeholders in angle brackets (``"<cert_data>"``) are
filled at test time with material from the test PKI (:func:`fill`).

Sources:

* ``MISA`` "Tài liệu tích hợp API eSign RemoteSigning - V2" (MISA JSC), the guide kept in
  the public repository ChuKhaLi/MisaConnect under ``docs/misa-api-reference/``;
  section numbers are the guide's (1.3 connection details, 1.5 errors, 3.x APIs,
  4.x objects).
* ``VNPT`` "Tài liệu tích hợp VNPT SMARTCA" (VNPT), section 3 (sp769) and 4.2 (SmartCA
  TH listing); ``VNPT-C#`` VNPT's published C# sp769 sample (status polled with an empty
  JSON object until ``data.signatures`` is not null).
* ``MySign`` Viettel's "MySign Integration Document" v1.8/v1.9 (2025-02) and its Postman
  collection, as printed in a public analysis of them (an e-Office project's integration
  notes, in Vietnamese); section numbers are the analysis's: 2.4 login errors,
  3.1 login, 3.2 certificates/info, 3.3 signHash, 3.4 requests/status, 3.5 callbacks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One printed sample: where it is, what the method/path are, request and answer."""

    source: str
    method: str
    path: str
    request: Any = None
    response: Any = None
    headers: tuple[str, ...] = ()


def fill(value: Any, **values: Any) -> Any:
    """A deep copy of ``value`` with ``"<name>"`` strings replaced by ``values[name]``."""
    if isinstance(value, dict):
        return {k: fill(v, **values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, **values) for v in value]
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        key = value[1:-1]
        if key in values:
            return values[key]
    return copy.deepcopy(value)


def mismatches(actual: Any, sample: Any, where: str = "$") -> list[str]:
    """How ``actual`` departs from ``sample``: a missing field or another JSON type.

    Every field of the sample must be present with the sample's JSON type (string,
    integer, boolean, null, array, object); a null in the sample must be null. Lists are
    compared element by element against the sample's first element. Extra fields pass
    (the documents' tables list fields their samples omit).
    """
    problems: list[str] = []
    if isinstance(sample, dict):
        if not isinstance(actual, dict):
            return [f"{where}: object expected, got {_kind(actual)}"]
        for key, sub in sample.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += mismatches(actual[key], sub, f"{where}.{key}")
        return problems
    if isinstance(sample, list):
        if not isinstance(actual, list):
            return [f"{where}: array expected, got {_kind(actual)}"]
        if sample:
            for n, item in enumerate(actual):
                problems += mismatches(item, sample[0], f"{where}[{n}]")
        return problems
    if _kind(sample) != _kind(actual):
        problems.append(f"{where}: {_kind(sample)} expected, got {_kind(actual)} {actual!r}")
    return problems


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# ====================================================================== MISA

#: 1.3: the paths, relative to APIUrl.
MISA_PATHS = {
    "login": "api/auth/api/v1/auth/login-api",
    "two_factor": "api/auth/api/v1/auth/two-factor-auth",
    "resend_otp": "api/auth/api/v1/auth/resend-otp-auth",
    "refresh": "api/auth/api/v1/auth/refreshtoken",
    "certificates": "external/esrm/service/general/api/v1/Certificates/by-userId",
    "certificate": "external/esrm/service/general/api/v1/Certificates/by-certId",
    "sign": "external/esrm/service/signing/api/v1/Signing/hash",
    "status": "external/esrm/service/signing/api/v1/Signing/status",
}

#: 4.10 Status, as in a successful answer (type string, code integer, error boolean,
#: errorCode an integer set when error is true).
_MISA_STATUS_OK = {
    "type": "success",
    "code": 200,
    "message": "Thành công",
    "error": False,
    "errorCode": None,
    "devMsg": "ok",
    "userMsg": "Thành công",
}

#: 3.1.1 login-api.
MISA_LOGIN = Sample(
    source="MISA 3.1.1 Lấy access token",
    method="POST",
    path=MISA_PATHS["login"],
    request={"userName": "<userName>", "password": "<password>"},
    response={
        "status": _MISA_STATUS_OK,
        "data": {
            "accessToken": "misaid-access-1a2b",
            "remoteSigningAccessToken": "<rm_token>",
            "tokenType": "Bearer",
            "expiresIn": 3600,
            "refreshToken": "<refresh_token>",
            "user": {
                "id": "<user_id>",
                "email": "ke.toan@congty-hoasen.invalid",
                "phoneNumber": "0912000111",
                "firstName": "Trần Thị",
                "lastName": "Mai",
                "username": "<userName>",
            },
            "default": {"email": False, "phoneNumber": False, "appAuthenticator": True},
            "verifyUser": {
                "emailsVerify": False,
                "phoneNumberIsVerify": True,
                "isChangePassword": True,
            },
        },
    },
)

#: 2.1: a login that needs the second factor answers errorCode 122 (4.10: an integer).
MISA_LOGIN_NEEDS_TWO_FACTOR = Sample(
    source="MISA 2.1 Luồng đăng nhập (errorCode 122), 4.10 Status",
    method="POST",
    path=MISA_PATHS["login"],
    request={"userName": "<userName>", "password": "<password>"},
    response={
        "status": {
            "type": "fail",
            "code": 200,
            "message": "Yêu cầu xác thực hai lớp",
            "error": True,
            "errorCode": 122,
            "devMsg": "two-factor required",
            "userMsg": "Yêu cầu xác thực hai lớp",
        },
        "data": None,
    },
)

#: 3.2.1 two-factor-auth: the headers clientId / clientKey, the body, the login object.
MISA_TWO_FACTOR = Sample(
    source="MISA 3.2.1 Xác thực hai lớp",
    method="POST",
    path=MISA_PATHS["two_factor"],
    headers=("clientId", "clientKey"),
    request={"userName": "<userName>", "code": "<code>", "otpType": 1, "remember": False},
    response={
        "status": _MISA_STATUS_OK,
        "data": {
            "accessToken": "misaid-access-3c4d",
            "remoteSigningAccessToken": "<rm_token>",
            "tokenType": "Bearer",
            "expiresIn": 3600,
            "refreshToken": "<refresh_token>",
            "user": {
                "id": "<user_id>",
                "email": "ke.toan@congty-hoasen.invalid",
                "phoneNumber": "0912000111",
                "firstName": "Trần Thị",
                "lastName": "Mai",
                "username": "<userName>",
            },
            "default": {"email": False, "phoneNumber": False, "appAuthenticator": True},
        },
    },
)

#: 3.1.2 refreshtoken: the example answer is the flat token object.
MISA_REFRESH = Sample(
    source="MISA 3.1.2 Làm mới mã AccessToken",
    method="POST",
    path=MISA_PATHS["refresh"],
    request={"refreshToken": "<refresh_token>"},
    response={
        "remoteSigningAccessToken": "<rm_token>",
        "accessToken": "misaid-access-5e6f",
        "refreshToken": "<new_refresh_token>",
        "expiresIn": 3600,
    },
)

#: 3.2.2 resend-otp-auth.
MISA_RESEND_OTP = Sample(
    source="MISA 3.2.2 Gửi lại mã OTP",
    method="POST",
    path=MISA_PATHS["resend_otp"],
    request={"userName": "<userName>", "language": "vi-VN"},
    response={
        "status": {
            "type": "success",
            "code": 200,
            "message": "Thành công",
            "error": False,
            "errorCode": None,
        },
        "data": {"user": {"username": "<userName>"}},
    },
)

#: 3.3.1 by-userId: a bare array of Cert (4.14); the chain field is misspelt by MISA.
_MISA_CERT = {
    "userId": "<user_id>",
    "keyAlias": "<alias>",
    "appName": "MISA eSign",
    "keyStatus": "ACTIVE",
    "certificate": "<cert_data>",
    "certiticateChain": ["<cert_data>", "<ca_cert>", "<root_cert>"],
}
MISA_CERTIFICATES = Sample(
    source="MISA 3.3.1 Lấy danh sách chứng thư số",
    method="GET",
    path=MISA_PATHS["certificates"],
    headers=("x-clientId", "x-clientKey", "AuthorizationRM"),
    response=[_MISA_CERT],
)
#: 4.14 Cert: the fields the table adds to the 3.3.1 sample, with their types.
MISA_CERT_FIELDS = {
    **_MISA_CERT,
    "certStatus": "ACTIVE",
    "effectiveDate": "2025-01-02T03:04:05Z",
    "expirationDate": "2027-01-02T03:04:05Z",
    "emailName": "ke.toan@congty-hoasen.invalid",
    "isAutoSign": False,
}

#: 3.3.2 by-certId?certAlias=<keyAlias>: one Cert.
MISA_CERTIFICATE = Sample(
    source="MISA 3.3.2 Lấy thông tin chi tiết của một CTS",
    method="GET",
    path=MISA_PATHS["certificate"],
    headers=("x-clientId", "x-clientKey", "AuthorizationRM"),
    response=_MISA_CERT,
)

#: 3.5 Signing/hash.
MISA_SIGN = Sample(
    source="MISA 3.5 Ký hash",
    method="POST",
    path=MISA_PATHS["sign"],
    headers=("x-clientId", "x-clientKey", "AuthorizationRM"),
    request={
        "DataToBeDisplayed": "<display>",
        "UserId": "<user_id>",
        "CertAlias": "<alias>",
        "Documents": [
            {"DocumentId": "<doc_id>", "FileToSign": "<digest_b64>", "DocumentName": "<doc_name>"}
        ],
    },
    response={"transactionId": "<transaction_id>"},
)

#: 3.6 Signing/status/{transactionId}: the sample's signatures carry ``signature`` only
#: (in request order); 4.16 adds ``transactionId``, 4.17 ``documentId``.
MISA_STATUS = Sample(
    source="MISA 3.6 Lấy trạng thái ký tài liệu",
    method="GET",
    path=MISA_PATHS["status"] + "/<transaction_id>",
    headers=("x-clientId", "x-clientKey", "AuthorizationRM"),
    response={
        "status": "SUCCESS",
        "errorCode": "<error_code>",
        "errorDescription": "<error_description>",
        "signatures": [{"signature": "<signature>"}],
    },
)
MISA_SIGN_STATUS_FIELDS = {
    "status": "SUCCESS",
    "errorCode": None,
    "errorDescription": None,
    "transactionId": "<transaction_id>",
    "signatures": [{"documentId": "<doc_id>", "signature": "<signature>"}],
}

#: 1.5 / 4.13 ResponseError: every field a string.
MISA_RESPONSE_ERROR = {
    "error": "Unauthorized",
    "errorCode": "E401",
    "devMsg": "token expired",
    "userMsg": "Phiên làm việc đã hết hạn",
}


# ====================================================================== VNPT

VNPT_PATHS = {
    "certificates": "v1/credentials/get_certificate",
    "sign": "v1/signatures/sign",
    "status": "v1/signatures/sign/{tranId}/status",
}

#: 3.1: the error table (code -> name).
VNPT_ERRORS = {
    200: "SUCCESS",
    400: "BAD_REQUEST",
    401: "SP_CREDENTIAL_INVALID",
    403: "CREDENTIAL_STATUS_INVALID",
    500: "SERVAR_INTERNAL_ERROR",
}

_VNPT_ENTRY = {
    "service_type": "SMARTCA",
    "service_name": "SMARTCA PERSONAL PRO",
    "cert_id": "<cert_id>",
    "cert_status": "Đang hoạt động",
    "serial_number": "<serial_number>",
    "cert_subject": "<cert_subject>",
    "cert_valid_from": "2025-03-04T05:06:00Z",
    "cert_valid_to": "2027-03-04T17:06:00Z",
    "cert_data": "<cert_data>",
    "chain_data": {"ca_cert": "<ca_cert>", "root_cert": "<root_cert>"},
    "transaction_id": "<transaction_id>",
}

#: 3.2 get_certificate: the sample request sends serial_number "" for every certificate.
VNPT_GET_CERTIFICATE = Sample(
    source="VNPT 3.2 v1/credentials/get_certificate",
    method="POST",
    path=VNPT_PATHS["certificates"],
    request={
        "sp_id": "<sp_id>",
        "sp_password": "<sp_password>",
        "user_id": "<user_id>",
        "serial_number": "",
        "transaction_id": "<transaction_id>",
    },
    response={
        "status_code": 200,
        "message": "Success",
        "data": {"user_certificates": [_VNPT_ENTRY]},
    },
)
#: the same answer's ESEAL entry (an organisation seal, listed beside the signing key)
VNPT_ESEAL_ENTRY = {**_VNPT_ENTRY, "service_type": "ESEAL", "service_name": "ESEAL"}

#: 4.2 (SmartCA TH): a minimal entry: no cert_status, no subject, root_cert null.
VNPT_MINIMAL_ENTRY = {
    "cert_id": "<cert_id>",
    "cert_data": "<cert_data>",
    "chain_data": {"ca_cert": "<ca_cert>", "root_cert": None},
    "serial_number": "<serial_number>",
    "transaction_id": "<transaction_id>",
}

#: 3.3 sign: transaction_desc, serial_number and time_stamp are optional; the sample's
#: time_stamp ends in "Z" although the table says YYYYMMddHHmmSS.
VNPT_SIGN = Sample(
    source="VNPT 3.3 v1/signatures/sign",
    method="POST",
    path=VNPT_PATHS["sign"],
    request={
        "sp_id": "<sp_id>",
        "sp_password": "<sp_password>",
        "user_id": "<user_id>",
        "transaction_id": "<transaction_id>",
        "transaction_desc": "Ký tờ khai tháng 05/2025",
        "serial_number": "<serial_number>",
        "sign_files": [
            {
                "file_type": "pdf",
                "data_to_be_signed": "<digest_hex_1>",
                "doc_id": "41b-5502-7731",
                "sign_type": "hash",
            },
            {
                "file_type": "xml",
                "data_to_be_signed": "<digest_hex_2>",
                "doc_id": "52c-6613-8842",
                "sign_type": "hash",
            },
        ],
        "time_stamp": "20250506073000Z",
    },
    response={
        "status_code": 200,
        "message": "sig_wait_for_user_confirm",
        "data": {"transaction_id": "<transaction_id>", "tran_code": "<tran_code>"},
    },
)
#: 3.3: the required keys only.
VNPT_SIGN_REQUIRED = ("sp_id", "sp_password", "user_id", "transaction_id", "sign_files")
VNPT_SIGN_OPTIONAL = ("transaction_desc", "serial_number", "time_stamp")
VNPT_SIGN_FILE_KEYS = ("data_to_be_signed", "doc_id", "file_type", "sign_type")

#: 3.4 status of a signed transaction; the request has no documented body and VNPT's C#
#: sample posts ``{}``.
VNPT_STATUS = Sample(
    source="VNPT 3.4 v1/signatures/sign/{tranId}/status; VNPT-C# sample (body {})",
    method="POST",
    path=VNPT_PATHS["status"],
    request={},
    response={
        "status_code": 200,
        "message": "SUCCESS",
        "data": {
            "transaction_id": "<transaction_id>",
            "signatures": [
                {
                    "doc_id": "<doc_id>",
                    "signature_value": "<signature>",
                    "timestamp_signature": None,
                }
            ],
        },
    },
)
#: VNPT-C#: a transaction is pending while data.signatures is null.
VNPT_STATUS_PENDING = {
    "status_code": 200,
    "message": "<message>",
    "data": {"transaction_id": "<transaction_id>", "signatures": None},
}


# ====================================================================== Viettel MySign

MYSIGN_PATHS = {
    "login": "/vtss/service/ras/v1/login",
    "certificates": "/vtss/service/certificates/info",
    "sign": "/vtss/service/signHash",
    "status": "/vtss/service/requests/status",
}

#: 3.1: one token per signer, ``expires_in`` a string, ``refresh_token`` always empty.
MYSIGN_LOGIN = Sample(
    source="MySign 3.1 ras/v1/login",
    method="POST",
    path=MYSIGN_PATHS["login"],
    request={
        "client_id": "Demo_Ke_Toan_Client",
        "client_secret": "<client_secret>",
        "profile_id": "adss:ras:profile:001",
        "user_id": "MST_0312345678",
    },
    response={
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJNU1RfMDMxMiJ9.c2lnbmF0dXJl",
        "refresh_token": "",
        "token_type": "Bearer",
        "expires_in": "3600",
    },
)

#: 3.2: a JSON array, one entry per certificate; ``cert.certificates`` is the chain
#: [signer, Viettel-CA, root]; ``serialNumber`` decimal digits; times ``yyyyMMddHHmmss+0000``.
MYSIGN_CERTIFICATES = Sample(
    source="MySign 3.2 certificates/info",
    method="POST",
    path=MYSIGN_PATHS["certificates"],
    request={
        "client_id": "Demo_Ke_Toan_Client",
        "client_secret": "<client_secret>",
        "profile_id": "adss:ras:profile:001",
        "user_id": "MST_0312345678",
        "certificates": "chain",
        "certInfo": True,
        "authInfo": True,
    },
    response=[
        {
            "description": "Go>Sign mobile based implicit credential authorization",
            "key": {
                "status": "enabled",
                "algo": ["1.2.840.113549.1.1.1"],
                "len": "2048",
                "curve": None,
            },
            "cert": {
                "status": "valid",
                "certificates": ["<cert_data>", "<ca_cert>", "<root_cert>"],
                "issuerDN": "CN=Viettel-CA,O=Viettel Group,L=Hà Nội,C=VN",
                "serialNumber": "<serial>",
                "subjectDN": "UID=MST:0312345678,CN=Công ty TNHH Hoa Sen,L=HÀ NỘI,C=VN",
                "validFrom": "20261017043150+0000",
                "validTo": "20271017043150+0000",
            },
            "authMode": "implicit",
            "multisign": "2147483647",
            "credential_id": "0312345678_2482540_20261017114147",
            "scal": "2",
        }
    ],
)

#: 3.3 with ``async`` 1 (poll): ``description`` / ``document_name`` base64 of UTF-8 under
#: 100 characters, ``numSignatures`` = hashes = documents, SHA-256 and RSA by OID.
MYSIGN_SIGN = Sample(
    source="MySign 3.3 signHash (async 1)",
    method="POST",
    path=MYSIGN_PATHS["sign"],
    request={
        "client_id": "Demo_Ke_Toan_Client",
        "client_secret": "<client_secret>",
        "credentialID": "0312345678_2482540_20261017114147",
        "numSignatures": 1,
        "description": "VkIgMTIzLTIwMjYtQkhYSA==",
        "documents": [{"document_id": "to_khai_001", "document_name": "RDAyLVRTLTU5NS54bWw="}],
        "hash": ["sTOgwOm+474gFj0q0x1iSNspKqbcse4IeiqlDg/HWuI="],
        "hashAlgo": "2.16.840.1.101.3.4.2.1",
        "signAlgo": "1.2.840.113549.1.1.1",
        "async": 1,
    },
    response={"transactionId": "8c1e2f50-7a34-4b1d-9e0c-3f5a6b7c8d9e"},
)
MYSIGN_SIGN_KEYS = tuple(MYSIGN_SIGN.request)

#: 3.4: ``status`` "1" with the signatures in the order of the request's hashes.
MYSIGN_STATUS = Sample(
    source="MySign 3.4 requests/status",
    method="POST",
    path=MYSIGN_PATHS["status"],
    request={"transactionId": "8c1e2f50-7a34-4b1d-9e0c-3f5a6b7c8d9e"},
    response={"signatures": ["<signature>"], "status": "1"},
)
#: 3.4: every status code the document lists.
MYSIGN_STATUS_CODES = ("1", "4000", "6000", "4001", "4002", "4004", "4005", "13004", "50000")
#: 2.4: the login errors the document lists, 59033 with its HTTP 401.
MYSIGN_LOGIN_ERRORS = {
    "58007": "Client ID does not exist",
    "58008": "User ID does not exist",
    "59033": "user ID or password is invalid",
    "86024": "Client secret is invalid",
}

#: 3.5.1: Viettel asks the integrator's auth endpoint for a token (the client id / secret
#: are the integrator's, issued to Viettel).
MYSIGN_CALLBACK_AUTH = Sample(
    source="MySign 3.5.1 callback auth",
    method="GET",
    path="<callback_auth_url>",
    request={
        "grant_type": "client_credentials",
        "client_id": "ke_toan_callback",
        "client_secret": "<callback_secret>",
    },
    response={
        "status_code": "00",
        "message": "Thành công",
        "data": {
            "access_token": "Ex2YHcallbacktoken0Z",
            "expires_in": "3600000",
            "consented_on": "1767225600",
        },
    },
)
#: 3.5.2: the result, with that token as Bearer.
MYSIGN_CALLBACK_RESULT = Sample(
    source="MySign 3.5.2 callback result",
    method="GET",
    path="<callback_result_url>",
    request={
        "meta_data": {
            "request_id": "VIETTEL_8c1e2f50-7a34-4b1d-9e0c-3f5a6b7c8d9e_1767225600152",
            "transaction_id": "8c1e2f50-7a34-4b1d-9e0c-3f5a6b7c8d9e",
            "description": "Ký thành công",
            "status": "1",
        },
        "data": {
            "action_timestamp": 1767225600,
            "signature_timestamp": 1767225600,
            "results": [{"document_id": "to_khai_001", "signature": "<signature>"}],
        },
    },
    response={"status_code": "00", "message": "Thành công"},
)
