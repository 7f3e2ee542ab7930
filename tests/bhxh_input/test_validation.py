"""Validation collects every problem of a dossier, each with its exact text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bhxh.declarations import TK1Row, WorkerRow, build_d02ts, build_d05ts, build_tk1ts
from bhxh.errors import DossierInvalid
from bhxh.models import Dossier, UnitInfo
from bhxh.validation import DossierProblems, validate_dossier, validate_period

MakeDossier = Callable[..., Dossier]
Worker = Callable[..., WorkerRow]


def problems_of(dossier: Dossier, today: dt.date) -> tuple[str, ...]:
    with pytest.raises(DossierProblems) as exc:
        validate_dossier(dossier, today=today)
    err = exc.value
    assert isinstance(err, DossierInvalid)
    assert str(err).startswith(f"unit {dossier.unit.code}, dossier {dossier.name}, period ")
    for p in err.problems:
        assert p in str(err)
    return err.problems


def d02(unit: UnitInfo, *rows: WorkerRow, period: str = "01/2026") -> tuple[str, bytes]:
    return ("D02-TS", build_d02ts(unit, period, rows))


def one(problems: tuple[str, ...]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


# --- happy paths ---------------------------------------------------------------------------


def test_valid_600_dossier_passes(make_dossier: MakeDossier, today: dt.date) -> None:
    validate_dossier(make_dossier(), today=today)


def test_current_month_is_not_the_future(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    validate_dossier(
        make_dossier([d02(unit, worker(), period="02/2026")], period="02/2026"), today=today
    )


def test_attachments_are_allowed_when_ct_dk_is(make_dossier: MakeDossier, today: dt.date) -> None:
    validate_dossier(make_dossier(attachments=[("hop-dong.pdf", b"%PDF-1.7")]), today=today)


def test_registration_form_rooted_at_hoso_passes(make_dossier: MakeDossier, today: dt.date) -> None:
    form = b'<?xml version="1.0" encoding="UTF-8"?><Hoso><NoiDung/><CKy_Dvi/></Hoso>'
    dossier = make_dossier(
        [("05_SD-IVAN", form)], procedure="05", filenames={"05_SD-IVAN": "05_SD-IVAN.xml"}
    )
    validate_dossier(dossier, today=today)


# --- forms and procedure -------------------------------------------------------------------


def test_missing_required_form_uses_the_exact_text(
    make_dossier: MakeDossier, unit: UnitInfo, today: dt.date
) -> None:
    tk1 = build_tk1ts(unit, "01/2026", [TK1Row("Phạm Minh Khoa", "12/03/1985", "1")])
    problems = problems_of(make_dossier([("TK1-TS", tk1)]), today)
    assert one(problems) == "Thủ tục 600 thiếu tờ khai D02-TS"


def test_each_missing_form_of_602_is_named(
    make_dossier: MakeDossier, unit: UnitInfo, today: dt.date
) -> None:
    d05 = build_d05ts(unit, "01/2026", [{"STT": 1, "HoTen": "A"}])
    problems = problems_of(make_dossier([("D05-TS", d05)], procedure="602"), today)
    assert one(problems) == "Thủ tục 602 thiếu tờ khai TK1-TS"


def test_form_not_allowed_uses_the_exact_text(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    d05 = build_d05ts(unit, "01/2026", [{"STT": 1, "HoTen": "A"}])
    dossier = make_dossier([("D05-TS", d05), d02(unit, worker())], procedure="603")
    assert one(problems_of(dossier, today)) == "Thủ tục 603 không cho phép nộp tờ khai D02-TS"


def test_attachments_where_ct_dk_is_not_allowed(make_dossier: MakeDossier, today: dt.date) -> None:
    form = b"<Hoso><NoiDung/><CKy_Dvi/></Hoso>"
    dossier = make_dossier(
        [("05_SD-IVAN", form)],
        procedure="05",
        filenames={"05_SD-IVAN": "05_SD-IVAN.xml"},
        attachments=[("scan.pdf", b"%PDF")],
    )
    assert one(problems_of(dossier, today)) == "Thủ tục 05 không cho phép nộp tờ khai CT-DK"


def test_unknown_procedure_is_named(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = one(problems_of(make_dossier(procedure="999"), today))
    assert problem.startswith("unknown procedure (MaThuTuc) '999'; known procedures: 600, 601")


def test_declaration_under_a_wrong_file_name(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = one(problems_of(make_dossier(filenames={"D02-TS": "bao-tang.xml"}), today))
    assert problem == "file bao-tang.xml: a D02-TS declaration must be named D02-TS-595.xml"


def test_same_form_twice(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    dossier = make_dossier([d02(unit, worker()), d02(unit, worker())])
    assert "form D02-TS is given more than once" in problems_of(dossier, today)


# --- unit and period -----------------------------------------------------------------------


def test_tax_code_that_does_not_match_the_unit(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    other = UnitInfo(code=unit.code, tax_code="0109999999", name=unit.name, agency_code="07906")
    problem = one(problems_of(make_dossier([d02(other, worker())]), today))
    assert problem == (
        "file D02-TS-595.xml, field MaSoThue: '0109999999' does not match "
        "the unit's tax code '0101234567'"
    )


def test_unit_code_that_does_not_match_the_unit(
    make_dossier: MakeDossier, unit: UnitInfo, other_unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    problems = problems_of(make_dossier([d02(other_unit, worker())]), today)
    assert (
        "file D02-TS-595.xml, field MaDonVi: 'YB9999Z' does not match the unit's code 'TZ1234A'"
        in problems
    )


def test_declaration_period_must_match_the_dossier(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    dossier = make_dossier([d02(unit, worker(), period="12/2025")])
    assert "field KyKeKhai: '12/2025' does not match the dossier's period '01/2026'" in one(
        problems_of(dossier, today)
    )


@pytest.mark.parametrize("period", ["13/2026", "1/2026", "2026-01", "00/2026", "01/26", ""])
def test_bad_period_is_refused(period: str) -> None:
    with pytest.raises(DossierInvalid, match=r"is not MM/yyyy with a month 01-12"):
        validate_period(period)


def test_good_period_gives_month_and_year() -> None:
    assert validate_period("12/2025") == (12, 2025)


def test_bad_period_in_a_dossier(make_dossier: MakeDossier, today: dt.date) -> None:
    problems = problems_of(make_dossier(period="13/2026"), today)
    assert "period (KyKeKhai) '13/2026' is not MM/yyyy with a month 01-12, e.g. '01/2026'" in (
        problems
    )


def test_future_period_is_refused(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    dossier = make_dossier([d02(unit, worker(), period="03/2026")], period="03/2026")
    assert one(problems_of(dossier, today)) == (
        "period (KyKeKhai) 03/2026 is in the future (current month 02/2026)"
    )


# --- D02-TS rows ---------------------------------------------------------------------------


def row_problem(make_dossier: MakeDossier, unit: UnitInfo, today: dt.date, *rows: WorkerRow) -> str:
    return one(problems_of(make_dossier([d02(unit, *rows)]), today))


def test_duplicate_worker_by_bhxh_number(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    problem = row_problem(make_dossier, unit, today, worker(), worker(CMND="001190000099"))
    assert problem == (
        "file D02-TS-595.xml, row 2 (STT 2), field MasoBHXH: worker 0123456789 appears twice "
        "(already in row 1)"
    )


def test_duplicate_worker_by_identity_card(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    problem = row_problem(make_dossier, unit, today, worker(), worker(MasoBHXH=""))
    assert "row 2 (STT 2), field CMND: worker 001190000001 appears twice" in problem


@pytest.mark.parametrize("number", ["01234ABCDE", "01234567890", "１２３"])
def test_bhxh_number_must_be_at_most_ten_digits(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date, number: str
) -> None:
    problem = row_problem(make_dossier, unit, today, worker(MasoBHXH=number))
    assert problem == (
        f"file D02-TS-595.xml, row 1 (STT 1), field MasoBHXH: {number!r} must be digits only, "
        "at most 10 digits"
    )


def test_salary_zero_is_refused(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    problem = row_problem(make_dossier, unit, today, worker(TienLuong=0))
    assert problem == (
        "file D02-TS-595.xml, row 1 (STT 1), field TienLuong: '0' must be a whole number of VND "
        "above 0"
    )


def test_unknown_pa_code_is_refused(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    problem = row_problem(make_dossier, unit, today, worker(PA="XX"))
    assert problem.startswith("file D02-TS-595.xml, row 1 (STT 1), field PA: unknown code 'XX'")


def test_name_longer_than_100_characters(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    problem = row_problem(make_dossier, unit, today, worker(HoTen="Â" * 101))
    assert problem == (
        "file D02-TS-595.xml, row 1 (STT 1), field HoTen: 101 characters, at most 100 allowed"
    )


def test_notes_and_position_limits(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    dossier = make_dossier([d02(unit, worker(ChucVu="x" * 501, Ghichu="y" * 501))])
    problems = problems_of(dossier, today)
    assert len(problems) == 2
    assert "field ChucVu: 501 characters, at most 500 allowed" in problems[0]
    assert "field Ghichu: 501 characters, at most 500 allowed" in problems[1]


def test_required_row_fields(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    dossier = make_dossier([d02(unit, worker(PA="", HoTen="", ChucVu=""))])
    assert problems_of(dossier, today) == tuple(
        f"file D02-TS-595.xml, row 1 (STT 1), field {f}: required"
        for f in ("PA", "HoTen", "ChucVu")
    )


def test_d02ts_without_rows(make_dossier: MakeDossier, unit: UnitInfo, today: dt.date) -> None:
    assert one(problems_of(make_dossier([d02(unit)]), today)) == (
        "file D02-TS-595.xml: no worker rows (NoiDung/LaoDong)"
    )


def test_every_problem_is_collected(
    make_dossier: MakeDossier, other_unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    dossier = make_dossier(
        [d02(other_unit, worker(TienLuong=0), worker(PA="ZZ", MasoBHXH="1", CMND="2"))],
        attachments=[("a.pdf", b""), ("a.pdf", b"")],
    )
    problems = problems_of(dossier, today)
    assert len(problems) == 5
    assert "5 problems" in str(DossierProblems("U", "d", "01/2026", problems))


# --- TK1-TS rows ---------------------------------------------------------------------------


def test_tk1ts_required_fields(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    tk1 = build_tk1ts(unit, "01/2026", [TK1Row("", "1985-03-12", "1", QuocTich="")])
    problems = problems_of(make_dossier([d02(unit, worker()), ("TK1-TS", tk1)]), today)
    assert problems == (
        "file TK1-TS-595.xml, row 1 (STT 1), field HoTen: required",
        "file TK1-TS-595.xml, row 1 (STT 1), field QuocTich: required",
        "file TK1-TS-595.xml, row 1 (STT 1), field NgaySinh: '1985-03-12' must be dd/MM/yyyy, "
        "MM/yyyy or yyyy",
    )


# --- unsafe or wrong XML inside a dossier --------------------------------------------------


def test_wrong_root_in_a_dossier_names_the_file(make_dossier: MakeDossier, today: dt.date) -> None:
    dossier = make_dossier([("D02-TS", b"<TK1-TS><Cky/></TK1-TS>")])
    assert one(problems_of(dossier, today)) == (
        "file D02-TS-595.xml: wrong root element: expected <D02-TS>, found <TK1-TS>"
    )


def test_doctype_in_a_dossier_is_refused(make_dossier: MakeDossier, today: dt.date) -> None:
    bad = b'<!DOCTYPE D02-TS [<!ENTITY x SYSTEM "file:///etc/passwd">]><D02-TS>&x;</D02-TS>'
    problem = one(problems_of(make_dossier([("D02-TS", bad)]), today))
    assert problem.startswith("file D02-TS-595.xml: DOCTYPE")


def test_malformed_declaration_in_a_dossier(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = one(problems_of(make_dossier([("D02-TS", b"<D02-TS><Cky></D02-TS>")]), today))
    assert problem.startswith("file D02-TS-595.xml: malformed XML at line 1")


def test_error_is_a_value_error_too(make_dossier: MakeDossier, today: dt.date) -> None:
    with pytest.raises(ValueError):
        validate_dossier(make_dossier(procedure="999"), today=today)
