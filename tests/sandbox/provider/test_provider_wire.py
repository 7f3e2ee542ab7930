"""The provider sandbox speaks the documented wires (raw HTTP, no esign client)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.config import SandboxConfig, example_config, load_config, start_sandbox
from tests.esign.esign_support import (
    BETA_TAX,
    CONTROL,
    MISA_CLIENT,
    VNPT_CLIENT,
    ProviderFactory,
    Running,
)

AUTH = "/webdev/api/auth/api/v1/auth"
CERTS = "/external/esrm/service/general/api/v1/Certificates/by-userId"
SIGN = "/external/esrm/service/signing/api/v1/Signing/hash"


def _login(api: httpx.Client) -> dict[str, Any]:
    body = api.post(f"{AUTH}/login-api", json={"userName": "acme", "password": "pw-acme"}).json()
    data: dict[str, Any] = body["data"]
    return data


def _esrm(token: str) -> dict[str, str]:
    return {
        "x-clientid": MISA_CLIENT["client_id"],
        "x-clientkey": MISA_CLIENT["client_key"],
        "AuthorizationRM": f"Bearer {token}",
    }


def test_login_answers_the_documented_envelope(provider: ProviderFactory) -> None:
    sb = provider()
    with httpx.Client(base_url=sb.url) as api:
        data = _login(api)
    assert data["tokenType"] == "Bearer" and data["expiresIn"] == 3600
    assert {"accessToken", "remoteSigningAccessToken", "refreshToken"} <= set(data)
    assert data["user"]["id"]


def test_certificates_use_the_misspelt_chain_field(provider: ProviderFactory) -> None:
    sb = provider()
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)["remoteSigningAccessToken"]
        answer = api.get(CERTS, headers=_esrm(token))
    entries = answer.json()
    assert isinstance(entries, list) and len(entries) == 3
    first = entries[0]
    assert "certiticateChain" in first and "certificateChain" not in first
    assert first["certiticateChain"][0] == first["certificate"]
    assert len(first["certiticateChain"]) == 3
    assert {e["keyStatus"] for e in entries} == {"ACTIVE", "INACTIVE"}


def test_the_plain_access_token_is_refused_by_the_signing_service(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    with httpx.Client(base_url=sb.url) as api:
        access = _login(api)["accessToken"]
        answer = api.get(CERTS, headers=_esrm(access))
    assert answer.status_code == 401 and answer.json()["errorCode"] == "e2001"


def test_a_wrong_client_key_is_refused(provider: ProviderFactory) -> None:
    sb = provider()
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)["remoteSigningAccessToken"]
        answer = api.get(CERTS, headers={**_esrm(token), "x-clientkey": "guess"})
    assert answer.status_code == 403


def test_sign_requests_are_validated(provider: ProviderFactory) -> None:
    sb = provider()
    with httpx.Client(base_url=sb.url) as api:
        data = _login(api)
        doc = {"DocumentId": "d" * 37, "FileToSign": "AAAA", "DocumentName": "x"}
        answer = api.post(
            SIGN,
            headers=_esrm(data["remoteSigningAccessToken"]),
            json={
                "DataToBeDisplayed": "Ký",
                "UserId": data["user"]["id"],
                "CertAlias": "ACME-2025",
                "Documents": [doc],
            },
        )
    assert answer.status_code == 400 and "DocumentId" in answer.json()["userMsg"]
    assert sb.events("sign_request") == []


@pytest.mark.parametrize("path", ["/", "/webdev/", "/external/esrm/nothing", "/sca/sp769/v2/x"])
def test_unknown_paths_answer_the_html_web_app(provider: ProviderFactory, path: str) -> None:
    sb = provider()
    answer = httpx.get(sb.url + path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")


def _vnpt_sign(sb: Running, tid: str, digest_hex: str) -> httpx.Response:
    with httpx.Client(base_url=sb.url) as api:
        certs = api.post(
            "/sca/sp769/v1/credentials/get_certificate",
            json={**VNPT_CLIENT, "user_id": BETA_TAX, "transaction_id": "t0"},
        ).json()["data"]["user_certificates"]
        return api.post(
            "/sca/sp769/v1/signatures/sign",
            json={
                **VNPT_CLIENT,
                "user_id": BETA_TAX,
                "transaction_id": tid,
                "transaction_desc": "Ký",
                "serial_number": certs[0]["serial_number"],
                "time_stamp": "20250101000000",
                "sign_files": [
                    {
                        "file_type": "xml",
                        "data_to_be_signed": digest_hex,
                        "doc_id": "d1",
                        "sign_type": "hash",
                    }
                ],
            },
        )


def test_vnpt_refuses_an_inactive_certificate_with_403(provider: ProviderFactory) -> None:
    sb = provider()
    with httpx.Client(base_url=sb.url) as api:
        certs = api.post(
            "/sca/sp769/v1/credentials/get_certificate",
            json={**VNPT_CLIENT, "user_id": BETA_TAX, "transaction_id": "t0"},
        ).json()["data"]["user_certificates"]
        paused = next(c for c in certs if c["cert_status"] != "Đang hoạt động")
        answer = api.post(
            "/sca/sp769/v1/signatures/sign",
            json={
                **VNPT_CLIENT,
                "user_id": BETA_TAX,
                "transaction_id": "t1",
                "transaction_desc": "Ký",
                "serial_number": paused["serial_number"],
                "sign_files": [
                    {
                        "file_type": "xml",
                        "doc_id": "d",
                        "sign_type": "hash",
                        "data_to_be_signed": "00" * 32,
                    }
                ],
            },
        )
    assert answer.status_code == 403 and answer.json()["message"] == "CREDENTIAL_STATUS_INVALID"


def test_the_audit_log_names_each_event(provider: ProviderFactory) -> None:
    sb = provider(policies={BETA_TAX: {"action": "approve"}})
    _vnpt_sign(sb, "audit-1", hashlib.sha256(b"z").hexdigest())
    with httpx.Client(base_url=sb.url) as api:
        for _ in range(50):
            status = api.post(
                "/sca/sp769/v1/signatures/sign/audit-1/status",
                json={**VNPT_CLIENT, "user_id": BETA_TAX},
            ).json()
            if status["message"] != "PENDING":
                break
    assert status["message"] == "SUCCESS"
    sig = base64.b64decode(status["data"]["signatures"][0]["signature_value"])
    assert len(sig) == 256
    events = [r["event"] for r in sb.audit.read()]
    assert events[:3] == ["certificates", "sign_request", "approved"]
    record = sb.events("approved")[0]
    assert {"time", "service", "user", "transaction", "documents"} <= set(record)
    assert record["service"] == "vnpt" and record["documents"] == 1


def test_faults_can_be_switched_at_runtime_with_the_control_token(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    with httpx.Client(base_url=sb.url) as api:
        assert api.put("/phone/api/_faults", json={"rate_5xx": 1}).status_code == 401
        api.put("/phone/api/_faults", json={"rate_5xx": 1}, headers={"x-sandbox-token": CONTROL})
        assert api.post(f"{AUTH}/login-api", json={}).status_code == 503
        assert api.get("/health").status_code == 200  # the phone and health stay up


def test_load_config_reads_toml_and_json(tmp_path: Path) -> None:
    toml_path = tmp_path / "sb.toml"
    toml_path.write_text(example_config(), encoding="utf-8")
    config = load_config(toml_path)
    assert {a.username for a in config.provider.accounts} == {
        "acme",
        "0109876543",
        "MST_0201234567",
        "0201234568",
    }
    assert [c.client_id for c in config.provider.clients.mysign] == ["demo_mysign_client"]
    json_path = tmp_path / "sb.json"
    json_path.write_text(json.dumps(config.model_dump(mode="json")), encoding="utf-8")
    assert load_config(json_path) == config
    with pytest.raises(ValueError, match=r"\.toml or \.json"):
        load_config(tmp_path / "sb.yaml")


def test_start_sandbox_serves_the_phone_and_writes_the_audit(tmp_path: Path, pki_dir: Path) -> None:
    config = SandboxConfig.model_validate(
        {
            "pki_dir": str(pki_dir),
            "audit_path": str(tmp_path / "audit.jsonl"),
            "provider": {
                "clients": {"misa": [MISA_CLIENT]},
                "control_token": CONTROL,
                "accounts": [
                    {
                        "username": "acme",
                        "password": "pw-acme",
                        "certificates": [
                            {
                                "pki_name": "esign-acme",
                                "alias": "ACME-2025",
                                "tax_code": "0101234567",
                                "unit_name": "Công ty TNHH ACME",
                            }
                        ],
                    }
                ],
            },
        }
    )
    with start_sandbox(config) as sb:
        assert sb.gateway_url is None
        assert httpx.get(sb.provider_url + "/health").json()["status"] == "ok"
        assert httpx.get(sb.phone_url("acme")).status_code == 200
        httpx.post(
            sb.misa_url + "webdev/api/auth/api/v1/auth/login-api",
            json={"userName": "acme", "password": "pw-acme"},
        )
        assert [r["event"] for r in sb.audit.read()] == ["login"]


def test_the_command_line_explains_itself_and_prints_the_example() -> None:
    helped = subprocess.run(
        [sys.executable, "-m", "sandbox", "--help"], capture_output=True, text=True, check=True
    )
    assert "--config" in helped.stdout and "virtual phone" in helped.stdout
    example = subprocess.run(
        [sys.executable, "-m", "sandbox", "--print-example"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert example.stdout == example_config()
