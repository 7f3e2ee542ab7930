"""Hostile input, end to end: inbox files through sign_and_submit, crafted documents
posted to the sandbox gateway with ``bhxh.submission.GatewayClient``.

Every case must fail with an error naming what is wrong (the unit, the dossier, the file
or field, the rule), leave the dossier store and the outbox byte for byte as they were,
and send nothing to the phone or the gateway. Unit-level cases of the same attacks live in
tests/bhxh and tests/sandbox/gateway; these run the whole path a user's files take.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from bhxh.hrdata import TK1Row, build_d02ts, build_tk1ts, read_workers_csv, write_demo_csv
from bhxh.intake import period_folder
from bhxh.models import UnitInfo
from bhxh.periods import today_vn
from bhxh.pipeline import Step
from bhxh.submission import GatewayClient, SubmissionRefused
from demo.scenario import DemoUnit, Scenario, many_units
from flows import sign_and_submit
from sandbox.audit import read_audit
from sandbox.config import Sandbox, start_sandbox
from tests.reliability.conftest import PERIOD, World, prime_units
from tests.text_splits import Split, split_text

HOSTILE_PERIOD = "06/2025"
MAX_XML_BYTES = 256 * 1024
DSIG = "{http://www.w3.org/2000/09/xmldsig#}"


@dataclass
class Hostile:
    world: World
    unit: DemoUnit
    outside: Path  # a folder outside the inbox, holding a "secret" file
    envelope: bytes  # a genuine signed envelope made by the flow
    dossier_id: str

    @property
    def data_dir(self) -> Path:
        return self.world.scenario.data_dir

    @property
    def folder(self) -> Path:
        """The hostile period's folder in the unit's inbox."""
        return self.data_dir / "inbox" / self.unit.unit.code / period_folder(HOSTILE_PERIOD)


@pytest.fixture(scope="module")
def hostile_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("hostile") / "var"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BHXH_DATA_DIR", str(data_dir))
        mp.setenv("BHXH_POLL_INITIAL_SECONDS", "0.2")
        mp.setenv("BHXH_POLL_MAX_SECONDS", "0.5")
        mp.setenv("BHXH_MAX_XML_BYTES", str(MAX_XML_BYTES))
        yield data_dir


@pytest.fixture(scope="module")
async def hostile(hostile_env: Path, pki_dir: Path) -> AsyncIterator[Hostile]:
    """One unit that already signed and submitted a dossier (so the store and the outbox
    are not empty), and a clean hostile period."""
    units = many_units(1, prefix="hostile", approve_after=0.2)
    scenario = Scenario(units, data_dir=hostile_env, pki_dir=pki_dir)
    scenario.issue_registered_certificates()
    sandbox: Sandbox = start_sandbox(scenario.sandbox_config())
    try:
        assert sandbox.gateway_url
        await scenario.save_blocks(sandbox.misa_url, sandbox.gateway_url)
        world = World(scenario, sandbox)
        await prime_units(world, units)
        scenario.fill_inbox(PERIOD, dossiers=1, workers=3)
        await sign_and_submit(units[0].block, period=PERIOD, interactive=False)
        (rec,) = world.records(units[0])
        assert rec.has(Step.SUBMITTED)
        envelope = (hostile_env / "store").rglob("final/BHXHDienTu.xml")
        outside = hostile_env.parent / "outside"
        outside.mkdir()
        (outside / "secret.xml").write_text("<D02-TS>secret</D02-TS>")
        yield Hostile(world, units[0], outside, next(envelope).read_bytes(), rec.id)
    finally:
        sandbox.stop()


def _tree(root: Path) -> dict[str, str]:
    """Every file and link under ``root`` with a digest of its content or its target."""
    snapshot: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            snapshot[rel] = "link:" + str(path.readlink())
        elif path.is_file():
            snapshot[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            snapshot[rel] = "dir"
    return snapshot


# ---------------------------------------------------------------------- the cases
Writer = Callable[[Hostile, Path], None]


def _rows(h: Hostile, n: int = 3) -> list:  # type: ignore[type-arg]
    csv = write_demo_csv(h.data_dir / "csv" / "hostile.csv", n, seed=4242, period=HOSTILE_PERIOD)
    return read_workers_csv(csv)


def _d02(h: Hostile, unit: UnitInfo | None = None, period: str = HOSTILE_PERIOD) -> bytes:
    return build_d02ts(unit or h.unit.unit, period, _rows(h))


def _manifest(folder: Path, procedure: str = "600", **extra: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"procedure": procedure, **extra}
    (folder / "manifest.json").write_text(json.dumps(data), encoding="utf-8")


def _dossier(files: dict[str, bytes], procedure: str = "600", **extra: object) -> Writer:
    def write(h: Hostile, folder: Path) -> None:
        _manifest(folder, procedure, **extra)
        for name, data in files.items():
            (folder / name).write_bytes(data)

    return write


def _declaration(make: Callable[[Hostile], bytes], **extra: object) -> Writer:
    """A 600 dossier whose D02-TS-595.xml is ``make(h)``."""

    def write(h: Hostile, folder: Path) -> None:
        _manifest(folder, "600", **extra)
        (folder / "D02-TS-595.xml").write_bytes(make(h))

    return write


XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE D02-TS [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b"<D02-TS><TenDoiTuong>&x;</TenDoiTuong></D02-TS>"
)
XXE_PARAMETER = (
    b'<?xml version="1.0"?>\n<!DOCTYPE D02-TS [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">'
    b"%p;]>\n<D02-TS/>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10))
    + b"]>\n<D02-TS>&lol9;</D02-TS>"
)
QUADRATIC = (
    b'<?xml version="1.0"?>\n<!DOCTYPE D02-TS [<!ENTITY a "'
    + b"A" * 50_000
    + b'">]>\n<D02-TS>'
    + b"&a;" * 1000
    + b"</D02-TS>"
)
EXTERNAL_DTD = (
    b'<?xml version="1.0"?>\n<!DOCTYPE D02-TS SYSTEM "http://127.0.0.1:9/d02.dtd">\n<D02-TS/>'
)
PLAIN_DOCTYPE = b'<?xml version="1.0"?>\n<!DOCTYPE D02-TS>\n<D02-TS/>'
DEEP = b"<D02-TS>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</D02-TS>"


def _oversized(h: Hostile) -> bytes:
    body = _d02(h)
    padding = b"<!-- " + b"x" * (MAX_XML_BYTES + 10) + b" -->"
    return body.replace(b"</D02-TS>", padding + b"</D02-TS>")


def _latin1(h: Hostile) -> bytes:
    text = _d02(h).decode("utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    return text.replace("<HoTen>", "<HoTen>Caf\xe9 ", 1).encode("latin-1", errors="replace")


def _utf16(h: Hostile) -> bytes:
    return _d02(h).decode("utf-8").encode("utf-16")


def _windows_1258(h: Hostile) -> bytes:
    return _d02(h).replace(b'encoding="UTF-8"', b'encoding="windows-1258"')


def _truncated(h: Hostile) -> bytes:
    return _d02(h)[:-40]


def _duplicate_worker(h: Hostile) -> bytes:
    rows = _rows(h, 2)
    twin = rows[1].replace(MasoBHXH=rows[0].MasoBHXH, CMND="079099000999")
    return build_d02ts(h.unit.unit, HOSTILE_PERIOD, [rows[0], twin])


def _duplicate_identity(h: Hostile) -> bytes:
    rows = _rows(h, 2)
    twin = rows[1].replace(CMND=rows[0].CMND)
    return build_d02ts(h.unit.unit, HOSTILE_PERIOD, [rows[0], twin])


def _invented_header(h: Hostile) -> bytes:
    """The unit header this project used to invent, which the real files do not have."""
    header = f"<KyKeKhai>{HOSTILE_PERIOD}</KyKeKhai><MaSoThue>{h.unit.unit.tax_code}</MaSoThue>"
    return _d02(h).replace(b"<D02-TS>", b"<D02-TS>" + header.encode(), 1)


def _out_of_order(h: Hostile) -> bytes:
    data = _d02(h)
    start, end = data.index(b"<STT>"), data.index(b"</STT>") + len(b"</STT>")
    stt = data[start:end]
    moved = data[:start] + data[end:]
    return moved.replace(b"</HoTen>", b"</HoTen>" + stt, 1)


def _required_field_missing(h: Hostile) -> bytes:
    return _d02(h).replace(b"<TinhLai>0</TinhLai>", b"", 1)


def _wrong_root(h: Hostile) -> bytes:
    return _d02(h).replace(b"<D02-TS>", b"<TK1-TS>").replace(b"</D02-TS>", b"</TK1-TS>")


def _only_tk1(h: Hostile, folder: Path) -> None:
    """A 600 dossier without its required D02-TS (only a TK1-TS)."""
    _manifest(folder, "600")
    rows = _rows(h, 1)
    person = TK1Row(
        HoTen=rows[0].HoTen,
        NgaySinh="01/01/1990",
        GioiTinh="1",
        MasoBHXH=rows[0].MasoBHXH,
        CMND=rows[0].CMND,
    )
    (folder / "TK1-TS-595.xml").write_bytes(build_tk1ts(h.unit.unit, HOSTILE_PERIOD, [person]))


def _symlinked_declaration(h: Hostile, folder: Path) -> None:
    _manifest(folder)
    (folder / "D02-TS-595.xml").symlink_to(h.outside / "secret.xml")


def _symlinked_attachment(h: Hostile, folder: Path) -> None:
    _manifest(folder, attachments=["hop-dong.pdf"])
    (folder / "D02-TS-595.xml").write_bytes(_d02(h))
    (folder / "hop-dong.pdf").symlink_to(h.outside / "secret.xml")


def _symlinked_folder(h: Hostile, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    target = h.outside / "dossier"
    target.mkdir(exist_ok=True)
    _manifest(target)
    (target / "D02-TS-595.xml").write_bytes(_d02(h))
    folder.symlink_to(target, target_is_directory=True)


def _symlinked_period(h: Hostile, folder: Path) -> None:
    target = h.outside / "period"
    _manifest(target / "01-dossier")
    (target / "01-dossier" / "D02-TS-595.xml").write_bytes(_d02(h))
    shutil.rmtree(folder.parent, ignore_errors=True)
    folder.parent.parent.mkdir(parents=True, exist_ok=True)
    folder.parent.symlink_to(target, target_is_directory=True)


def _traversal(name: str) -> Writer:
    def write(h: Hostile, folder: Path) -> None:
        _manifest(folder, attachments=[name])
        (folder / "D02-TS-595.xml").write_bytes(_d02(h))

    return write


def _raw_manifest(raw: bytes) -> Writer:
    def write(h: Hostile, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_bytes(raw)
        (folder / "D02-TS-595.xml").write_bytes(_d02(h))

    return write


def _no_manifest(h: Hostile, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "D02-TS-595.xml").write_bytes(_d02(h))


def _extra_file(name: str) -> Writer:
    def write(h: Hostile, folder: Path) -> None:
        _manifest(folder)
        (folder / "D02-TS-595.xml").write_bytes(_d02(h))
        (folder / name).write_bytes(b"MZ\x90\x00")

    return write


def _subfolder(h: Hostile, folder: Path) -> None:
    _manifest(folder)
    (folder / "D02-TS-595.xml").write_bytes(_d02(h))
    (folder / "nested").mkdir()


def _form_not_allowed(h: Hostile, folder: Path) -> None:
    _manifest(folder, "600")
    (folder / "D02-TS-595.xml").write_bytes(_d02(h))
    (folder / "D05-TS-595.xml").write_bytes(
        _d02(h).replace(b"<D02-TS>", b"<D05-TS>").replace(b"</D02-TS>", b"</D05-TS>")
    )


#: name -> (how the inbox is filled, words the error must contain)
INBOX_CASES: dict[str, tuple[Writer, tuple[str, ...]]] = {
    "xxe-external-entity": (_declaration(lambda h: XXE), ("D02-TS-595.xml", "DOCTYPE")),
    "xxe-parameter-entity": (_declaration(lambda h: XXE_PARAMETER), ("D02-TS-595.xml", "DOCTYPE")),
    "billion-laughs": (_declaration(lambda h: BILLION_LAUGHS), ("D02-TS-595.xml", "DOCTYPE")),
    "quadratic-blowup": (_declaration(lambda h: QUADRATIC), ("D02-TS-595.xml", "DOCTYPE")),
    "doctype": (_declaration(lambda h: PLAIN_DOCTYPE), ("D02-TS-595.xml", "DOCTYPE")),
    "external-dtd": (_declaration(lambda h: EXTERNAL_DTD), ("D02-TS-595.xml", "DOCTYPE")),
    "oversized": (_declaration(_oversized), ("D02-TS-595.xml", "limit")),
    "deeply-nested": (_declaration(lambda h: DEEP), ("D02-TS-595.xml", "nesting")),
    "latin-1": (_declaration(_latin1), ("D02-TS-595.xml", "UTF-8")),
    "utf-16": (_declaration(_utf16), ("D02-TS-595.xml", "UTF-8")),
    "windows-1258": (_declaration(_windows_1258), ("D02-TS-595.xml", "windows-1258")),
    "truncated-xml": (_declaration(_truncated), ("D02-TS-595.xml", "malformed")),
    "empty-file": (_declaration(lambda h: b""), ("D02-TS-595.xml", "empty")),
    "wrong-root": (_declaration(_wrong_root), ("D02-TS-595.xml", "D02-TS")),
    "traversal-relative": (_traversal("../../../../etc/passwd"), ("attachment", "plain name")),
    "traversal-absolute": (_traversal("/etc/passwd"), ("attachment", "plain name")),
    "traversal-dotdot": (_traversal(".."), ("attachment", "plain name")),
    "symlinked-declaration": (_symlinked_declaration, ("D02-TS-595.xml", "outside the inbox")),
    "symlinked-attachment": (_symlinked_attachment, ("hop-dong.pdf", "outside the inbox")),
    "symlinked-dossier-folder": (_symlinked_folder, ("01-dossier", "outside the inbox")),
    "symlinked-period-folder": (_symlinked_period, ("outside the inbox",)),
    "manifest-not-json": (_raw_manifest(b"{procedure: 600"), ("manifest.json", "JSON")),
    "manifest-not-utf8": (_raw_manifest(b'{"procedure": "600", "name": "\xff\xfe"}'), ("UTF-8",)),
    "manifest-unknown-key": (
        _raw_manifest(b'{"procedure": "600", "run": "rm -rf /"}'),
        ("manifest.json", "run"),
    ),
    "no-manifest": (_no_manifest, ("01-dossier", "manifest.json")),
    "unknown-procedure": (_dossier({}, procedure="999"), ("procedure", "999")),
    "unexpected-executable": (_extra_file("setup.exe"), ("setup.exe",)),
    "double-extension": (_extra_file("D02-TS-595.xml.exe"), ("D02-TS-595.xml.exe",)),
    "sub-folder": (_subfolder, ("nested", "sub-folders")),
    "manifest-of-another-unit": (
        _declaration(_d02, unit="ZZ9999Z"),
        ("manifest.json", "field unit", "ZZ9999Z"),
    ),
    "manifest-of-another-tax-code": (
        _declaration(_d02, tax_code="0309999999"),
        ("manifest.json", "field tax_code", "0309999999"),
    ),
    "form-not-allowed": (_form_not_allowed, ("không cho phép", "D05-TS")),
    "required-form-missing": (_only_tk1, ("thiếu tờ khai D02-TS",)),
    "duplicate-worker": (_declaration(_duplicate_worker), ("MasoBHXH", "appears twice")),
    "duplicate-identity-card": (_declaration(_duplicate_identity), ("CMND", "appears twice")),
    "manifest-of-another-period": (
        _declaration(_d02, period="05/2025"),
        ("manifest.json", "field period", "05/2025"),
    ),
    "invented-unit-header": (
        _declaration(_invented_header),
        ("D02-TS-595.xml", "unexpected element <KyKeKhai>"),
    ),
    "field-out-of-order": (
        _declaration(_out_of_order),
        ("D02-TS-595.xml", "row 1", "field STT: out of order"),
    ),
    "required-field-missing": (
        _declaration(_required_field_missing),
        ("D02-TS-595.xml", "row 1", "TinhLai", "Không được để trống"),
    ),
}


def _future_period() -> str:
    return f"01/{today_vn().year + 1}"


async def _refused(h: Hostile, period: str) -> str:
    """Run sign_and_submit; it must fail changing nothing. Returns the error text."""
    data = h.data_dir
    before = (_tree(data / "store"), _tree(data / "outbox"), len(h.world.audit))
    state = await sign_and_submit(h.unit.block, period=period, interactive=False, return_state=True)
    assert state.is_failed(), f"accepted: {state}"
    error = await state.aresult(raise_on_failure=False)
    assert isinstance(error, Exception), error
    after_audit = h.world.audit[before[2] :]
    assert [e["event"] for e in after_audit if e["event"] in ("sign_request", "submitted")] == []
    assert _tree(data / "store") == before[0], "the store changed"
    assert _tree(data / "outbox") == before[1], "the outbox changed"
    return str(error)


@pytest.mark.parametrize("case", list(INBOX_CASES))
async def test_hostile_inbox_files_are_refused_by_name_changing_nothing(
    hostile: Hostile, case: str
) -> None:
    write, words = INBOX_CASES[case]
    shutil.rmtree(hostile.folder, ignore_errors=True)
    if hostile.folder.is_symlink():
        hostile.folder.unlink()
    write(hostile, hostile.folder / "01-dossier")
    try:
        message = await _refused(hostile, HOSTILE_PERIOD)
    finally:
        if hostile.folder.is_symlink():
            hostile.folder.unlink()
        shutil.rmtree(hostile.folder, ignore_errors=True)
    print(f"\nHOSTILE {case}: {message}")  # the README figures (pytest -s)
    assert hostile.unit.unit.code in message, message
    for word in words:
        assert word in message, f"{case}: {word!r} not in: {message}"


async def test_a_future_period_is_refused_changing_nothing(hostile: Hostile) -> None:
    period = _future_period()
    folder = hostile.data_dir / "inbox" / hostile.unit.unit.code / period_folder(period)
    _declaration(lambda h: _d02(h, period=period))(hostile, folder / "01-dossier")
    try:
        message = await _refused(hostile, period)
    finally:
        shutil.rmtree(folder)
    assert "future" in message and period in message, message


# ---------------------------------------------------------------------- the gateway
def _wrapped(envelope: bytes) -> bytes:
    """Signature wrapping: the genuine signed envelope hidden in the signature's Object,
    the visible content forged (another unit name)."""
    root = etree.fromstring(envelope)
    original = copy.deepcopy(root)
    name = root.find("NoiDung/ThongTinDonVi/TenDoiTuong")
    assert name is not None
    name.text = "Công ty Mạo Danh"
    signature = root.find(f"CKy_Dvi/{DSIG}Signature")
    assert signature is not None
    etree.SubElement(signature, f"{DSIG}Object").append(original)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _second_signature(envelope: bytes) -> bytes:
    """A forged period next to a copy of the genuine signature."""
    root = etree.fromstring(envelope)
    slot = root.find("CKy_Dvi")
    assert slot is not None
    slot.append(copy.deepcopy(slot[0]))
    period = root.find("NoiDung/ThongTinHoSo/KyKeKhai")
    assert period is not None
    period.text = "12/2025"
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _tampered(envelope: bytes) -> bytes:
    """One embedded declaration's bytes changed after signing (salary raised)."""
    root = etree.fromstring(envelope)
    content = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/NoiDungFile")
    assert content is not None and content.text
    declaration = base64.b64decode(content.text).replace(b"<TienLuong>", b"<TienLuong>9", 1)
    content.text = base64.b64encode(declaration).decode()
    length = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/DoDaiFile")
    assert length is not None
    length.text = str(len(content.text))
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _with_doctype(envelope: bytes) -> bytes:
    body = envelope.split(b"?>", 1)[1]
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE Hoso [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + body
    )


