"""04 -> business dossier accepted -> new certificate refused -> 05 (signed by the new
certificate) -> the same dossier accepted -> 06 -> refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bhxh.submission import SubmissionRefused
from sandbox.gateway import messages as m
from tests.sandbox.gateway.gateway_support import (
    UNIT,
    Certs,
    Gateway,
    declaration,
    envelope,
    registration,
)

Start = Callable[..., Gateway]


async def refusal(gateway: Gateway, dossier_id: str, kind: str, content: bytes) -> tuple[str, str]:
    with pytest.raises(SubmissionRefused) as info:
        await gateway.client.submit(dossier_id, UNIT.code, kind, content)  # type: ignore[arg-type]
    return info.value.code, info.value.message


def expect(r: m.Refusal) -> tuple[str, str]:
    return r.code, r.message


def serial(cert: object) -> str:
    return format(cert.certificate.serial_number, "X")  # type: ignore[attr-defined]


async def test_register_change_and_stop(start_gateway: Start, certs: Certs) -> None:
    gateway = start_gateway(units=[], change_delay_seconds=120)
    client = gateway.client
    assert (await client.registration(UNIT.code)).state == "unknown"
    old = envelope(certs.token)
    assert await refusal(gateway, "biz-0", "envelope", old) == expect(
        m.UNIT_UNKNOWN(unit=UNIT.code)
    )

    # 04 with the USB-token certificate registers the unit.
    await client.submit("reg-04", UNIT.code, "registration", registration("04", certs.token))
    reg = await client.registration(UNIT.code)
    assert reg.state == "registered" and reg.tax_code == UNIT.tax_code
    assert reg.certificate is not None and reg.certificate.serial == serial(certs.token)
    assert await refusal(
        gateway, "reg-04-again", "registration", registration("04", certs.token)
    ) == expect(m.ALREADY_REGISTERED(unit=UNIT.code))

    # A business dossier signed by the registered certificate is accepted.
    await client.submit("biz-1", UNIT.code, "envelope", old)
    assert (await client.status("biz-1")).status == "accepted"

    # The new (remote) certificate is not registered yet.
    new = envelope(certs.remote, [declaration(certs.remote)])
    not_registered = expect(
        m.CERTIFICATE_NOT_REGISTERED(
            unit=UNIT.code, serial=serial(certs.remote), document="BHXHDienTu.xml"
        )
    )
    assert await refusal(gateway, "biz-2", "envelope", new) == not_registered
    assert "chứng thư số chưa đăng ký" in not_registered[1]

    # A 05 naming the new certificate must be signed by it.
    wrong_signer = registration("05", certs.token, named=certs.remote)
    assert await refusal(gateway, "reg-05", "registration", wrong_signer) == expect(
        m.FORM_CERTIFICATE(declared=serial(certs.remote), actual=serial(certs.token))
    )
    await client.submit("reg-05", UNIT.code, "registration", registration("05", certs.remote))
    pending = await client.registration(UNIT.code)
    assert pending.state == "change_pending"
    assert pending.certificate is not None and pending.certificate.serial == serial(certs.token)
    assert await refusal(gateway, "biz-2", "envelope", new) == not_registered  # old still rules

    gateway.clock.advance(121)
    changed = await client.registration(UNIT.code)
    assert changed.state == "registered"
    assert changed.certificate is not None and changed.certificate.serial == serial(certs.remote)
    ack = await client.submit("biz-2", UNIT.code, "envelope", new)  # the same dossier, now fine
    assert not ack.duplicate
    assert (await client.status("biz-2")).status == "accepted"
    assert await refusal(gateway, "biz-3", "envelope", old) == expect(
        m.CERTIFICATE_NOT_REGISTERED(
            unit=UNIT.code, serial=serial(certs.token), document="BHXHDienTu.xml"
        )
    )

    # 06 stops; business dossiers are refused afterwards.
    await client.submit("reg-06", UNIT.code, "registration", registration("06", certs.remote))
    assert (await client.registration(UNIT.code)).state == "stopped"
    again = envelope(certs.remote, [declaration(certs.remote)], period="02/2026")
    assert await refusal(gateway, "biz-4", "envelope", again) == expect(
        m.UNIT_STOPPED(unit=UNIT.code)
    )
    assert [e["state"] for e in gateway.events("registration")] == [
        "registered",
        "change_pending",
        "registered",
        "stopped",
    ]


async def test_a_06_must_be_signed_by_the_registered_certificate(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway()  # registered with the token certificate
    assert await refusal(
        gateway, "reg-06", "registration", registration("06", certs.remote)
    ) == expect(
        m.CERTIFICATE_NOT_REGISTERED(
            unit=UNIT.code, serial=serial(certs.remote), document="06_NG-IVAN.xml"
        )
    )


async def test_a_registration_form_with_a_revoked_certificate_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway(units=[])
    assert await refusal(
        gateway, "reg-04", "registration", registration("04", certs.revoked)
    ) == expect(m.CERTIFICATE_REVOKED(document="04_DK-IVAN.xml", serial=serial(certs.revoked)))


async def test_a_registration_form_sent_as_an_envelope_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway(units=[])
    assert await refusal(gateway, "reg-04", "envelope", registration("04", certs.token)) == expect(
        m.FIELD_MISSING(document="BHXHDienTu.xml", path="Hoso/NoiDung/ThongTinDonVi/TenDoiTuong")
    )
