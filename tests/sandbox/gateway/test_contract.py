"""The published contract: /openapi.json lists the five operations; /health answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.sandbox.gateway.gateway_support import Gateway

Start = Callable[..., Gateway]


async def test_openapi_lists_the_six_operations(start_gateway: Start) -> None:
    gateway = start_gateway()
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        spec = (await http.get("/openapi.json")).json()
        health = await http.get("/health")
    operations = {
        (method.upper(), path): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert operations == {
        ("POST", "/api/v1/dossiers"): "submitDossier",
        ("GET", "/api/v1/dossiers"): "findDossier",
        ("GET", "/api/v1/dossiers/{dossier_id}"): "getDossierStatus",
        ("GET", "/api/v1/units/{unit_code}/registration"): "getUnitRegistration",
        ("GET", "/api/v1/capabilities"): "getCapabilities",
        ("GET", "/api/v1/units/{unit_code}/notices/c12/{period}"): "getContributionNotice",
        ("GET", "/health"): "health_health_get",
    }
    submit = spec["paths"]["/api/v1/dossiers"]["post"]
    assert {"200", "201", "409", "422", "503"} <= set(submit["responses"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert health.json() == {"status": "ok"}


async def test_api_calls_need_the_key(start_gateway: Start) -> None:
    gateway = start_gateway()
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.get("/api/v1/units/TZ9001A/registration")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