def _other_key_value(envelope: bytes) -> bytes:
    """KeyValue (outside SignedInfo) naming another RSA key; the signature still verifies."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    n = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    modulus = n.public_numbers().n.to_bytes(256, "big")
    start = envelope.index(b"<Modulus>") + len(b"<Modulus>")
    end = envelope.index(b"</Modulus>", start)
    return envelope[:start] + base64.b64encode(modulus) + envelope[end:]


def _duplicate_id(envelope: bytes) -> bytes:
    """A second element answering to the Signature's Id, in an Object added after signing."""
    extra = b'<Object Id="sigid"><Note xmlns="">x</Note></Object></Signature>'
    return envelope.replace(b"</Signature>", extra, 1)


def _element_in_a_field(envelope: bytes) -> bytes:
    """Mixed content: an element inside the unit name (signed with it or not, refused)."""
    start = envelope.index(b"<TenDoiTuong>") + len(b"<TenDoiTuong>")
    return envelope[:start] + b"<b>X</b>" + envelope[start:]


GATEWAY_CASES: dict[str, Callable[[bytes], bytes]] = {
    "signature-wrapping": _wrapped,
    "second-signature-forged-period": _second_signature,
    "declaration-tampered-after-signing": _tampered,
    "xxe-in-envelope": _with_doctype,
    "key-value-of-another-key": _other_key_value,
    "duplicate-id": _duplicate_id,
    "element-inside-a-field": _element_in_a_field,
}


