"""Validation collects every problem of a dossier, each with its exact text: the forms of
the procedure, the period, and each declaration against the real files' content model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bhxh.errors import DossierInvalid
from bhxh.hrdata import TK1Row, WorkerRow, build_d02ts, build_d05ts, build_tk1ts
from bhxh.intake import DossierProblems, validate_dossier, validate_period
from bhxh.models import Dossier, UnitInfo
from tests.bhxh.intake.input_support import D02_ORDER, FIXTURES, raw_d02, row

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
    tk1 = build_tk1ts(
        unit, "01/2026", [TK1Row(HoTen="Phạm Minh Khoa", NgaySinh="12/03/1985", GioiTinh="1")]
    )
    problems = problems_of(make_dossier([("TK1-TS", tk1)]), today)
    assert one(problems) == "Thủ tục 600 thiếu tờ khai D02-TS"


def test_each_missing_form_of_602_is_named(
    make_dossier: MakeDossier, unit: UnitInfo, today: dt.date
) -> None:
    d05 = build_d05ts(unit, "01/2026", [{"STT": 1, "HoTen": "A", "PA": "TM"}])
    problems = problems_of(make_dossier([("D05-TS", d05)], procedure="602"), today)
    assert one(problems) == "Thủ tục 602 thiếu tờ khai TK1-TS"


def test_form_not_allowed_uses_the_exact_text(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    d05 = build_d05ts(unit, "01/2026", [{"STT": 1, "HoTen": "A", "PA": "TM"}])
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


# --- the real files' shape ---------------------------------------------------------------


def d02_raw(*rows: dict[str, str | None], **kwargs: object) -> tuple[str, bytes]:
    return ("D02-TS", raw_d02(*rows, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["D02-TS", "TK1-TS"])
def test_a_file_shaped_like_the_ivans_samples_passes(
    make_dossier: MakeDossier, form: str, today: dt.date
) -> None:
    content = (FIXTURES / "genuine" / f"{form}-595.xml").read_bytes()
    files = [("D02-TS", (FIXTURES / "genuine" / "D02-TS-595.xml").read_bytes())]
    if form != "D02-TS":
        files.append((form, content))
    validate_dossier(make_dossier(files), today=today)


def test_a_declaration_without_a_unit_header_passes(
    make_dossier: MakeDossier, today: dt.date
) -> None:
    validate_dossier(make_dossier([d02_raw(row())]), today=today)


def test_the_invented_unit_header_is_refused(make_dossier: MakeDossier, today: dt.date) -> None:
    header = "<KyKeKhai>01/2026</KyKeKhai><MaSoThue>0101234567</MaSoThue>"
    dossier = make_dossier([d02_raw(row(), top=header + raw_top())])
    problems = problems_of(dossier, today)
    assert problems == tuple(
        f"file D02-TS-595.xml: unexpected element <{tag}>; <D02-TS> holds ThongTinKhac, "
        "NoiDung, Cky"
        for tag in ("KyKeKhai", "MaSoThue")
    )


def raw_top() -> str:
    return (
        "<ThongTinKhac><SoToBiaSoBHXH>0</SoToBiaSoBHXH><SoToRoiSoBHXH>0</SoToRoiSoBHXH>"
        "<SoTheBHYT>0</SoTheBHYT></ThongTinKhac>"
    )


def test_thong_tin_khac_is_required(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = one(problems_of(make_dossier([d02_raw(row(), top="")]), today))
    assert problem == "file D02-TS-595.xml: <ThongTinKhac> is missing"


def test_a_field_out_of_order_is_named(make_dossier: MakeDossier, today: dt.date) -> None:
    order = list(D02_ORDER)
    order.remove("MavungLTT")
    order.insert(order.index("MavungSS"), "MavungLTT")
    problem = one(problems_of(make_dossier([d02_raw(row(), order=order)]), today))
    assert problem == (
        "file D02-TS-595.xml, row 1 (STT 1), field MavungSS: out of order, it comes before "
        "MavungLTT in a D02-TS"
    )


def test_a_field_the_form_does_not_have_is_named(make_dossier: MakeDossier, today: dt.date) -> None:
    content = raw_d02(row()).replace(b"<Loai/>", b"<MaTinh>01</MaTinh><Loai/>")
    problem = one(problems_of(make_dossier([("D02-TS", content)]), today))
    assert problem.startswith(
        "file D02-TS-595.xml, row 1 (STT 1): unexpected element <MaTinh>; <LaoDong> holds STT, "
        "HoTen, MasoBHXH"
    )


def test_a_field_given_twice_is_named(make_dossier: MakeDossier, today: dt.date) -> None:
    content = raw_d02(row()).replace(b"<PA>TM</PA>", b"<PA>TM</PA><PA>GH</PA>")
    problem = one(problems_of(make_dossier([("D02-TS", content)]), today))
    assert problem == "file D02-TS-595.xml, row 1 (STT 1), field PA: appears twice"


def test_required_fields_left_out_are_named_with_the_portals_words(
    make_dossier: MakeDossier, today: dt.date
) -> None:
    problems = problems_of(make_dossier([d02_raw(row(TinhLai=None, DaCoSo=None))]), today)
    assert problems == tuple(
        f"file D02-TS-595.xml, row 1 (STT 1), field {f}: missing, required (Không được để trống)"
        for f in ("TinhLai", "DaCoSo")
    )


def test_optional_fields_may_be_left_out_as_dotnet_does_for_nulls(
    make_dossier: MakeDossier, today: dt.date
) -> None:
    sparse = {f: None for f in D02_ORDER if f not in row() or not row()[f]}
    validate_dossier(make_dossier([d02_raw(row(**sparse))]), today=today)


def test_cky_must_be_empty_and_last(make_dossier: MakeDossier, today: dt.date) -> None:
    signed = raw_d02(row()).replace(b"<Cky/>", b"<Cky>x</Cky>")
    assert one(problems_of(make_dossier([("D02-TS", signed)]), today)) == (
        "file D02-TS-595.xml: <Cky> must be empty (the signature goes there)"
    )
    moved = raw_d02(row()).replace(b"<Cky/>", b"").replace(b"<NoiDung>", b"<Cky/><NoiDung>")
    assert one(problems_of(make_dossier([("D02-TS", moved)]), today)) == (
        "file D02-TS-595.xml, field NoiDung: out of order, it comes before Cky in a D02-TS"
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("TinhLai", "có", "'có' must be 0 or 1"),
        ("MavungLTT", "1", "'1' must be a code of 2 digits, e.g. 01"),
        ("TyleDong", "32%", "'32%' is not a number such as 32.0"),
        ("TuThang", "1/2026", "'1/2026' must be MM/yyyy with a month 01-12, e.g. 01/2026"),
        ("Hdld_tungay", "31/02/2026", "'31/02/2026' must be a date dd/MM/yyyy"),
        ("PhuCapCV", "500.000", "'500.000' is not a whole number of VND"),
    ],
)
def test_values_in_the_wrong_format_are_named(
    make_dossier: MakeDossier, today: dt.date, field: str, value: str, words: str
) -> None:
    problem = one(problems_of(make_dossier([d02_raw(row(**{field: value}))]), today))
    assert problem == f"file D02-TS-595.xml, row 1 (STT 1), field {field}: {words}"


def test_den_thang_before_tu_thang(make_dossier: MakeDossier, today: dt.date) -> None:
    dossier = make_dossier([d02_raw(row(TuThang="01/2026", DenThang="12/2025"))])
    assert one(problems_of(dossier, today)) == (
        "file D02-TS-595.xml, row 1 (STT 1), field DenThang: 12/2025 is before TuThang 01/2026"
    )


def test_problems_of_one_file_stop_at_fifty_and_count_the_rest(
    make_dossier: MakeDossier, today: dt.date
) -> None:
    rows = [row(STT=str(i), MasoBHXH=str(i), CMND=str(i), TinhLai="x") for i in range(1, 61)]
    problems = problems_of(make_dossier([d02_raw(*rows)]), today)
    assert len(problems) == 51
    assert problems[-1] == "file D02-TS-595.xml: and 10 more problems"


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


def row_problem(make_dossier: MakeDossier, today: dt.date, *rows: dict[str, str | None]) -> str:
    return one(problems_of(make_dossier([d02_raw(*rows)]), today))


def test_duplicate_worker_by_bhxh_number(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = row_problem(make_dossier, today, row(), row(STT="2", CMND="001190000099"))
    assert problem == (
        "file D02-TS-595.xml, row 2 (STT 2), field MasoBHXH: worker 0123456789 appears twice "
        "(already in row 1)"
    )


def test_duplicate_worker_by_identity_card(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = row_problem(make_dossier, today, row(), row(STT="2", MasoBHXH=""))
    assert "row 2 (STT 2), field CMND: worker 001190000001 appears twice" in problem


@pytest.mark.parametrize("number", ["01234ABCDE", "01234567890", "１２３"])
def test_bhxh_number_must_be_at_most_ten_digits(
    make_dossier: MakeDossier, today: dt.date, number: str
) -> None:
    problem = row_problem(make_dossier, today, row(MasoBHXH=number))
    assert problem == (
        f"file D02-TS-595.xml, row 1 (STT 1), field MasoBHXH: {number!r} must be digits only, "
        "at most 10 digits"
    )


def test_salary_zero_is_refused(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = row_problem(make_dossier, today, row(TienLuong="0"))
    assert problem == (
        "file D02-TS-595.xml, row 1 (STT 1), field TienLuong: '0' must be a whole number of VND "
        "above 0"
    )


def test_unknown_pa_code_is_refused(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = row_problem(make_dossier, today, row(PA="XX"))
    assert problem.startswith("file D02-TS-595.xml, row 1 (STT 1), field PA: unknown code 'XX'")


def test_name_longer_than_100_characters(make_dossier: MakeDossier, today: dt.date) -> None:
    problem = row_problem(make_dossier, today, row(HoTen="Â" * 101))
    assert problem == (
        "file D02-TS-595.xml, row 1 (STT 1), field HoTen: 101 characters, at most 100 allowed"
    )


def test_notes_and_position_limits(make_dossier: MakeDossier, today: dt.date) -> None:
    dossier = make_dossier([d02_raw(row(ChucVu="x" * 501, Ghichu="y" * 501))])
    problems = problems_of(dossier, today)
    assert len(problems) == 2
    assert "field ChucVu: 501 characters, at most 500 allowed" in problems[0]
    assert "field Ghichu: 501 characters, at most 500 allowed" in problems[1]


def test_required_row_fields(make_dossier: MakeDossier, today: dt.date) -> None:
    dossier = make_dossier([d02_raw(row(PA="", HoTen="", ChucVu="", TienLuong=""))])
    assert problems_of(dossier, today) == tuple(
        f"file D02-TS-595.xml, row 1 (STT 1), field {f}: required (Không được để trống)"
        for f in ("HoTen", "ChucVu", "TienLuong", "PA")
    )


def test_d02ts_without_rows(make_dossier: MakeDossier, today: dt.date) -> None:
    assert one(problems_of(make_dossier([d02_raw()]), today)) == (
        "file D02-TS-595.xml: no worker rows (NoiDung/LaoDong)"
    )


def test_every_problem_is_collected(make_dossier: MakeDossier, today: dt.date) -> None:
    dossier = make_dossier(
        [d02_raw(row(TienLuong="0"), row(STT="2", PA="ZZ", MasoBHXH="1", CMND="2"))],
        attachments=[("a.pdf", b""), ("a.pdf", b"")],
        period="03/2026",
    )
    problems = problems_of(dossier, today)
    assert len(problems) == 4
    assert "4 problems" in str(DossierProblems("U", "d", "01/2026", problems))


# --- TK1-TS rows ---------------------------------------------------------------------------


def test_tk1ts_required_fields(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    genuine = (FIXTURES / "genuine" / "TK1-TS-595.xml").read_bytes()
    tk1 = (
        genuine.replace("<HoTen>Đoàn Thị Mỹ Duyên</HoTen>".encode(), b"<HoTen />")
        .replace(b"<QuocTich>VN</QuocTich>", b"")
        .replace(b"<NgaySinh>14/09/1996</NgaySinh>", b"<NgaySinh>1996-09-14</NgaySinh>")
        .replace(b"<Maxa_KS>26734</Maxa_KS>", b"<Maxa_KS>2673</Maxa_KS>")
    )
    problems = problems_of(make_dossier([d02(unit, worker()), ("TK1-TS", tk1)]), today)
    assert problems == (
        "file TK1-TS-595.xml, row 1 (STT 1), field HoTen: required (Không được để trống)",
        "file TK1-TS-595.xml, row 1 (STT 1), field NgaySinh: '1996-09-14' must be dd/MM/yyyy, "
        "MM/yyyy or yyyy",
        "file TK1-TS-595.xml, row 1 (STT 1), field Maxa_KS: '2673' must be a code of 5 digits, "
        "e.g. 00001",
        "file TK1-TS-595.xml, row 1 (STT 1), field QuocTich: missing, required "
        "(Không được để trống)",
    )


def test_a_d01ts_list_of_documents_is_checked_too(
    make_dossier: MakeDossier, unit: UnitInfo, worker: Worker, today: dt.date
) -> None:
    d01 = (
        b"<D01-TS><NoiDung><TenBangKe>B</TenBangKe><BangKe><ThongTin><STT>1</STT>"
        b"<NgayBanHanh>05/01/2026</NgayBanHanh></ThongTin></BangKe><KemTheo/></NoiDung>"
        b"<Cky/></D01-TS>"
    )
    problems = problems_of(make_dossier([d02(unit, worker()), ("D01-TS", d01)]), today)
    assert problems == (
        "file D01-TS-595.xml, row 1 (STT 1), field NgayBanHanh: '05/01/2026' must be a date "
        "(and time) such as 2026-01-05T00:00:00",
        "file D01-TS-595.xml, row 1 (STT 1), field NgayHieuLuc: missing, required "
        "(Không được để trống)",
        "file D01-TS-595.xml, NoiDung, field KemTheo: out of order, it comes before BangKe in a "
        "D01-TS",
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
