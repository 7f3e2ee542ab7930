"""The period overview (bhxh.overview): statuses, next actions, totals, warnings, Markdown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from bhxh.overview import (
    STATUS_LABELS,
    Limits,
    UnitFacts,
    UnitState,
    build_overview,
    dossier_row,
    dossier_status,
    read_unit_state,
)
from bhxh.periods import contribution_due, previous_period
from bhxh.pipeline import DossierStore, Pipeline, Step, StoredFile
from tests.bhxh.overview.journal import (
    T0,
    acknowledged,
    business_steps,
    journal,
    prepared,
    requested,
    signed,
    vss,
)

PERIOD = "01/2026"
UNIT = UnitFacts("TA0001A", "Công ty TNHH An Phát", account="anphat.ketoan", ivan_code="00110")
NOW = dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC)  # 10:00 in Hà Nội, 10/02/2026


def _accepted() -> dict[str, object]:
    return vss("accepted", outcome="accepted", messages=("Hồ sơ đã được giải quyết: chấp nhận",))


def test_an_accepted_dossier_shows_its_receipt_promised_date_and_nothing_to_do() -> None:
    view = journal("TA0001A", PERIOD, "600", *business_steps(result=_accepted()))
    row = dossier_row(view, unit_name=UNIT.name, ivan_code="00110", now=NOW)
    assert (row.status, row.action) == ("accepted", "none")
    assert (row.so_ho_so, row.dot, row.promised_date) == ("00012/2026/07906", 1, "2026-02-17")
    assert (row.approvals, row.approvals_needed) == (2, 2)
    assert row.where == "gateway (I-VAN 00110)"
    assert row.action_en == "nothing to do" and row.action_vi == "Không cần làm gì"
    assert row.status_vi == "Đã được chấp nhận"


@pytest.mark.parametrize(
    ("result", "status", "english"),
    [
        (
            vss("rejected", outcome="rejected", messages=("Sai mã số BHXH của người lao động",)),
            "rejected",
            "refused: Sai mã số BHXH của người lao động",
        ),
        (
            vss(
                "supplement_requested",
                outcome="supplement",
                messages=("Bổ sung bản sao hợp đồng lao động",),
            ),
            "supplement_requested",
            "supplement requested: Bổ sung bản sao hợp đồng lao động",
        ),
        (
            vss("rejected_at_receipt", None, outcome="rejected_at_receipt", messages=("Sai kỳ",)),
            "rejected_at_receipt",
            "refused: Sai kỳ",
        ),
    ],
    ids=["refused", "supplement", "refused-at-receipt"],
)
def test_a_refusal_or_a_supplement_request_names_vss_message_as_the_next_action(
    result: dict[str, object], status: str, english: str
) -> None:
    view = journal("TA0001A", PERIOD, "600", *business_steps(result=result))
    row = dossier_row(view, now=NOW)
    assert row.status == status
    assert row.action_en == english
    assert english.split(": ", 1)[1] in row.action_vi


def test_a_refusal_by_the_carrier_at_hand_over_is_refused_with_its_words() -> None:
    steps = [
        *business_steps()[:7],
        (Step.FAILED, {"message": "Code 1: Thông tin không map được theo danh mục", "code": "1"}),
    ]
    row = dossier_row(journal("TA0001A", PERIOD, "600", *steps), now=NOW)
    assert row.status == "failed"
    assert row.action_en == "refused: Code 1: Thông tin không map được theo danh mục"


def test_a_dossier_on_the_phone_names_the_account_to_approve_with() -> None:
    later = NOW + dt.timedelta(minutes=5)
    view = journal(
        "TA0001A",
        PERIOD,
        "600",
        (Step.PREPARED, prepared()),
        (Step.ROUND1_REQUESTED, requested("TX-1", later)),
    )
    row = dossier_row(view, account="anphat.ketoan", now=NOW)
    assert row.status == "waiting_approval"
    assert row.action_en == "approve on the phone of anphat.ketoan"
    assert row.action_vi == "Duyệt ký trên điện thoại của anphat.ketoan"


def test_an_expired_request_asks_for_a_new_run() -> None:
    view = journal(
        "TA0001A",
        PERIOD,
        "600",
        (Step.PREPARED, prepared()),
        (Step.ROUND1_REQUESTED, requested("TX-1", NOW - dt.timedelta(minutes=1))),
    )
    assert dossier_row(view, account="a", now=NOW).action == "ask_again"


def test_a_request_journalled_before_the_call_is_not_on_any_phone() -> None:
    view = journal(
        "TA0001A",
        PERIOD,
        "600",
        (Step.PREPARED, prepared()),
        (Step.ROUND1_REQUESTED, requested(None)),
    )
    assert dossier_status(view) == "to_sign"


@pytest.mark.parametrize(
    ("cut", "status", "action"),
    [
        (0, "to_sign", "sign"),
        (3, "to_sign", "sign"),  # round 1 applied, round 2 not requested yet
        (6, "signed", "hand_over"),
        (7, "submitting", "hand_over"),
        (8, "submitted", "wait"),
        (9, "numbered", "wait"),
    ],
)
def test_every_step_on_the_way_has_a_status_and_a_next_action(
    cut: int, status: str, action: str
) -> None:
    view = journal("TA0001A", PERIOD, "600", *business_steps()[:cut])
    row = dossier_row(view, now=NOW)
    assert (row.status, row.action) == (status, action)
    assert row.status in STATUS_LABELS
    if action == "wait":
        assert row.action_en == "waiting for VSS"


def test_an_exported_dossier_without_receipt_asks_for_the_ivan_software_receipt() -> None:
    steps = business_steps(route="export")[:8]
    row = dossier_row(journal("TD0004D", PERIOD, "600", *steps), ivan_code="00040", now=NOW)
    assert (row.status, row.action) == ("exported", "enter_receipt")
    assert row.where == "export (I-VAN 00040)"
    assert "receipts.csv" in row.action_en


def test_totals_per_status_and_one_row_per_unit_and_dossier() -> None:
    other = UnitFacts("TB0002B", "Công ty CP Bình Minh")
    empty = UnitFacts("TC0003C", "Công ty TNHH Cửu Long")
    states = [
        UnitState(
            UNIT,
            views=(
                journal("TA0001A", PERIOD, "600", *business_steps(result=_accepted())),
                journal("TA0001A", PERIOD, "602", *business_steps()),
            ),
        ),
        UnitState(
            other, views=(journal("TB0002B", PERIOD, "600", *business_steps(result=_accepted())),)
        ),
        UnitState(empty),
    ]
    overview = build_overview(PERIOD, states, now=NOW)
    assert overview.totals == {"numbered": 1, "accepted": 2}
    # Sorted by what each unit needs: TC0003C has no certificate chosen (the accountant
    # acts), TA0001A waits for VSS, TB0002B is done.
    assert [u.unit for u in overview.units] == ["TC0003C", "TA0001A", "TB0002B"]
    assert [u.status for u in overview.units] == ["no_certificate", "waiting", "done"]
    assert [u.dossiers for u in overview.units] == [0, 2, 1]
    assert [u.approvals for u in overview.units] == [0, 2, 2]  # TX-1, TX-2 shared in a unit
    assert [r.unit for r in overview.rows] == ["TA0001A", "TA0001A", "TB0002B"]
    markdown = overview.to_markdown()
    for code in ("TA0001A", "TB0002B", "TC0003C"):
        assert code in markdown
    assert "Đã được chấp nhận | accepted | 2" in markdown
    assert "Không cần làm gì** / nothing to do" in markdown
    assert "00012/2026/07906" in markdown
    assert "17/02/2026" in markdown  # the promised date, as an accountant writes it


def test_markdown_cells_cannot_break_the_table_or_inject_html() -> None:
    hostile = UnitFacts("TA0001A", "A | B <script>alert(1)</script> **x**")
    overview = build_overview(PERIOD, [UnitState(hostile)], now=NOW)
    markdown = overview.to_markdown()
    assert "<script>" not in markdown
    assert "A \\| B &lt;script&gt;" in markdown
    assert "\\*\\*x\\*\\*" in markdown


# ------------------------------------------------------------------------------ warnings
def _kinds(states: list[UnitState], now: dt.datetime = NOW, **limits: int) -> list[str]:
    overview = build_overview(PERIOD, states, now=now, limits=Limits(**limits))
    return [w.kind for w in overview.warnings]


def test_a_certificate_expiring_within_the_limit_is_a_warning_with_its_date() -> None:
    unit = dataclasses.replace(
        UNIT, certificate_serial="5A3F", certificate_not_after=NOW + dt.timedelta(days=12)
    )
    overview = build_overview(
        PERIOD, [UnitState(unit)], now=NOW, limits=Limits(certificate_days=30)
    )
    (warning,) = overview.warnings
    assert (warning.kind, warning.days, warning.unit) == ("certificate-expiring", 12, "TA0001A")
    assert "22/02/2026" in warning.message_vi and "5A3F" in warning.message_en
    assert _kinds([UnitState(unit)], certificate_days=10) == []


def test_an_expired_certificate_is_a_warning_and_days_are_counted_in_vietnam() -> None:
    ends = dt.datetime(2026, 2, 9, 20, 0, tzinfo=dt.UTC)  # 03:00 on 10/02 in Hà Nội
    unit = dataclasses.replace(UNIT, certificate_not_after=ends)
    evening = dt.datetime(2026, 2, 9, 16, 0, tzinfo=dt.UTC)  # 23:00 on 09/02 in Hà Nội
    overview = build_overview(PERIOD, [UnitState(unit)], now=evening)
    (warning,) = overview.warnings
    assert (warning.kind, warning.days) == ("certificate-expiring", 1)  # UTC would say 0
    assert "10/02/2026" in warning.message_vi
    assert _kinds([UnitState(unit)], now=ends) == ["certificate-expired"]


def test_a_unit_with_nothing_in_the_inbox_after_a_month_with_dossiers_is_warned() -> None:
    before = journal("TA0001A", "12/2025", "600", *business_steps(result=_accepted()))
    state = UnitState(UNIT, previous=(before,))
    overview = build_overview(PERIOD, [state], now=NOW)
    (warning,) = overview.warnings
    assert warning.kind == "inbox-empty"
    assert "12/2025" in warning.message_en and "01/2026" in warning.message_vi
    # Something waiting in the inbox, a dossier in the store, or an empty month before: no.
    assert _kinds([dataclasses.replace(state, inbox_folders=1)]) == []
    assert _kinds([UnitState(UNIT)]) == []
    # Nor while the period is still running (its dossiers may still come).
    during = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    assert _kinds([state], now=during) == []


def test_contributions_due_soon_with_dossiers_not_accepted_is_a_warning() -> None:
    assert contribution_due("01/2026") == dt.date(2026, 2, 28)
    assert contribution_due("12/2025") == dt.date(2026, 1, 31)
    assert previous_period("01/2026") == "12/2025"
    waiting = journal("TA0001A", PERIOD, "600", *business_steps())
    state = UnitState(UNIT, views=(waiting,))
    near = dt.datetime(2026, 2, 24, 3, 0, tzinfo=dt.UTC)
    overview = build_overview(PERIOD, [state], now=near, limits=Limits(deadline_days=7))
    (warning,) = overview.warnings
    assert (warning.kind, warning.days) == ("deadline-near", 4)
    assert "28/02/2026" in warning.message_vi
    assert _kinds([state], now=NOW, deadline_days=7) == []  # 18 days left
    assert _kinds([state], now=near + dt.timedelta(days=6)) == ["deadline-passed"]
    done = UnitState(
        UNIT, views=(journal("TA0001A", PERIOD, "600", *business_steps(result=_accepted())),)
    )
    assert _kinds([done], now=near) == []


def test_a_05_change_pending_for_days_is_a_warning_naming_the_dossier() -> None:
    change = journal(
        "TA0001A",
        "02/2026",
        "05",
        (Step.ENVELOPE_PREPARED, prepared()),
        (Step.ROUND2_REQUESTED, requested("TX-9")),
        (Step.SIGNED, signed("TX-9")),
        (Step.SUBMITTING, {"file": "05.xml"}),
        (Step.SUBMITTED, acknowledged()),
        start=T0,
    )
    state = UnitState(UNIT, changes=(change,))
    assert _kinds([state], now=T0 + dt.timedelta(days=2), change_pending_days=5) == []
    overview = build_overview(
        PERIOD, [state], now=T0 + dt.timedelta(days=6), limits=Limits(change_pending_days=5)
    )
    (warning,) = overview.warnings
    assert (warning.kind, warning.dossier, warning.procedure) == ("change-pending", change.id, "05")
    assert "6 day(s)" in warning.message_en
    accepted = journal(
        "TA0001A", "02/2026", "05", *[(e.step, dict(e.data)) for e in change.record.steps[1:]],
        (Step.RESULT, _accepted()),
    )  # fmt: skip
    assert _kinds([UnitState(UNIT, changes=(accepted,))], now=T0 + dt.timedelta(days=9)) == []


def test_warning_keys_stay_the_same_from_one_day_to_the_next() -> None:
    unit = dataclasses.replace(UNIT, certificate_not_after=NOW + dt.timedelta(days=5))
    first = build_overview(PERIOD, [UnitState(unit)], now=NOW).warnings[0]
    second = build_overview(PERIOD, [UnitState(unit)], now=NOW + dt.timedelta(days=1)).warnings[0]
    assert first.key == second.key and first.days == second.days + 1


def test_read_unit_state_reads_the_store_and_counts_inbox_folders(tmp_path: Path) -> None:
    store = DossierStore(tmp_path / "store")
    pipeline = Pipeline(store, tmp_path / "outbox")
    inbox = tmp_path / "inbox"
    (inbox / "TA0001A" / "01-2026" / "01-bao-tang").mkdir(parents=True)
    (inbox / "TA0001A" / "01-2026" / ".hidden").mkdir()

    def stored(period: str, procedure: str, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        file = StoredFile("declaration", "D02-TS", "D02-TS-595.xml", digest)
        return store.create("TA0001A", period, procedure, "x", [(file, "source/a", content)]).id

    business = stored(PERIOD, "600", b"<D02-TS/>")
    change = stored("02/2026", "05", b"<TK1-TS/>")
    stored("01/2025", "05", b"<old/>")  # more than a year before: not looked at
    state = read_unit_state(UNIT, pipeline, inbox, PERIOD, now=NOW)
    assert (state.inbox_folders, state.previous_inbox_folders) == (1, 0)
    assert [v.id for v in state.views] == [business]
    assert [v.id for v in state.changes] == [change]


# ------------------------------------------------------------------------------ the month view
def _headline_agrees_with_the_units(overview_: object) -> None:
    from bhxh.overview import Overview

    assert isinstance(overview_, Overview)
    units = overview_.units
    h = overview_.headline
    assert h["units"] == len(units)
    assert h["need_you"] == sum(1 for u in units if u.needs_you)
    assert h["dossiers"] == sum(u.dossiers for u in units) == len(overview_.rows)
    assert h["inbox"] == sum(u.inbox for u in units)
    assert h["to_act_on"] == sum(u.open_actions for u in units)
    # The totals by status count the same dossiers: the ones read and the inbox's.
    assert sum(overview_.totals.values()) == h["dossiers"] + h["inbox"]
    assert overview_.totals.get("in_inbox", 0) == h["inbox"]
    summary = overview_.summary()
    assert f"{h['need_you']} đơn vị cần bạn xử lý" in summary
    assert f"{h['inbox']} hồ sơ còn trong hộp thư" in summary
    assert f"{h['to_act_on']} hồ sơ cần làm" in summary
    assert summary in overview_.to_markdown().replace("\\", "")


def test_dossiers_in_the_inbox_and_no_certificate_show_both_and_what_unblocks_it() -> None:
    """The state the issue found: this month's dossier waiting in the inbox of two units
    whose certificate is not chosen yet; the month view said "0 to act on"."""
    ready = dataclasses.replace(
        UNIT, certificate_serial="5A3F", certificate_not_after=NOW + dt.timedelta(days=400)
    )
    accepted = journal("TA0001A", PERIOD, "600", *business_steps(result=_accepted()))
    states = [
        UnitState(ready, views=(accepted,), inbox_folders=1, inbox_names=(accepted.name,)),
        UnitState(
            UnitFacts("TB0002B", "Công ty CP Bình Minh"),
            inbox_folders=1,
            inbox_names=("01-bao-tang",),
        ),
        UnitState(
            UnitFacts("TC0003C", "Công ty TNHH Cửu Long"),
            inbox_folders=2,
            inbox_names=("01-bao-tang", "02-dieu-chinh"),
        ),
    ]
    overview = build_overview(PERIOD, states, now=NOW)
    blocked = {u.unit: u for u in overview.units}
    for code, waiting in (("TB0002B", 1), ("TC0003C", 2)):
        row = blocked[code]
        assert (row.inbox, row.dossiers, row.open_actions) == (waiting, 0, waiting)
        assert not row.certificate_chosen
        assert row.status == "no_certificate" and row.needs_you
        assert (row.status_vi, row.status_en) == ("Chưa chọn chứng thư", "no certificate")
        assert "setup_remote_signing" in row.action_vi and "chọn chứng thư" in row.action_vi
        assert row.action_en.startswith("run setup_remote_signing to choose the certificate")
    # The loaded dossier's folder is not counted twice; the done unit comes last.
    assert (blocked["TA0001A"].inbox, blocked["TA0001A"].status) == (0, "done")
    assert [u.unit for u in overview.units] == ["TB0002B", "TC0003C", "TA0001A"]
    assert overview.headline["need_you"] == 2 and overview.headline["to_act_on"] == 3
    _headline_agrees_with_the_units(overview)
    markdown = overview.to_markdown()
    (line,) = [ln for ln in markdown.splitlines() if "**TC0003C**" in ln]
    assert "Chưa chọn chứng thư" in line and "chưa chọn / none chosen" in line
    assert "| 2 | 0 | 2 |" in line  # in the inbox, dossiers, to act on
    assert "run setup\\_remote\\_signing to choose the certificate" in line
    # The totals table counts the inbox's dossiers too (it said "no dossier yet · 0").
    assert overview.totals == {"in_inbox": 3, "accepted": 1}
    assert "| Trong hộp thư, chưa đọc | in the inbox, not read yet | 3 |" in markdown
    assert "no dossier yet" not in markdown


@pytest.mark.parametrize(
    ("steps", "status", "action"),
    [
        (business_steps(route="export")[:8], "to_receipt", "enter_receipt"),
        (
            business_steps(
                result=vss("rejected", outcome="rejected", messages=("Sai mã số BHXH",))
            ),
            "refused",
            "refused",
        ),
        (
            [(Step.PREPARED, prepared()), (Step.ROUND1_REQUESTED, requested("TX-9"))],
            "to_approve",
            "approve",
        ),
        ([], "to_sign", "sign"),
        (business_steps(), "waiting", "wait"),
    ],
    ids=["receipt", "refused", "phone", "sign", "vss"],
)
def test_a_unit_with_a_certificate_is_told_the_action_of_its_most_urgent_dossier(
    steps: list[tuple[Step, dict[str, object]]], status: str, action: str
) -> None:
    unit = dataclasses.replace(UNIT, certificate_serial="5A3F")
    view = journal("TA0001A", PERIOD, "600", *steps)
    later = journal("TA0001A", PERIOD, "600", *business_steps(result=_accepted()))
    overview = build_overview(PERIOD, [UnitState(unit, views=(later, view))], now=NOW)
    (row,) = overview.units
    dossier = next(r for r in overview.rows if r.dossier == view.id)
    assert (row.status, dossier.action) == (status, action)
    assert (row.action_vi, row.action_en) == (dossier.action_vi, dossier.action_en)
    assert row.needs_you == (status != "waiting")
    _headline_agrees_with_the_units(overview)


def test_a_unit_with_nothing_says_so_and_is_warned_when_the_deadline_nears() -> None:
    unit = dataclasses.replace(UNIT, certificate_serial="5A3F")
    early = build_overview(PERIOD, [UnitState(unit)], now=NOW)  # 18 days before the 28/02
    (row,) = early.units
    assert (row.status_vi, row.status_en) == ("Chưa có hồ sơ", "nothing yet")
    assert not row.needs_you and "Chưa có hồ sơ kỳ 01/2026" in row.action_vi
    assert not early.warnings
    late = NOW + dt.timedelta(days=14)
    (warning,) = build_overview(PERIOD, [UnitState(unit)], now=late).warnings
    assert warning.kind == "deadline-near" and warning.days == 4
    assert "chưa có hồ sơ nào cho kỳ 01/2026" in warning.message_vi
    assert "nothing for 01/2026 yet" in warning.message_en


def test_read_unit_state_tells_the_inbox_folders_no_run_has_read(tmp_path: Path) -> None:
    store = DossierStore(tmp_path / "store")
    pipeline = Pipeline(store, tmp_path / "outbox")
    inbox = tmp_path / "inbox"
    for name in ("01-bao-tang", "02-dieu-chinh"):
        (inbox / "TA0001A" / "01-2026" / name).mkdir(parents=True)
    content = b"<D02-TS/>"
    file = StoredFile(
        "declaration", "D02-TS", "D02-TS-595.xml", hashlib.sha256(content).hexdigest()
    )
    store.create("TA0001A", PERIOD, "600", "01-bao-tang", [(file, "source/a", content)])
    state = read_unit_state(UNIT, pipeline, inbox, PERIOD, now=NOW)
    assert state.inbox_names == ("01-bao-tang", "02-dieu-chinh")
    assert state.inbox_waiting == 1


def test_the_unit_table_shows_each_status_as_a_symbol_and_words_to_scan() -> None:
    states = [
        UnitState(UnitFacts("TB0002B", "Công ty CP Bình Minh"), inbox_folders=1),
        UnitState(
            dataclasses.replace(UNIT, certificate_serial="5A3F"),
            views=(journal("TA0001A", PERIOD, "600", *business_steps(result=_accepted())),),
        ),
    ]
    markdown = build_overview(PERIOD, states, now=NOW).to_markdown()
    first = {
        code: ln.split("|")[1].strip()
        for ln in markdown.splitlines()
        for code in ("TB0002B", "TA0001A")
        if f"**{code}**" in ln
    }
    assert first == {"TB0002B": "**⛔ Chưa chọn chứng thư**", "TA0001A": "**✅ Xong**"}
