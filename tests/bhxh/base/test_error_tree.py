"""The error tree drawn in bhxh/errors.py is the tree the code has."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import bhxh
import bhxh.errors
from bhxh.errors import BhxhError


def _classes() -> dict[type[BhxhError], str]:
    found: dict[type[BhxhError], str] = {}
    for info in pkgutil.walk_packages(bhxh.__path__, "bhxh."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BhxhError) and obj.__module__ == info.name:
                found[obj] = info.name
    return found


def _drawing(classes: dict[type[BhxhError], str]) -> list[str]:
    lines: list[str] = []

    def draw(cls: type[BhxhError], depth: int) -> None:
        standard = [b.__name__ for b in cls.__bases__ if not issubclass(b, BhxhError)]
        label = "    " * depth + cls.__name__ + (f" ({', '.join(standard)})" if standard else "")
        lines.append(f"{label:<56}{classes[cls]}")
        for child in sorted((c for c in classes if cls in c.__bases__), key=lambda c: c.__name__):
            draw(child, depth + 1)

    draw(BhxhError, 0)
    return lines


def test_the_docstring_draws_every_error_where_it_is_defined() -> None:
    doc = bhxh.errors.__doc__ or ""
    drawn = [
        line[4:].rstrip()
        for line in doc.splitlines()
        if line.startswith("    ") and "bhxh." in line
    ]
    assert drawn == [line.rstrip() for line in _drawing(_classes())]
