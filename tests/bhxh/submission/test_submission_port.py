"""The submission port: the conformance kit run over the reference gateway adapter (with
and without idempotency keys), the export adapter and a minimal in-memory adapter; a
deliberately broken adapter fails it."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bhxh.submission import (
    RECEIPTS_FILE,
    ExportAdapter,
    ExportConflict,
    GatewayAdapter,
    GatewayClient,
    LocalFolderSink,
    Submission,
)
from bhxh.submission.conformance import SubmissionPortSuite
from sandbox.audit import AuditLog
from sandbox.gateway import GatewayConfig, create_gateway_app
from sandbox.pki import TestPKI
from sandbox.serve import ServerThread
from tests.bhxh.submission.example_adapter import MemoryAdapter, MemoryCarrier
from tests.sandbox.gateway.gateway_support import (
    API_KEY,
    UNIT,
    Certs,
    Clock,
    envelope,
    registered_unit,
    set_text,
)

PERIOD = "01/2026"
_counter = itertools.count(1)


def _submission(certs: Certs) -> Submission:
    n = next(_counter)
    # A new dossier each time: another NgayLap changes the envelope's bytes.
    content = envelope(
        certs.token, mutate=set_text("NoiDung/ThongTinHoSo/NgayLap", f"{n % 28 + 1:02d}/01/2026")
    )
    return Submission(
        dossier_id=f"600-conformance-{n}",
        unit_code=UNIT.code,
        procedure="600",
        period=PERIOD,
        kind="envelope",
        filename="BHXHDienTu.xml",
        content=content,
        declarations={"D02-TS-595.xml": b"<D02-TS/>"},
        approvals=(f"tx-{n}-1", f"tx-{n}-2"),
    )


class GatewayCarrier:
    """The sandbox gateway, driven by hand (its clock, its fault switch, its audit)."""

    def __init__(self, app: Any, audit: AuditLog, clock: Clock) -> None:
        self.app, self.audit, self.clock = app, audit, clock
        self.unit_code = UNIT.code

    def received(self, submission: Submission) -> int:
        return sum(
            1
            for r in self.audit.read()
            if r["event"] == "submitted" and r.get("sha256") == submission.sha256
        )

    def lose_next_answer(self) -> None:
        self.app.state.faults.lose_next()

    def refused(self, submission: Submission) -> tuple[Submission, str]:
        # Changed after signing: the carrier's own verifier refuses it.
        tampered = submission.content.replace(b"<QuyTrinhISO>0<", b"<QuyTrinhISO>1<")
        assert tampered != submission.content
        return dataclasses.replace(submission, content=tampered), "không hợp lệ"

    def advance(self, submission: Submission, status: str, message: str = "") -> None:
        # Numbering 10 s after receipt, the outcome (accepted) 100 s after.
        self.clock.advance(11 if status == "numbered" else 101)


@pytest.fixture
async def gateway_world(
    pki: TestPKI, certs: Certs, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[GatewayAdapter, GatewayCarrier]]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    config = GatewayConfig.model_validate(
        {
            "api_keys": [API_KEY],
            "units": [registered_unit(certs.token)],
            "numbering_delay_seconds": 10,
            "result_delay_seconds": 100,
            **overrides,
        }
    )
    audit = AuditLog(tmp_path / "audit.jsonl")
    clock = Clock()
    app = create_gateway_app(config, pki, audit, clock=clock)
    server = ServerThread(app).start()
    client = GatewayClient(server.url, API_KEY, attempts=3, backoff=0.01)
    try:
        adapter = await GatewayAdapter.connect(client)
        yield adapter, GatewayCarrier(app, audit, clock)
    finally:
        await client.aclose()
        server.stop()


class TestGatewayAdapterConformance(SubmissionPortSuite):
    """The reference adapter over a carrier that takes the dossier id as idempotency key."""

    @pytest.fixture
    def port(self, gateway_world: tuple[GatewayAdapter, GatewayCarrier]) -> GatewayAdapter:
        return gateway_world[0]

    @pytest.fixture
    def carrier(self, gateway_world: tuple[GatewayAdapter, GatewayCarrier]) -> GatewayCarrier:
        return gateway_world[1]

    @pytest.fixture
    def make_submission(self, certs: Certs) -> Callable[[], Submission]:
        return lambda: _submission(certs)


@pytest.mark.parametrize(
    "gateway_world", [{"idempotency_keys": False, "registration_read": False}], indirect=True
)
class TestGatewayAdapterWithoutIdempotencyConformance(TestGatewayAdapterConformance):
    """The same adapter over a carrier like the known I-VANs: no idempotency key, no
    registration read; lost answers resolved by a lookup by natural key."""


class CountingSink(LocalFolderSink):
    """A local export folder that counts writes and can fail once after a write."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes: dict[str, int] = {}
        self.fail_after_next_write = False

    async def write(self, relpath: str, data: bytes) -> None:
        await super().write(relpath, data)
        self.writes[relpath] = self.writes.get(relpath, 0) + 1
        if self.fail_after_next_write and relpath.endswith("manifest.json"):
            self.fail_after_next_write = False
            raise OSError("the disk went away before the answer")


