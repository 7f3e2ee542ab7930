"""The phone shows the display text as HTML, keeping only a few harmless tags."""

from __future__ import annotations

import re

import pytest

from sandbox.provider import sanitize_html


def test_allowed_formatting_tags_are_kept_without_attributes() -> None:
    text = '<p class="x"><b>Kỳ</b> <i>01/2025</i><br/><ul><li onclick="x()">600a</li></ul></p>'
    assert sanitize_html(text) == "<p><b>Kỳ</b> <i>01/2025</i><br><ul><li>600a</li></ul></p>"


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<svg/onload=alert(1)>",
        '<a href="javascript:alert(1)">bấm</a>',
        "<b onmouseover=alert(1)>x</b>",
        "<iframe src=//evil></iframe>",
        "<!--<script>alert(1)</script>-->",
        "<scr<script>ipt>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        '<style>body{background:url("javascript:alert(1)")}</style>',
        "<b>unclosed <i>tags",
        "<p>a</b></p></ul>",
    ],
)
def test_scripts_and_event_handlers_never_survive(attack: str) -> None:
    out = sanitize_html(attack)
    for bad in ("<script", "<img", "<svg", "<a ", "<iframe", "<style", "<!--"):
        assert bad not in out.lower()
    # whatever is left as markup is an allowed tag with no attributes; the rest is text
    tags = re.findall(r"<(/?)([^>]*)>", out)
    assert all(
        name in {"b", "i", "u", "strong", "em", "br", "p", "ul", "ol", "li"} for _, name in tags
    )
    assert out.count("<") == len(tags)


def test_text_and_entities_are_escaped_once() -> None:
    assert sanitize_html("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert sanitize_html("&lt;b&gt;") == "&lt;b&gt;"


def test_unclosed_allowed_tags_are_closed() -> None:
    assert sanitize_html("<b>x<i>y") == "<b>x<i>y</i></b>"
