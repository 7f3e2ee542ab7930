"""The C12-TS read through the carrier port: the conformance kit's notice cases over the
reference gateway adapter (the sandbox gateway computes the notice) and the export
adapter (a file the accountant drops); the sandbox's notice agrees with what it accepted
and the payments it records; hostile dropped files are refused naming the cell."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bhxh.contributions import C12NoticeInvalid, parse_c12
from bhxh.errors import InputRefused
from bhxh.submission import (
    NOTICE_JSON,
    NOTICE_XLSX,
    ExportAdapter,
    GatewayAdapter,
    GatewayClient,
    LocalFolderSink,
    Submission,
)
from bhxh.submission.conformance import NoticeReaderSuite
from sandbox.audit import AuditLog
from sandbox.gateway import GatewayConfig, PaymentConfig, create_gateway_app
from sandbox.pki import TestPKI
from sandbox.serve import ServerThread
from tests.bhxh.submission.notice_support import (
    NOTICE_PERIOD,
    c12_submission,
    dues_of,
    notice_workbook,
    portal_notice,
)
from tests.sandbox.gateway.gateway_support import API_KEY, UNIT, Certs, Clock, registered_unit


class GatewayNotices:
    """The sandbox gateway as the notice cases drive it: a dossier received, then
    accepted (its clock moved past the result delay)."""

    unit_code = UNIT.code
    empty_period = "01/2999"  # a month not begun

    def __init__(self, app: object, clock: Clock) -> None:
        self.core = app.state.gateway  # type: ignore[attr-defined]
        self.clock = clock

    def issue(self, submission: Submission) -> int:
        self.core.submit(
            submission.dossier_id, submission.unit_code, "envelope", submission.content
        )
        self.clock.advance(101)
        return dues_of(submission).due["cong"]

    def pay(self, so_unc: str, day: str, amount: int) -> None:
        self.core.record_payment(
            self.unit_code, PaymentConfig(soUnc=so_unc, ngayNop=day, soTien=amount)
        )


@pytest.fixture
async def gateway_notices(
    pki: TestPKI, certs: Certs, tmp_path: Path
) -> AsyncIterator[tuple[GatewayAdapter, GatewayNotices]]:
    config = GatewayConfig.model_validate(
        {
            "api_keys": [API_KEY],
            "units": [registered_unit(certs.token)],
            "result_delay_seconds": 100,
        }
    )
    clock = Clock()
    app = create_gateway_app(config, pki, AuditLog(tmp_path / "audit.jsonl"), clock=clock)
    server = ServerThread(app).start()
    client = GatewayClient(server.url, API_KEY, attempts=2, backoff=0.01)
    try:
        yield await GatewayAdapter.connect(client), GatewayNotices(app, clock)
    finally:
        await client.aclose()
        server.stop()


class TestGatewayNoticeRead(NoticeReaderSuite):
    """The reference adapter reads the notice the gateway computes."""

    @pytest.fixture
    def port(self, gateway_notices: tuple[GatewayAdapter, GatewayNotices]) -> GatewayAdapter:
        return gateway_notices[0]

    @pytest.fixture
    def notices(self, gateway_notices: tuple[GatewayAdapter, GatewayNotices]) -> GatewayNotices:
        return gateway_notices[1]

    @pytest.fixture
    def make_submission(self, certs: Certs) -> Callable[[], Submission]:
        return lambda: c12_submission(certs.token)


class ExportNotices:
    """The export route: the accountant saves the portal's answer in the unit's folder."""

    unit_code = UNIT.code
    empty_period = "02/2026"

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, period: str) -> Path:
        return self.root / UNIT.code / period.replace("/", "-") / "c12"

    def issue(self, submission: Submission) -> int:
        dues = dues_of(submission)
        folder = self.folder(submission.period)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / NOTICE_JSON).write_text(
            json.dumps(portal_notice(dues), ensure_ascii=False), encoding="utf-8"
        )
        return dues.due["cong"]


class TestExportNoticeRead(NoticeReaderSuite):
    """The export adapter reads the file a person dropped."""

    @pytest.fixture
    def notices(self, tmp_path: Path) -> ExportNotices:
        return ExportNotices(tmp_path / "export")

    @pytest.fixture
    def port(self, notices: ExportNotices) -> ExportAdapter:
        return ExportAdapter(LocalFolderSink(notices.root), ivan_code="00040")

    @pytest.fixture
    def make_submission(self, certs: Certs) -> Callable[[], Submission]:
        return lambda: c12_submission(certs.token)


# ------------------------------------------------------------------------------ gateway
async def test_the_gateways_notice_agrees_with_the_accepted_dossier_and_the_payments(
    gateway_notices: tuple[GatewayAdapter, GatewayNotices], certs: Certs
) -> None:
    port, carrier = gateway_notices
    submission = c12_submission(certs.token)
    dues = dues_of(submission)
    carrier.issue(submission)
    worker = dues.workers[1].column("cong")
    carrier.pay("01043", "20/01/2026", dues.due["cong"] - worker)
    carrier.pay("01044", "05/02/2026", 1_000)  # next month: not on January's notice
    document = await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
    assert document is not None and document.origin == "carrier"
    notice = parse_c12(document.data, period=NOTICE_PERIOD, unit=UNIT.code)
    assert (notice.headcount, notice.salary_fund) == (2, dues.salary_fund)
    for column in ("bhxh", "bhyt", "bhtn", "bhtnld", "cong"):
        assert notice.amount("B.3", column) == dues.due[column]
    assert [(p.so_unc, p.so_tien) for p in notice.payments] == [
        ("01043", dues.due["cong"] - worker)
    ]
    assert notice.paid == dues.due["cong"] - worker
    assert notice.amount("Đ.2.2") == worker  # short by one worker, carried forward
    february = await port.contribution_notice(UNIT.code, "02/2026")
    assert february is not None
    next_month = parse_c12(february.data, period="02/2026", unit=UNIT.code)
    assert next_month.amount("A.2.2") == worker  # carried over
    assert next_month.paid == 1_000


async def test_a_dossier_not_accepted_yet_is_not_on_the_notice(
    gateway_notices: tuple[GatewayAdapter, GatewayNotices], certs: Certs
) -> None:
    port, carrier = gateway_notices
    submission = c12_submission(certs.token)
    carrier.core.submit(submission.dossier_id, UNIT.code, "envelope", submission.content)
    document = await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
    assert document is not None
    assert parse_c12(document.data, period=NOTICE_PERIOD).due == 0


async def test_a_carrier_without_the_read_has_no_notice(
    pki: TestPKI, certs: Certs, tmp_path: Path
) -> None:
    config = GatewayConfig.model_validate(
        {"api_keys": [API_KEY], "units": [registered_unit(certs.token)], "notice_read": False}
    )
    app = create_gateway_app(config, pki, AuditLog(tmp_path / "audit.jsonl"))
    with ServerThread(app) as server:
        async with GatewayClient(server.url, API_KEY, attempts=1) as client:
            port = await GatewayAdapter.connect(client)
            assert not port.capabilities.notice_read
            assert await port.contribution_notice(UNIT.code, NOTICE_PERIOD) is None


# ------------------------------------------------------------------------------ dropped files
@pytest.fixture
def dropped(tmp_path: Path, certs: Certs) -> tuple[ExportAdapter, Path, dict[str, object]]:
    root = tmp_path / "export"
    folder = root / UNIT.code / "01-2026" / "c12"
    folder.mkdir(parents=True)
    doc = portal_notice(dues_of(c12_submission(certs.token)), [("01043", "20/01/2026", 1_000)])
    return ExportAdapter(LocalFolderSink(root)), folder, doc


async def test_a_workbook_with_the_same_rows_reads_as_the_json(
    dropped: tuple[ExportAdapter, Path, dict[str, object]],
) -> None:
    port, folder, doc = dropped
    (folder / NOTICE_XLSX).write_bytes(notice_workbook(doc))  # type: ignore[arg-type]
    from_book = await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
    assert from_book is not None and from_book.origin == "file"
    assert from_book.source.endswith("01-2026/c12/C12-TS.xlsx")
    (folder / NOTICE_XLSX).unlink()
    (folder / NOTICE_JSON).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    from_json = await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
    assert from_json is not None
    book = parse_c12(from_book.data, period=NOTICE_PERIOD, unit=UNIT.code)
    saved = parse_c12(from_json.data, period=NOTICE_PERIOD, unit=UNIT.code)
    assert dict(book.rows) == dict(saved.rows)
    assert book.payments == saved.payments


# Row 4 is the header; the notice's lines start at row 5: A, B, B.1, B.2, B.3 (row 9).
@pytest.mark.parametrize(
    ("cells", "named", "why"),
    [
        ({"G9": "=C9+D9+E9+F9"}, "dòng 9, cột G", "công thức"),
        ({"C9": "2,655,000"}, "dòng 9, cột C (bhxh)", "dấu phân cách"),
        ({"C9": "2.655.000"}, "dòng 9, cột C (bhxh)", "dấu phân cách"),
        ({"C9": 2655000.5}, "dòng 9, cột C (bhxh)", "phần lẻ"),
        ({"A9": "B.1"}, "dòng 9, cột A (stt)", "lần đầu ở dòng 7"),
        ({"A4": "Mã dòng"}, "trang tính 'C12-TS'", "dòng tiêu đề"),
        ({"D4": None}, "dòng 4", "thiếu cột bhyt"),
        ({"A1": "ma co quan"}, "trang tính 'C12-TS'", "maCqBhxh"),
    ],
)
async def test_a_hostile_workbook_is_refused_naming_the_cell(
    dropped: tuple[ExportAdapter, Path, dict[str, object]],
    cells: dict[str, object],
    named: str,
    why: str,
) -> None:
    port, folder, doc = dropped
    (folder / NOTICE_XLSX).write_bytes(notice_workbook(doc, cells=cells))  # type: ignore[arg-type]
    with pytest.raises(InputRefused) as refused:
        await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
    message = str(refused.value)
    assert f"Đơn vị {UNIT.code}, tệp " in message and "C12-TS.xlsx" in message
    assert named in message and why in message
    assert message.index(named) < message.index(" — ")  # Vietnamese first


async def test_a_workbook_of_another_unit_is_refused(
    dropped: tuple[ExportAdapter, Path, dict[str, object]],
) -> None:
    port, folder, doc = dropped
    book = notice_workbook(doc, cells={"A3": "maDonVi", "B3": "TZ0000X"})  # type: ignore[arg-type]
    (folder / NOTICE_XLSX).write_bytes(book)
    with pytest.raises(InputRefused, match="thông báo của đơn vị TZ0000X, không phải TZ9001A"):
        await port.contribution_notice(UNIT.code, NOTICE_PERIOD)


async def test_an_unsafe_workbook_package_is_refused(
    dropped: tuple[ExportAdapter, Path, dict[str, object]],
) -> None:
    port, folder, _ = dropped
    (folder / NOTICE_XLSX).write_bytes(b"not a zip at all")
    with pytest.raises(InputRefused, match="không phải tệp Excel"):
        await port.contribution_notice(UNIT.code, NOTICE_PERIOD)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda d: d["c12s"][4].update(bhxh="2,655,000"), "số tiền không phải số nguyên VND"),
        (lambda d: d["c12s"].append(dict(d["c12s"][4])), "dòng xuất hiện hai lần"),
        (lambda d: d.pop("c12s"), "thiếu trường bắt buộc"),
    ],
)
async def test_a_hostile_json_is_refused_by_the_parser_naming_the_row(
    dropped: tuple[ExportAdapter, Path, dict[str, object]],
    edit: Callable[[dict[str, object]], object],
    why: str,
) -> None:
    port, folder, doc = dropped
    edit(doc)
    (folder / NOTICE_JSON).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    document = await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
    assert document is not None
    with pytest.raises(C12NoticeInvalid, match=why) as refused:
        parse_c12(document.data, period=NOTICE_PERIOD, unit=UNIT.code, source=document.source)
    assert "C12-TS.json" in str(refused.value)


async def test_a_json_with_a_key_twice_or_not_an_object_is_refused(
    dropped: tuple[ExportAdapter, Path, dict[str, object]],
) -> None:
    port, folder, _ = dropped
    (folder / NOTICE_JSON).write_bytes(b'{"maCqBhxh": "1", "maCqBhxh": "2", "c12s": []}')
    with pytest.raises(InputRefused, match="'maCqBhxh' xuất hiện hai lần"):
        await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
    (folder / NOTICE_JSON).write_bytes(b"[1, 2]")
    with pytest.raises(InputRefused, match="không chứa một đối tượng JSON"):
        await port.contribution_notice(UNIT.code, NOTICE_PERIOD)


async def test_two_dropped_files_are_refused(
    dropped: tuple[ExportAdapter, Path, dict[str, object]],
) -> None:
    port, folder, doc = dropped
    (folder / NOTICE_JSON).write_text(json.dumps(doc), encoding="utf-8")
    (folder / NOTICE_XLSX).write_bytes(notice_workbook(doc))  # type: ignore[arg-type]
    with pytest.raises(InputRefused, match="giữ lại một tệp"):
        await port.contribution_notice(UNIT.code, NOTICE_PERIOD)