class ExportCarrier:
    """The I-VAN's software behind an export: a person imports the files and writes the
    receipts file."""

    unit_code = UNIT.code

    def __init__(self, sink: CountingSink) -> None:
        self.sink = sink
        self.rows: list[dict[str, str]] = []

    def received(self, submission: Submission) -> int:
        folder = ExportAdapter.folder(
            submission.unit_code, submission.period, submission.dossier_id
        )
        return self.sink.writes.get(f"{folder}/{submission.filename}", 0)

    def lose_next_answer(self) -> None:
        self.sink.fail_after_next_write = True

    def refused(self, submission: Submission) -> tuple[Submission, str]:
        return submission, "Sai mã đơn vị"

    def advance(self, submission: Submission, status: str, message: str = "") -> None:
        self.rows.append(
            {
                "dossier_id": submission.dossier_id,
                "so_ho_so": "03706/2026/07906",
                "dot": "1",
                "status": status,
                "message": message,
            }
        )
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(self.rows[0]))
        writer.writeheader()
        writer.writerows(self.rows)
        (self.sink.root / RECEIPTS_FILE).write_text("\ufeff" + out.getvalue(), encoding="utf-8")


class TestExportAdapterConformance(SubmissionPortSuite):
    """The export route: files and a manifest for the I-VAN's software."""

    @pytest.fixture
    def sink(self, tmp_path: Path) -> CountingSink:
        return CountingSink(tmp_path / "export")

    @pytest.fixture
    def port(self, sink: CountingSink) -> ExportAdapter:
        return ExportAdapter(sink, ivan_code="00040", ivan_name="Công ty Cổ phần Thái Sơn")

    @pytest.fixture
    def carrier(self, sink: CountingSink) -> ExportCarrier:
        return ExportCarrier(sink)

    @pytest.fixture
    def make_submission(self, certs: Certs) -> Callable[[], Submission]:
        return lambda: _submission(certs)


class TestMemoryAdapterConformance(SubmissionPortSuite):
    """The README's minimal adapter passes the kit."""

    @pytest.fixture
    def carrier(self) -> MemoryCarrier:
        return MemoryCarrier()

    @pytest.fixture
    def port(self, carrier: MemoryCarrier) -> MemoryAdapter:
        return MemoryAdapter(carrier)

    @pytest.fixture
    def make_submission(self, certs: Certs) -> Callable[[], Submission]:
        return lambda: _submission(certs)


def test_a_broken_adapter_fails_the_kit(tmp_path: Path) -> None:
    here = Path(__file__).parent
    (tmp_path / "example_adapter.py").write_text((here / "example_adapter.py").read_text())
    (tmp_path / "test_broken.py").write_text(
        "import itertools\n"
        "import pytest\n"
        "from bhxh.submission.conformance import SubmissionPortSuite\n"
        "from bhxh.submission import Submission\n"
        "from example_adapter import BrokenAdapter, MemoryCarrier\n"
        "n = itertools.count()\n"
        "class TestBroken(SubmissionPortSuite):\n"
        "    @pytest.fixture\n"
        "    def carrier(self): return MemoryCarrier()\n"
        "    @pytest.fixture\n"
        "    def port(self, carrier): return BrokenAdapter(carrier)\n"
        "    @pytest.fixture\n"
        "    def make_submission(self):\n"
        "        def make():\n"
        "            i = next(n)\n"
        "            return Submission(f'd-{i}', 'TZ9001A', '600', '01/2026', 'envelope',\n"
        "                              'BHXHDienTu.xml', f'<Hoso>{i}</Hoso>'.encode())\n"
        "        return make\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto",
         "test_broken.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "2 failed, 5 passed" in done.stdout, done.stdout
    assert "test_sending_a_dossier_again_carries_nothing_twice" in done.stdout
    assert "test_a_lost_answer_never_leads_to_a_second_submission" in done.stdout


async def test_exporting_twice_never_writes_different_bytes(tmp_path: Path, certs: Certs) -> None:
    sink = LocalFolderSink(tmp_path / "export")
    port = ExportAdapter(sink, ivan_code="00110", ivan_name="Công ty Cổ phần MISA")
    submission = _submission(certs)
    first = await port.submit(submission)
    folder = tmp_path / "export" / "TZ9001A" / "01-2026" / submission.dossier_id
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = await port.submit(submission)
    assert again.duplicate and not first.duplicate
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    manifest = json.loads(before["manifest.json"])
    assert manifest["dossier_id"] == submission.dossier_id
    assert manifest["approvals"] == list(submission.approvals)
    assert {f["name"]: f["role"] for f in manifest["files"]} == {
        "BHXHDienTu.xml": "envelope",
        "D02-TS-595.xml": "declaration",
    }
    assert manifest["files"][0]["sha256"] == submission.sha256
    # Other bytes under the same dossier id: refused, nothing overwritten.
    other = dataclasses.replace(submission, content=submission.content + b"\n")
    with pytest.raises(ExportConflict, match="not overwritten"):
        await port.submit(other)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_the_kit_imports_without_pytest() -> None:
    # An adapter package may ship the kit without pytest among its run-time dependencies.
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys, bhxh.submission.conformance; "
         "assert 'pytest' not in sys.modules, 'pytest imported'"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
