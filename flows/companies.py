"""add_company and import_companies: a firm's client companies added from the Prefect UI,
one with a form or forty from one workbook, without typing a block name."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, Literal

from prefect import flow
from prefect.deployments import arun_deployment
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_run_logger
from prefect.states import Completed
from pydantic import Field

from bhxh.roster import (
    CompanyInvalid,
    check_agency_code,
    check_tax_code,
    check_unit_code,
    read_roster,
    unit_slug,
)
from bhxh.settings import Settings
from bhxh.vntext import normalize_person_text
from blocks.credentials import BhxhGatewayCredentials
from blocks.providers import credentials_type, provider_label
from flows._artifacts import artifact_key, publish_markdown, publish_table, text
from flows._companies import (
    CARRIER_LABELS,
    DEFAULT_IVAN_LABEL,
    IMPORT_FOLDER,
    IVAN_LABELS,
    ask_signing_account,
    carrier_labels_for_files,
    code_of,
    gateway_name,
    import_path,
    provider_labels,
    signer_values,
)
from flows._failures import RunScope, run_explained
from flows._pickers import refresh_unit_pickers_quietly
from tasks.companies import (
    CompanyProfile,
    SavedCompany,
    build_credentials,
    check_signing_account,
    find_saved,
    integrator_template,
    read_saved_units,
    save_companies,
    taken_names,
)

__all__ = ["SETUP_DEPLOYMENT", "add_company", "import_companies"]

#: The setup deployment of ``deployments/prefect.yaml`` (flow name / deployment name).
SETUP_DEPLOYMENT = "setup_remote_signing/setup"

_PROVIDERS = provider_labels()


def _title(title: str, **extra: Any) -> Any:
    return Field(json_schema_extra={"title": title, **extra})


if TYPE_CHECKING:
    CompanyName = str
    TaxCode = str
    UnitCode = str
    AgencyCode = str
    Signer = str
    Phone = str
    Address = str
    Email = str
    ProviderChoice = str
    CarrierChoice = str
    IvanChoice = str
    GatewayChoice = BhxhGatewayCredentials | str | None
    RunSetup = bool
    ImportFile = str
    ReadPasswords = bool
else:
    CompanyName = Annotated[str, _title("Tên đơn vị / Company name")]
    TaxCode = Annotated[str, _title("Mã số thuế / Tax code", example="0101234567")]
    UnitCode = Annotated[str, _title("Mã đơn vị BHXH / Unit code", example="TA0001A")]
    AgencyCode = Annotated[str, _title("Mã cơ quan BHXH / BHXH agency code", example="07906")]
    Signer = Annotated[str, _title("Người ký / Signer")]
    Phone = Annotated[str, _title("Điện thoại / Phone")]
    Address = Annotated[str, _title("Địa chỉ / Address")]
    Email = Annotated[str, _title("E-mail / E-mail")]
    ProviderChoice = Annotated[
        Literal.__getitem__(tuple(_PROVIDERS.values())),
        _title("Nhà cung cấp ký số / Signing provider"),
    ]
    CarrierChoice = Annotated[
        Literal.__getitem__(tuple(CARRIER_LABELS.values())),
        _title("Tuyến nộp hồ sơ / Carrier"),
    ]
    IvanChoice = Annotated[
        Literal.__getitem__(tuple(IVAN_LABELS.values())), _title("I-VAN của đơn vị / I-VAN")
    ]
    GatewayChoice = Annotated[
        BhxhGatewayCredentials | None,
        _title("Gateway của I-VAN / I-VAN gateway (để trống = khối duy nhất đã lưu / empty = "
               "the only one saved)"),
    ]  # fmt: skip
    RunSetup = Annotated[bool, _title("Chạy thiết lập ký số ngay / Run setup now")]
    ImportFile = Annotated[
        str,
        _title(
            f"Tệp danh sách đơn vị / Company workbook (trong thư mục {IMPORT_FOLDER}; để trống "
            "= tệp mới nhất / empty = the newest)",
            example="don-vi.xlsx",
        ),
    ]
    ReadPasswords = Annotated[bool, _title("Đọc mật khẩu trong tệp / Read passwords from the file")]


def _person_text(value: object, field: str) -> str:
    try:
        return normalize_person_text(str(value or ""), field=field)
    except ValueError as exc:
        raise CompanyInvalid(str(exc)) from None


@flow(name="add_company", validate_parameters=False)
async def add_company(
    name: CompanyName,
    tax_code: TaxCode,
    unit_code: UnitCode,
    agency_code: AgencyCode,
    provider: ProviderChoice = _PROVIDERS["misa"],
    carrier: CarrierChoice = CARRIER_LABELS["gateway"],
    gateway: GatewayChoice = None,
    ivan: IvanChoice = DEFAULT_IVAN_LABEL,
    signer: Signer = "",
    phone: Phone = "",
    address: Address = "",
    email: Email = "",
    run_setup: RunSetup = True,
) -> Any:
    """Thêm một đơn vị khách hàng / add a client company: checks what is typed, asks for
    the signer's account in a form (never a run parameter), logs in to the provider with
    it, saves the linked blocks and the company's folder, then starts setup.

    Refuses, changing nothing: a tax code or unit code of the wrong form, a company
    already saved (by unit code or tax code), a provider refusing the account. The blocks
    are named from the company (an-phat and an-phat-misa); the firm's integrator
    account is taken from a saved credentials block of the same provider.

    Args:
        name: Tên đơn vị như đã đăng ký, ví dụ Công ty TNHH An Phát / the company's
            registered name, e.g. Công ty TNHH An Phát.
        tax_code: Mã số thuế: 10 chữ số, hoặc 10-3 cho chi nhánh, ví dụ 0101234567 / the tax
            code: 10 digits, or 10-3 for a branch, e.g. 0101234567.
        unit_code: Mã đơn vị tại BHXH, ví dụ TA0001A / the unit's code at VSS, e.g. TA0001A.
        agency_code: Mã cơ quan BHXH quản lý, 5 chữ số, ví dụ 07906 / the managing BHXH
            agency's code, 5 digits, e.g. 07906.
        provider: Nhà cung cấp ký số từ xa của người ký / the signer's remote-signing
            provider.
        carrier: Cách hồ sơ đã ký tới I-VAN: qua API (gateway) hoặc xuất tệp (export) / how
            signed dossiers reach the I-VAN: its API (gateway) or files (export).
        gateway: Khối gateway đã lưu, khi nộp qua API; để trống = khối duy nhất đã lưu / the
            saved gateway block, for the gateway route; empty = the only one saved.
        ivan: I-VAN mà đơn vị đăng ký với BHXH / the I-VAN the company is registered with.
        signer: Người ký, ví dụ Nguyễn Thị Thu Hà / the signer, e.g. Nguyễn Thị Thu Hà.
        phone: Điện thoại liên hệ, ví dụ 0901234567 / contact phone, e.g. 0901234567.
        address: Địa chỉ liên hệ, ví dụ Số 1 Phố Huế, Hà Nội / contact address, e.g. Số 1
            Phố Huế, Hà Nội.
        email: E-mail liên hệ, ví dụ ketoan@example.vn / contact e-mail, e.g.
            ketoan@example.vn.
        run_setup: Bắt đầu thiết lập ký số (deployment setup) ngay sau khi lưu / start the
            setup deployment as soon as the company is saved.

    Example:
        ```python
        import asyncio
        from flows.companies import add_company

        asyncio.run(add_company("Công ty TNHH An Phát", "0101234567", "TA0001A", "07906"))
        ```
    """
    scope = RunScope("add_company")

    async def body() -> Any:
        settings = Settings()
        code = check_unit_code(unit_code)
        scope.unit_code = code
        tax = check_tax_code(tax_code)
        agency = check_agency_code(agency_code)
        company = _person_text(name, "name")
        if not company:
            raise CompanyInvalid(f"Đơn vị {code}: chưa nhập tên / unit {code}: no name given")
        scope.unit_name = company
        provider_code = code_of(provider, _PROVIDERS, ("nhà cung cấp", "provider"))
        route = code_of(carrier, CARRIER_LABELS, ("tuyến nộp", "carrier"))
        ivan_code = code_of(ivan, IVAN_LABELS, ("I-VAN", "I-VAN"))
        units = await read_saved_units()
        same = find_saved(units, code, tax)
        if same is not None:
            block, unit, _ = same
            raise CompanyInvalid(
                f"Đơn vị {code}: đã có đơn vị {unit.name} ({unit.unit_code}, mã số thuế "
                f"{unit.tax_code}) lưu trong khối {block}; chưa lưu gì / unit {code}: "
                f"{unit.unit_code} (tax code {unit.tax_code}) is already saved as block "
                f"{block}; nothing was saved"
            )
        gateway_block = await gateway_name(gateway, code) if route == "gateway" else ""
        template = await integrator_template(provider_code)
        answer = await ask_signing_account(provider_code, template, code, company, settings)
        credentials, _ = build_credentials(provider_code, template[1] if template else None, answer)
        note = await check_signing_account(credentials, code)
        profile = CompanyProfile(
            name=company,
            tax_code=tax,
            unit_code=code,
            agency_code=agency,
            provider=provider_code,
            route=route,
            ivan_code=ivan_code,
            gateway_block=gateway_block,
            signer=_person_text(signer, "signer"),
            phone=str(phone or "").strip(),
            address=_person_text(address, "address"),
            email=str(email or "").strip(),
        )
        slug = unit_slug(company, code, taken=taken_names(units))
        (saved,) = await save_companies([(profile, credentials, slug)], settings)
        await refresh_unit_pickers_quietly()  # the run forms list the new company
        setup = await _start_setup(saved) if run_setup else ""
        return await _report_added(profile, saved, [note, setup])

    return await run_explained(scope, body)


async def _start_setup(saved: SavedCompany) -> str:
    """Start the setup deployment for the new unit (not waited for); a sentence for people."""
    try:
        run = await arun_deployment(
            SETUP_DEPLOYMENT,
            parameters={"unit_block": {"$ref": {"block_document_id": saved.block_document_id}}},
            timeout=0,
        )
    except ObjectNotFound:
        return (
            "Chưa có deployment setup trên máy chủ: chạy setup_remote_signing cho đơn vị này "
            "từ trang Deployments / the setup deployment is not on this server: run "
            "setup_remote_signing for this unit from the Deployments page"
        )
    return f"Đã bắt đầu thiết lập ký số: lượt chạy {run.name} / setup started: run {run.name}"


async def _report_added(profile: CompanyProfile, saved: SavedCompany, notes: list[str]) -> Any:
    label = provider_label(profile.provider)
    lines = "".join(f"- {text(n)}\n" for n in notes if n)
    await publish_markdown(
        f"## Đã thêm đơn vị / Company added: {text(profile.name)} ({profile.unit_code})\n\n"
        f"- Mã số thuế / tax code: {profile.tax_code}\n"
        f"- Khối đơn vị / unit block: `{saved.unit_block}`\n"
        f"- Khối đăng nhập {label} / {label} credentials block: `{saved.credentials_block}`\n"
        f"- Thư mục hồ sơ chờ ký / inbox folder: `{text(saved.inbox)}`\n{lines}",
        artifact_key("don-vi", "company", profile.unit_code),
        f"Đã thêm / added {profile.unit_code}",
    )
    message = (
        f"Đã thêm {profile.name} ({profile.unit_code}), khối {saved.unit_block} / added "
        f"{profile.unit_code} as block {saved.unit_block}"
    )
    get_run_logger().info("%s", message)
    return Completed(message=message, data=saved)


# ------------------------------------------------------------------------------ bulk
@flow(name="import_companies", validate_parameters=False)
async def import_companies(file: ImportFile = "", read_passwords: ReadPasswords = False) -> Any:
    """Thêm nhiều đơn vị từ một tệp Excel hoặc CSV / add many companies from one workbook.

    Reads one company a row (columns: Tên đơn vị, Mã số thuế, Mã đơn vị, Mã cơ quan BHXH,
    Nhà cung cấp ký số, Tài khoản ký số; optional: Tuyến nộp, Mã I-VAN, Người ký, Điện
    thoại, Địa chỉ, E-mail, Mật khẩu), saves each new company's blocks and folder, and
    reports each row: added, already there, or refused naming the sheet, row and column.
    Passwords are read only when asked; otherwise each new company's credentials block
    waits for its password (Blocks > the provider's credentials > the company's block >
    Edit). A second import of the same file adds nothing.

    Args:
        file: Tên tệp trong thư mục import của thư mục dữ liệu (hoặc đường dẫn trong thư mục
            dữ liệu); để trống = tệp .xlsx hoặc .csv mới nhất ở đó, ví dụ don-vi.xlsx / the
            file's name in the data folder's import folder (or a path inside the data
            folder); empty = the newest .xlsx or .csv there, e.g. don-vi.xlsx.
        read_passwords: Đọc cột Mật khẩu của tệp (mặc định không đọc; mật khẩu không bao giờ
            được ghi ra báo cáo) / read the file's password column (not read by default;
            a password is never written to the report).

    Example:
        ```python
        import asyncio
        from flows.companies import import_companies

        asyncio.run(import_companies("don-vi.xlsx"))
        ```
    """
    scope = RunScope("import_companies")

    async def body() -> Any:
        settings = Settings()
        path = import_path(str(file or ""), settings)
        providers = {n: (provider_label(n), label) for n, label in _PROVIDERS.items()}
        read = await asyncio.to_thread(
            read_roster,
            path,
            providers=providers,
            carriers=carrier_labels_for_files(),
            read_secrets=bool(read_passwords),
        )
        return await _import(read, settings)

    return await run_explained(scope, body)


async def _import(read: Any, settings: Settings) -> Any:
    units = await read_saved_units()
    taken = taken_names(units)
    templates: dict[str, Any] = {}
    report: list[dict[str, Any]] = []
    added = there = 0
    for refusal in read.refused:
        report.append(_row(refusal.where.row, "", "", "Từ chối / refused", str(refusal)))
    to_save: list[tuple[Any, CompanyProfile, Any, str]] = []
    for entry in read.companies:
        same = find_saved(units, entry.unit_code, entry.tax_code)
        if same is not None:
            block, unit, _ = same
            if unit.unit_code == entry.unit_code and unit.tax_code == entry.tax_code:
                there += 1
                report.append(
                    _row(entry.row, entry.unit_code, entry.name, "Đã có / already there",
                         f"khối / block {block}")
                )  # fmt: skip
            else:
                report.append(
                    _row(entry.row, entry.unit_code, entry.name, "Từ chối / refused",
                         f"{entry.where.describe()}: trùng mã với khối {block} ({unit.unit_code}, "
                         f"{unit.tax_code}) / a code of block {block} already")
                )  # fmt: skip
            continue
        if entry.provider not in templates:
            templates[entry.provider] = await integrator_template(entry.provider)
        template = templates[entry.provider]
        kind = credentials_type(entry.provider)
        credentials, _ = build_credentials(
            entry.provider,
            template[1] if template else None,
            signer_values(kind, entry.account, entry.password),
        )
        profile = CompanyProfile(
            name=entry.name,
            tax_code=entry.tax_code,
            unit_code=entry.unit_code,
            agency_code=entry.agency_code,
            provider=entry.provider,
            route=entry.route,
            ivan_code=entry.ivan_code,
            signer=entry.signer,
            phone=entry.phone,
            address=entry.address,
            email=entry.email,
        )
        slug = unit_slug(entry.name, entry.unit_code, taken=taken)
        taken.append(slug)
        units.append((slug, _placeholder(profile)))
        to_save.append((entry, profile, credentials, slug))
    saved_all = await save_companies([(p, c, s) for _, p, c, s in to_save], settings)
    if saved_all:
        await refresh_unit_pickers_quietly()  # the run forms list the new companies
    for (entry, profile, _, _), saved in zip(to_save, saved_all, strict=True):
        added += 1
        kind = credentials_type(profile.provider)
        report.append(
            _row(entry.row, entry.unit_code, entry.name, "Đã thêm / added", _waiting(saved, kind))
        )
    refused = len(report) - added - there
    report.sort(key=lambda r: r["Dòng / row"] or 0)
    message = (
        f"Tệp {read.file}: đã thêm {added}, đã có {there}, từ chối {refused} / file "
        f"{read.file}: added {added}, already there {there}, refused {refused}"
    )
    await publish_table(report, artifact_key("nhap-don-vi", "import"), message)
    if read.notes:
        await publish_markdown(
            "## Ghi chú khi đọc tệp / Notes on the file\n\n"
            + "".join(f"- {text(n)}\n" for n in read.notes),
            artifact_key("nhap-don-vi", "import", "ghi-chu"),
            f"Ghi chú / notes: {read.file}",
        )
    get_run_logger().info("%s", message)
    return Completed(
        message=message,
        data={"added": added, "already_there": there, "refused": refused, "rows": report},
    )


def _row(row: int | None, code: str, name: str, outcome: str, note: str) -> dict[str, Any]:
    return {
        "Dòng / row": row,
        "Mã đơn vị / unit code": code,
        "Tên / name": name,
        "Kết quả / outcome": outcome,
        "Ghi chú / note": note,
    }


def _waiting(saved: SavedCompany, kind: Any) -> str:
    where = f"khối / block {saved.unit_block}"
    if not saved.missing:
        return where
    titles = [kind.model_fields[f].title or f for f in saved.missing]
    vi = ", ".join(t.split(" / ")[0] for t in titles)
    en = ", ".join(t.split(" / ")[-1] for t in titles)
    path = f"Blocks > {kind.get_block_type_name()} > {saved.credentials_block} > Edit"
    return f"{where}; chờ điền {vi} ({path}) / waiting for {en} ({path})"


def _placeholder(profile: CompanyProfile) -> Any:
    # A company saved in this run counts as saved for the rows after it.
    from blocks.unit import BhxhUnit

    return BhxhUnit(
        unit_code=profile.unit_code,
        tax_code=profile.tax_code,
        name=profile.name,
        agency_code=profile.agency_code,
        credentials_block="",
    )
