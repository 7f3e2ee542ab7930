"""The procedure catalogue is data: codes, forms, approvals, PA codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bhxh.catalogue import (
    ATTACHMENT_FORM,
    FORMS,
    PA_CODES,
    PROCEDURES,
    form_description,
    form_filename,
    form_of_filename,
    get_procedure,
)
from bhxh.errors import DossierInvalid

ALL_CODES = ["600", "601", "602", "603", "604", "630", "630a", "630b", "630c", "04", "05", "06"]


def test_catalogue_holds_every_confirmed_procedure() -> None:
    assert list(PROCEDURES) == ALL_CODES


@pytest.mark.parametrize("code", ["04", "05", "06"])
def test_registration_procedures_need_one_approval(code: str) -> None:
    proc = get_procedure(code)
    assert proc.approvals == 1
    assert proc.kind == "registration"


@pytest.mark.parametrize("code", [c for c in ALL_CODES if c not in ("04", "05", "06")])
def test_business_procedures_need_two_approvals(code: str) -> None:
    proc = get_procedure(code)
    assert proc.approvals == 2
    assert proc.kind == "business"


def test_registration_forms_are_the_ivan_forms() -> None:
    assert get_procedure("04").required_forms == {"04_DK-IVAN"}
    assert get_procedure("05").required_forms == {"05_SD-IVAN"}
    assert get_procedure("06").required_forms == {"06_NG-IVAN"}


def test_forms_of_600_and_602_follow_the_domain_table() -> None:
    p600 = get_procedure("600")
    assert p600.required_forms == {"D02-TS"}
    assert p600.allowed_forms == {"D02-TS", "TK1-TS", "D01-TS", ATTACHMENT_FORM}
    assert get_procedure("602").required_forms == {"D05-TS", "TK1-TS"}


def test_604_forms_are_marked_unconfirmed() -> None:
    proc = get_procedure("604")
    assert proc.allowed_forms == {"D02-TS", "D01-TS", ATTACHMENT_FORM}
    assert "unconfirmed" in proc.note


def test_required_forms_are_always_allowed_and_described() -> None:
    for proc in PROCEDURES.values():
        assert proc.required_forms <= proc.allowed_forms
        for form in proc.allowed_forms:
            assert form_description(form) != form, form


def test_unknown_procedure_names_the_code_and_the_known_ones() -> None:
    with pytest.raises(DossierInvalid, match=r"unknown procedure \(MaThuTuc\) '999'") as exc:
        get_procedure("999")
    assert "600" in str(exc.value) and "630c" in str(exc.value)


def test_pa_codes_cover_the_portal_actions_with_meanings() -> None:
    assert set(PA_CODES) == {"TM", "TD", "TC", "DC", "GH", "KL", "OF", "TS"}
    assert all(PA_CODES.values())


def test_form_file_names_follow_the_595_convention() -> None:
    assert form_filename("D02-TS") == "D02-TS-595.xml"
    assert form_filename("M01B-HSB") == "M01B-HSB.xml"
    assert form_of_filename("TK1-TS-595.xml") == "TK1-TS"
    assert form_of_filename("M01B-HSB.xml") == "M01B-HSB"
    assert form_of_filename("D99-TS-595.xml") == "D99-TS"
    assert form_of_filename("notes.xml") is None
    assert form_of_filename("-595.xml") is None


def test_catalogue_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        PROCEDURES["999"] = PROCEDURES["600"]  # type: ignore[index]
    assert FORMS[ATTACHMENT_FORM].description == "Chứng từ kèm theo"


def test_catalogue_imports_only_the_standard_library() -> None:
    code = (
        "import sys, bhxh.catalogue; "
        "heavy = ('lxml', 'pydantic', 'pydantic_settings', 'httpx'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
