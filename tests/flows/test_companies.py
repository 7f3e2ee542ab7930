"""Adding companies from the UI: one with add_company (the signer's account asked in a
paused run, checked against the sandbox provider), forty with import_companies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prefect import get_client
from prefect.flow_runs import aresume_flow_run

from bhxh.roster import CompanyInvalid
from blocks import BhxhUnit, MisaESignCredentials, VnptSmartCACredentials
from demo.scenario import demo_units
from flows.companies import add_company, import_companies
from tests.bhxh.roster.workbooks import BAD_ROWS, write_companies
from tests.flows.conftest import MakeWorld, wait_for_paused

NEW = {
    "name": "Công ty TNHH Hoa Sen",
    "tax_code": "0107654321",
    "unit_code": "TH0009H",
    "agency_code": "07906",
}


async def test_forty_companies_in_one_run_then_none_again(data_dir: Path) -> None:
    write_companies(data_dir / "import" / "don-vi.xlsx")
    state = await import_companies(return_state=True)
    assert state.is_completed()
    report = await state.result()
    assert (report["added"], report["already_there"], report["refused"]) == (37, 0, 3)
    assert "đã thêm 37, đã có 0, từ chối 3" in (state.message or "")
    refused = [r for r in report["rows"] if r["Kết quả / outcome"].startswith("Từ chối")]
    for (row, (column, _)), line in zip(sorted(BAD_ROWS.items()), refused, strict=True):
        assert f"trang tính 'Đơn vị', dòng {row}, cột {column}" in line["Ghi chú / note"]
    unit = await BhxhUnit.aload_unit("thu-nghiem-so-2")
    assert (unit.unit_code, unit.provider, unit.credentials_block) == (
        "TK0002K",
        "vnpt",
        "thu-nghiem-so-2-vnpt",
    )
    vnpt = await VnptSmartCACredentials.aload("thu-nghiem-so-2-vnpt")
    assert isinstance(vnpt, VnptSmartCACredentials) and vnpt.user_id == "ketoan2@example.vn"
    misa = await MisaESignCredentials.aload("thu-nghiem-so-1-misa")
    assert isinstance(misa, MisaESignCredentials)
    assert misa.password.get_secret_value() == ""  # not read: waits for a person
    assert (data_dir / "inbox" / "TK0001K").is_dir()
    waiting = next(r for r in report["rows"] if r["Mã đơn vị / unit code"] == "TK0001K")
    assert "thu-nghiem-so-1-misa > Edit" in waiting["Ghi chú / note"]

    again = await import_companies("don-vi.xlsx", return_state=True)
    second = await again.result()
    assert (second["added"], second["already_there"], second["refused"]) == (0, 37, 3)


async def test_an_import_never_echoes_a_password(data_dir: Path) -> None:
    write_companies(data_dir / "import" / "mat-khau.xlsx", count=2, bad=False)
    sheet_path = data_dir / "import" / "mat-khau.xlsx"
    import openpyxl

    book = openpyxl.load_workbook(sheet_path)
    sheet = book.active
    assert sheet is not None
    for row in (3, 4):
        sheet[f"B{row}"] = f"Công ty TNHH Mật Khẩu {row}"
        sheet[f"C{row}"] = f"02{row:08d}"
        sheet[f"D{row}"] = f"TP{row:04d}P"
    sheet["E4"] = "ABC"  # a refused row whose password is read
    book.save(sheet_path)
    state = await import_companies("mat-khau.xlsx", read_passwords=True, return_state=True)
    report = await state.result()
    assert (report["added"], report["refused"]) == (1, 1)
    assert "mat-khau-bi-mat" not in repr(report) and "mat-khau-bi-mat" not in state.message
    misa = await MisaESignCredentials.aload("mat-khau-3-misa")
    assert isinstance(misa, MisaESignCredentials)
    assert misa.password.get_secret_value() == "mat-khau-bi-mat-1"


async def test_a_file_outside_the_data_folder_is_refused(data_dir: Path, tmp_path: Path) -> None:
    outside = write_companies(tmp_path / "elsewhere.xlsx", count=1)
    with pytest.raises(CompanyInvalid, match="nằm ngoài thư mục dữ liệu"):
        await import_companies(str(outside))


async def test_a_bad_tax_code_is_refused_before_anything(data_dir: Path) -> None:
    state = await add_company(**{**NEW, "tax_code": "01076543"}, return_state=True)
    assert state.is_failed()
    assert "Chưa thêm được đơn vị / the company was not added" in (state.message or "")
    assert "mã số thuế '01076543' không đúng dạng" in (state.message or "")


async def test_a_company_already_saved_is_refused(make_world: MakeWorld) -> None:
    an_phat = demo_units()[0]
    await make_world([an_phat], setup=False, dossiers=0)
    with pytest.raises(CompanyInvalid, match="an-phat"):
        await add_company(**{**NEW, "tax_code": an_phat.unit.tax_code})


async def _add_answering(username: str, password: str, **given: object) -> object:
    run = asyncio.create_task(add_company(**{**NEW, **given}, return_state=True))
    flow_run_id = await wait_for_paused("add_company")
    async with get_client() as client:
        schema = await client.read_flow_run_input(flow_run_id, "paused-tai-khoan-schema")
    assert '"password"' in schema and '"client_key"' not in schema  # the firm's is kept
    await aresume_flow_run(flow_run_id, run_input={"username": username, "password": password})
    state = await asyncio.wait_for(run, 120)
    async with get_client() as client:  # the typed secrets are not kept in Prefect
        inputs = await client.filter_flow_run_input(
            flow_run_id, key_prefix="paused-tai-khoan", limit=10, exclude_keys=set()
        )
    assert [i.key for i in inputs if i.key.endswith("response")] == []
    return state


async def test_a_wrong_provider_password_saves_nothing(make_world: MakeWorld) -> None:
    an_phat = demo_units()[0]
    await make_world([an_phat], setup=False, dossiers=0)
    state = await _add_answering(an_phat.username, "not-the-password", unit_code="TH0010H")
    assert state.is_failed()  # type: ignore[attr-defined]
    assert "từ chối tài khoản anphat.ketoan" in state.message  # type: ignore[attr-defined]
    assert "not-the-password" not in state.message  # type: ignore[attr-defined]
    assert "hoa-sen" not in {d.name for d in await _units()}


async def test_a_company_is_added_linked_and_checked(make_world: MakeWorld) -> None:
    an_phat = demo_units()[0]
    world = await make_world([an_phat], setup=False, dossiers=0)
    password = world.scenario.passwords[an_phat.username]
    state = await _add_answering(an_phat.username, password, unit_code="TH0011H")
    assert state.is_completed(), state.message  # type: ignore[attr-defined]
    unit = await BhxhUnit.aload_unit("hoa-sen")
    assert (unit.unit_code, unit.credentials_block, unit.gateway_block) == (
        "TH0011H",
        "hoa-sen-misa",
        "sandbox-gateway",
    )
    credentials = await unit.aload_credentials()
    assert credentials.account == an_phat.username
    assert world.count("login", user=an_phat.username) >= 1


async def _units() -> list:
    async with get_client() as client:
        return await client.read_block_documents_by_type("bhxh-unit")


@pytest.mark.parametrize("provider", ["misa", "vnpt"])
def test_the_account_forms_are_bilingual_and_mask_secrets(provider: str) -> None:
    from pydantic import SecretStr

    from blocks.providers import credentials_type
    from flows._companies import _account_form

    kind = credentials_type(provider)
    every = [n for n, f in kind.model_fields.items() if f.is_required() or n == "base_url"]
    for asked in (list(kind.signer_fields), every):
        form = _account_form(kind, asked)
        schema = form.model_json_schema()["properties"]
        for name in asked:
            assert " / " in form.model_fields[name].title, name  # type: ignore[operator]
            assert " / " in (form.model_fields[name].description or ""), name
            if kind.model_fields[name].annotation is SecretStr:
                assert schema[name]["format"] == "password", name
