"""The rule a message a person reads keeps: Vietnamese sentences hold no English words.

A message is a run of bilingual pairs, "Vietnamese sentence / English sentence". The rule
cuts it into pieces at the pair mark (" / "), at sentence ends (". ", "; ", a newline)
and at markdown table cells ("|"); a piece is Vietnamese when it holds a letter only
Vietnamese writes (ă, ơ, đ, ệ...). A Vietnamese piece must hold no word of
:data:`ENGLISH` (common English words and the English words this project used to let
slip into Vietnamese sentences: "unit", "run", "approved"...) and no provider code in
capitals with an underscore (``USER_REJECTED``): those are for the English half or the
technical details. Codes, names and identifiers (``TB0002B``, ``MISA``, ``I-VAN``,
``setup_remote_signing``, ``Face ID``) are not English words and pass; the UI's own
button names (Resume, Submit) pass as the names they are.

Also: no sentence said twice in one message (:func:`doubled`).

Example:
    >>> english_in_vietnamese("unit TB0002B: chưa chọn chứng thư số / no certificate")
    ['unit']
    >>> english_in_vietnamese("Đơn vị TB0002B chưa chọn chứng thư số / no certificate chosen")
    []
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["ENGLISH", "doubled", "english_in_vietnamese", "offences", "vietnamese_pieces"]

#: English words that are no Vietnamese syllable (so "an", "to", "do", "in", "no", "so",
#: "ban", "tin", "can" are not here: Vietnamese writes them too).
ENGLISH: frozenset[str] = frozenset(
    [
        "the",
        "and",
        "or",
        "of",
        "for",
        "with",
        "from",
        "into",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "not",
        "please",
        "first",
        "again",
        "then",
        "than",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "you",
        "your",
        "will",
        "would",
        "should",
        "must",
        "unit",
        "units",
        "run",
        "runs",
        "running",
        "rerun",
        "dossier",
        "dossiers",
        "certificate",
        "certificates",
        "period",
        "changes",
        "change",
        "followed",
        "follow",
        "waiting",
        "wait",
        "approved",
        "approve",
        "approval",
        "approvals",
        "rejected",
        "reject",
        "expired",
        "failed",
        "failure",
        "done",
        "continue",
        "continued",
        "stopped",
        "stop",
        "request",
        "requests",
        "round",
        "rounds",
        "transaction",
        "phone",
        "provider",
        "account",
        "answer",
        "answered",
        "question",
        "chosen",
        "choose",
        "choice",
        "none",
        "nothing",
        "everything",
        "kept",
        "left",
        "found",
        "file",
        "files",
        "submitted",
        "submit",
        "signed",
        "sign",
        "signing",
        "receipt",
        "receipts",
        "numbered",
        "accepted",
        "refused",
        "setup",
        "every",
        "each",
        "one",
        "two",
        "when",
        "after",
        "before",
        "until",
        "why",
        "what",
        "how",
        "which",
        "who",
    ]
)
#: Names the UI shows in English that a Vietnamese sentence may cite (its buttons).
UI_NAMES: frozenset[str] = frozenset(
    {"Resume", "Submit", "Cancel", "Run", "Suspend"}
    | {"Completed", "Failed", "Cancelled", "Paused", "Running", "Crashed"}  # run states
)
#: The phone's buttons, cited by name inside English sentences.
PHONE_NAMES = ("Đồng ý", "Từ chối", "Mã yêu cầu")

_SENTENCE = re.compile(r"(?<=[.;!?])\s+|\n|\||\s[-·]\s")
_LABEL = re.compile(r":\**\s")
_PAREN = re.compile(r"\(([^()]*)\)")
_WORD = re.compile(r"[\w\-]+")
_CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")


def _vietnamese_letter(ch: str) -> bool:
    return ord(ch) > 127 and (unicodedata.normalize("NFD", ch)[0].isascii() or ch in "đĐ")


def _vietnamese(piece: str) -> bool:
    """A piece with a lowercase word in letters Vietnamese writes and English does not (a
    capitalised one is a name: "Công ty TNHH An Phát" inside an English sentence)."""
    return any(
        word[0].islower() and any(_vietnamese_letter(ch) for ch in word)
        for word in _WORD.findall(piece)
    )


def vietnamese_pieces(message: str) -> list[str]:
    """The Vietnamese pieces of ``message`` (markdown marks left in).

    A sentence is cut at the pair mark; its first piece (where a Vietnamese sentence
    starts) is kept whole, a later piece is cut once more after a label's colon
    ("Trạng thái / status: đã duyệt" is a label pair, then a value).
    """
    pieces: list[str] = []
    message = message.replace("\\_", "_")  # markdown's escaped identifiers
    for name in PHONE_NAMES:
        message = message.replace(name, "")
    # A parenthesis is a piece of its own: "(giờ Việt Nam, UTC+7)" after an English date.
    pieces += [m.group(1) for m in _PAREN.finditer(message)]
    message = _PAREN.sub(" ", message)
    for sentence in _SENTENCE.split(message):
        first, *rest = sentence.split(" / ")
        pieces.append(first)
        for piece in rest:
            pieces += _LABEL.split(piece)
    return [p for p in pieces if _vietnamese(p)]


def english_in_vietnamese(message: str) -> list[str]:
    """The English words (and provider codes) inside Vietnamese pieces of ``message``."""
    found: list[str] = []
    for piece in vietnamese_pieces(message):
        # `code` spans and URLs are identifiers, not words.
        piece = re.sub(r"`[^`]*`|https?://\S+", " ", piece)
        for word in _WORD.findall(piece):
            if word in UI_NAMES:
                continue
            if (word.lower() in ENGLISH and not word.isupper()) or _CODE.match(word):
                found.append(word)
    return found


def doubled(message: str) -> list[str]:
    """Sentences (or clauses after a colon) said twice in ``message``: a clause of four
    words or more that another clause of the message holds whole ("chưa chọn chứng thư
    số" after "Đơn vị chưa chọn chứng thư số")."""
    seen: list[str] = []
    twice: list[str] = []
    # A table's rows may say the same thing for different units: only the prose counts.
    prose = "\n".join(line for line in message.splitlines() if not line.startswith("|"))
    prose = _PAREN.sub(" ", prose)  # "(giờ Việt Nam, UTC+7)" after each of two times
    for piece in re.split(r"(?<=[.;:!?])\s+|\n| / ", prose):
        words = " ".join(_WORD.findall(piece.lower()))
        if len(words.split()) < 4:
            continue
        padded = f" {words} "
        if any(padded in f" {s} " or f" {s} " in padded for s in seen):
            twice.append(piece.strip())
        seen.append(words)
    return twice


def offences(messages: Iterable[tuple[str, str]]) -> list[str]:
    """``where: message -> what is wrong`` for each (where, message) that breaks a rule.

    A sentence said twice is looked for in one-message texts (logs, states, pauses, event
    fields, artifact titles), not in an artifact's body, whose list may say the same of
    several units.
    """
    out: list[str] = []
    for where, message in messages:
        english = english_in_vietnamese(message)
        if english:
            out.append(f"{where}: {message[:300]!r} -> English in Vietnamese: {english}")
        body = where.startswith("artifact") and not where.endswith("description")
        twice = [] if body else doubled(message)
        if twice:
            out.append(f"{where}: {message[:300]!r} -> said twice: {twice}")
    return out