@pytest.mark.parametrize("case", list(GATEWAY_CASES))
async def test_crafted_envelopes_are_refused_by_the_gateway(hostile: Hostile, case: str) -> None:
    crafted = GATEWAY_CASES[case](hostile.envelope)
    dossier_id = f"{hostile.dossier_id}-{case}"[:64]
    key = hostile.world.scenario.gateway_key
    assert hostile.world.sandbox.gateway_url
    async with GatewayClient(hostile.world.sandbox.gateway_url, key) as gateway:
        with pytest.raises(SubmissionRefused) as info:
            await gateway.submit(dossier_id, hostile.unit.unit.code, "envelope", crafted)
    assert info.value.code and info.value.message
    print(f"\nHOSTILE gateway {case}: {info.value}")
    assert dossier_id in str(info.value)
    audit = read_audit(hostile.world.sandbox.config.audit_path)
    assert [e["event"] for e in audit if e.get("dossier_id") == dossier_id] == ["refused"]


async def test_the_genuine_envelope_replayed_for_another_unit_is_refused(hostile: Hostile) -> None:
    assert hostile.world.sandbox.gateway_url
    key = hostile.world.scenario.gateway_key
    async with GatewayClient(hostile.world.sandbox.gateway_url, key) as gateway:
        with pytest.raises(SubmissionRefused) as info:
            await gateway.submit("replay-other-unit", "ZZ9999Z", "envelope", hostile.envelope)
    assert "ZZ9999Z" in str(info.value) or hostile.unit.unit.code in str(info.value)


