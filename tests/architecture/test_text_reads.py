"""Every reader of a signed document reads a field as it was signed, checked on the source.

lxml's ``el.text`` is the text before an element's first comment or processing
instruction; ``findtext`` returns the same piece; a ``tail`` is one piece more. Canonical
XML signs all the pieces joined, so a reader using them can read less than was signed
(``<MaSoThue>03098<!---->76543</MaSoThue>`` read as ``'03098'``: the class of
CVE-2017-11427). The readers go through one helper instead: ``bhxh.xmlsafe.field_text`` /
``find_text`` / ``own_text`` in ``bhxh``, the sandbox gateway's own
``sandbox.xmldsig_check.text_as_signed`` / ``own_text`` (the sandbox reuses nothing it
checks). This test reads the source of every module that reads XML and fails on any
other raw text read, so a new reader cannot bring the defect back.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Where raw text may be read, and why: the helpers themselves, and structure that is
#: not a field's value (copying or moving nodes).
ALLOWED: dict[tuple[str, str], str] = {
    ("bhxh/xmlsafe.py", "own_text"): "the bhxh helper",
    ("bhxh/xmlsafe.py", "field_text"): "the bhxh helper",
    ("bhxh/xmlsafe.py", "remove_keeping_tail"): "the enveloped transform moves a tail",
    ("sandbox/xmldsig_check.py", "own_text"): "the sandbox gateway's helper",
    ("sandbox/xmldsig_check.py", "text_as_signed"): "the sandbox gateway's helper",
    ("sandbox/xmldsig_check.py", "_c14n_document_without"): "the enveloped transform",
    ("sandbox/xmldsig_check.py", "_c14n_subset"): "copies SignedInfo node for node",
}
#: The HR tool reads workbooks and CSV files, never a signed document (and no module of
#: it reads an XML declaration).
NOT_READERS = ("bhxh/hrdata/",)


def _modules() -> list[Path]:
    paths = sorted((ROOT / "bhxh").rglob("*.py"))
    paths += sorted((ROOT / "sandbox" / "gateway").rglob("*.py"))
    paths.append(ROOT / "sandbox" / "xmldsig_check.py")
    return [p for p in paths if not str(p.relative_to(ROOT)).startswith(NOT_READERS)]


def _functions(tree: ast.AST) -> dict[ast.AST, str]:
    """Each node -> the name of the outermost function it sits in."""
    owner: dict[ast.AST, str] = {}
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                owner[inner] = node.name
        elif isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                    for inner in ast.walk(method):
                        owner[inner] = f"{node.name}.{method.name}"
    return owner


def raw_text_reads(source: str, path: str) -> Iterator[str]:
    """Every raw text read in ``source`` outside :data:`ALLOWED`, as ``path:line: what``."""
    tree = ast.parse(source)
    owner = _functions(tree)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    nodes = sorted(
        ast.walk(tree), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))
    )
    for node in nodes:
        found = ""
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if node.attr in ("text", "tail") and id(node) not in calls:
                found = f".{node.attr} read"  # x.text(...) is a method, not lxml's text
            elif node.attr in ("findtext", "itertext"):
                found = f".{node.attr}()"
        elif isinstance(node, ast.keyword) and node.arg == "method":
            if isinstance(node.value, ast.Constant) and node.value.value == "text":
                found = 'tostring(method="text")'
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and ("text()" in node.value or "string(" in node.value)
        ):
            found = f"XPath {node.value!r}"
        if found and (path, owner.get(node, "")) not in ALLOWED:
            line = getattr(node, "lineno", 0)
            yield f"{path}:{line}: {found} (use the helper that reads a field as signed)"


def test_every_reader_reads_fields_as_signed() -> None:
    offences = [
        offence
        for module in _modules()
        for offence in raw_text_reads(
            module.read_text(encoding="utf-8"), str(module.relative_to(ROOT))
        )
    ]
    assert offences == []


def test_the_rule_sees_the_defect_and_its_disguises() -> None:
    source = """
def read(root, el, item, stamp):
    name = root.find("TenDoiTuong").text
    code = root.findtext("MaSoThue")
    rest = el[0].tail
    parts = "".join(el.itertext())
    flat = etree.tostring(el, method="text")
    first = root.xpath("string(NoiDung/KyKeKhai)")
    nodes = root.xpath("MaSoBHXH/text()")
    el.text = "written, not read"
    label = stamp.text(when)
"""
    found = [o.split(": ", 1)[1] for o in raw_text_reads(source, "bhxh/example.py")]
    assert [f.split(" (", 1)[0] for f in found] == [
        ".text read",
        ".findtext()",
        ".tail read",
        ".itertext()",
        'tostring(method="text")',
        "XPath 'string(NoiDung/KyKeKhai)'",
        "XPath 'MaSoBHXH/text()'",
    ]


def test_the_allowed_places_exist() -> None:
    """An exemption naming a function that is gone would silently widen the rule."""
    for (path, function), _why in ALLOWED.items():
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert function in names, f"{path}: no function {function} (ALLOWED is stale)"
