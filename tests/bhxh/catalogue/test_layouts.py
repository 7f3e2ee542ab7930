"""The declarations' content model: the catalogue's field lists, held against a
structure-only fixture written from the real files, and the demo's dossiers held against
the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bhxh.catalogue import FORM_LAYOUTS, FieldSpec, form_layout, row_field_names
from bhxh.errors import DossierInvalid
from bhxh.hrdata import build_d01ts, build_d05ts
from bhxh.models import UnitInfo
from bhxh.xmlsafe import parse_xml
from demo.scenario import Scenario, demo_units
from tests.bhxh.intake.input_support import FIXTURES

STRUCTURE = FIXTURES / "structure"


def _tree(spec: FieldSpec) -> object:
    """A spec as nested (name, [children]) pairs, the shape compared with the fixtures."""
    return (spec.name, [_tree(c) for c in spec.children])


def _element_tree(el: etree._Element) -> object:
    return (el.tag, [_element_tree(c) for c in el if isinstance(c.tag, str)])


def _children(el: etree._Element) -> list[str]:
    return [str(c.tag) for c in el if isinstance(c.tag, str)]


@pytest.mark.parametrize("form", ["D02-TS", "TK1-TS", "D01-TS", "D05-TS"])
def test_the_catalogue_layout_is_the_real_files_structure(form: str) -> None:
    fixture = etree.parse(str(STRUCTURE / f"{form}.xml"), etree.XMLParser(remove_comments=True))
    layout = FORM_LAYOUTS[form]
    assert _element_tree(fixture.getroot()) == _tree(FieldSpec(form, "group", children=layout.top))


def test_the_field_lists_are_the_ones_the_issue_names() -> None:
    d02 = row_field_names("D02-TS")
    assert FORM_LAYOUTS["D02-TS"].top_names == ("ThongTinKhac", "NoiDung", "Cky")
    assert len(d02) == 44
    assert d02[:6] == ("STT", "HoTen", "MasoBHXH", "ChucVu", "NoiLamViec", "TienLuong")
    assert d02.index("MavungLTT") == d02.index("MavungSS") + 1
    tk1 = row_field_names("TK1-TS")
    assert len(tk1) == 29 and tk1[-1] == "PhuLuc"
    assert {"Matinh_KS", "Diachi_NN", "MaTinhBenhVien", "MaBenhVien", "CCNS"} <= set(tk1)
    assert not {"MaTinh", "MaHuyen", "MaXa"} & set(tk1)  # those live in PhuLuc only
    d02_required = {f.name for f in FORM_LAYOUTS["D02-TS"].row_fields if f.required}
    assert d02_required == {"HoTen", "ChucVu", "TienLuong", "PA", "TinhLai", "DaCoSo"}
    assert form_layout("M01B-HSB") is None
    with pytest.raises(DossierInvalid, match="no row layout"):
        row_field_names("M01B-HSB")


def test_the_demo_dossiers_follow_the_catalogue(tmp_path: Path) -> None:
    scenario = Scenario(demo_units(), data_dir=tmp_path)
    folders = scenario.fill_inbox("01/2026", workers=4)
    assert folders
    for folder in folders:
        for form in ("D02-TS", "TK1-TS"):
            layout = FORM_LAYOUTS[form]
            root = parse_xml((folder / f"{form}-595.xml").read_bytes(), expected_root=form)
            assert tuple(_children(root)) == layout.top_names
            rows = root.findall(layout.row_path)
            assert rows
            for row in rows:
                assert tuple(_children(row)) == layout.row_names


def test_d01ts_and_d05ts_builders_follow_the_catalogue(unit: UnitInfo) -> None:
    built = {
        "D01-TS": build_d01ts(
            unit, "01/2026", [{"NgayBanHanh": "02/01/2026", "NgayHieuLuc": "02/01/2026"}]
        ),
        "D05-TS": build_d05ts(unit, "01/2026", [{"HoTen": "Hà Văn Sơn", "PA": "TM"}]),
    }
    for form, data in built.items():
        layout = FORM_LAYOUTS[form]
        root = parse_xml(data, expected_root=form)
        assert tuple(_children(root)) == layout.top_names
        (row,) = root.findall(layout.row_path)
        assert tuple(_children(row)) == layout.row_names