#: Fields of the flow's signed envelope split after signing, and what the audit names them.
SPLIT_FIELDS = {
    "TenDoiTuong": "unit_name",
    "MaSoThue": "tax_code",
    "KyKeKhai": "period",
    "MaThuTuc": "procedure",
    "MaSoBHXH": "unit_code",
}


@pytest.mark.parametrize("how", ["comment", "cdata"])
async def test_a_signed_envelope_split_after_signing_is_read_as_signed(
    hostile: Hostile, how: Split
) -> None:
    """A comment or a CDATA section put inside a signed field keeps the signature valid
    (C14N drops the one and writes the other as text): the gateway reads what was signed."""
    key = hostile.world.scenario.gateway_key
    assert hostile.world.sandbox.gateway_url
    audit_path = hostile.world.sandbox.config.audit_path
    (genuine,) = [
        e
        for e in read_audit(audit_path)
        if e["event"] == "submitted" and e.get("dossier_id") == hostile.dossier_id
    ]
    changed: dict[str, object] = {}
    async with GatewayClient(hostile.world.sandbox.gateway_url, key) as gateway:
        for field, name in SPLIT_FIELDS.items():
            dossier_id = f"{hostile.dossier_id}-split-{how}-{field}"[:64]
            split = split_text(hostile.envelope, field, how)
            assert split != hostile.envelope
            await gateway.submit(dossier_id, hostile.unit.unit.code, "envelope", split)
            (event,) = [
                e
                for e in read_audit(audit_path)
                if e["event"] == "submitted" and e.get("dossier_id") == dossier_id
            ]
            if event[name] != genuine[name]:
                changed[field] = event[name]
    print(f"\nHOSTILE split by {how}: {len(SPLIT_FIELDS)} fields, {len(changed)} read otherwise")
    assert changed == {}
