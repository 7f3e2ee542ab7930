"""The test kit for a store backend: the behaviours the pipeline relies on, run against
any :class:`~bhxh.pipeline.store.DossierJournal`.

Subclass :class:`DossierJournalSuite` in a test module and give it a fresh, empty
journal; every ``test_*`` method then runs against it (plain ``assert``; no pytest
import here, so a backend package can ship the kit outside its test dependencies).

Example:
    >>> class TestFolderJournal(DossierJournalSuite):  # doctest: +SKIP
    ...     def journal(self, tmp_path):
    ...         return DossierStore(tmp_path / "store")
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bhxh.errors import StoreError
from bhxh.pipeline.store import DossierJournal, Step, StoredFile

__all__ = ["DossierJournalSuite"]

_UNIT, _PERIOD, _PROCEDURE = "TZ9876B", "01/2026", "600"


def _file(content: bytes) -> tuple[StoredFile, str, bytes]:
    stored = StoredFile(
        "declaration", "D02-TS", "D02-TS-595.xml", hashlib.sha256(content).hexdigest()
    )
    return stored, "source/D02-TS-595.xml", content


class DossierJournalSuite:
    """What every store backend must do; override :meth:`journal`."""

    def journal(self, tmp_path: Path) -> DossierJournal:
        """A new, empty journal of the backend under test."""
        raise NotImplementedError

    def test_it_implements_the_interface(self, tmp_path: Path) -> None:
        assert isinstance(self.journal(tmp_path), DossierJournal)

    def test_create_is_idempotent_by_content(self, tmp_path: Path) -> None:
        journal = self.journal(tmp_path)
        first = journal.create(_UNIT, _PERIOD, _PROCEDURE, "bao-tang", [_file(b"<a/>")])
        again = journal.create(_UNIT, _PERIOD, _PROCEDURE, "bao-tang", [_file(b"<a/>")])
        other = journal.create(_UNIT, _PERIOD, _PROCEDURE, "bao-tang", [_file(b"<b/>")])
        assert again.id == first.id and again.steps == first.steps
        assert other.id != first.id
        assert first.state is Step.LOADED
        assert journal.read_file(first, "source/D02-TS-595.xml") == b"<a/>"

    def test_steps_are_appended_in_order_and_read_back(self, tmp_path: Path) -> None:
        journal = self.journal(tmp_path)
        rec = journal.create(_UNIT, _PERIOD, _PROCEDURE, "bao-tang", [_file(b"<a/>")])
        with journal.batch():
            rec = journal.record(rec, Step.PREPARED, items=["x"])
            rec = journal.record(rec, Step.ROUND1_REQUESTED, reference="ref-1")
        back = journal.get(_UNIT, _PERIOD, rec.id)
        assert [s.step for s in back.steps] == [Step.LOADED, Step.PREPARED, Step.ROUND1_REQUESTED]
        assert back.last(Step.ROUND1_REQUESTED) is not None
        assert back.steps[-1].data["reference"] == "ref-1"

    def test_files_are_written_and_read_whole(self, tmp_path: Path) -> None:
        journal = self.journal(tmp_path)
        rec = journal.create(_UNIT, _PERIOD, _PROCEDURE, "bao-tang", [_file(b"<a/>")])
        assert not journal.has_file(rec, "signed/D02-TS-595.xml")
        journal.write_file(rec, "signed/D02-TS-595.xml", b"<signed/>")
        assert journal.has_file(rec, "signed/D02-TS-595.xml")
        assert journal.read_file(rec, "signed/D02-TS-595.xml") == b"<signed/>"

    def test_lists_by_period_and_by_unit(self, tmp_path: Path) -> None:
        journal = self.journal(tmp_path)
        january = journal.create(_UNIT, "01/2026", _PROCEDURE, "a", [_file(b"<a/>")])
        february = journal.create(_UNIT, "02/2026", _PROCEDURE, "b", [_file(b"<b/>")])
        assert [r.id for r in journal.list(_UNIT, "01/2026")] == [january.id]
        assert {r.id for r in journal.list_unit(_UNIT)} == {january.id, february.id}
        assert journal.list("TZ0000A", "01/2026") == []

    def test_an_unknown_dossier_or_file_is_a_store_error(self, tmp_path: Path) -> None:
        journal = self.journal(tmp_path)
        rec = journal.create(_UNIT, _PERIOD, _PROCEDURE, "bao-tang", [_file(b"<a/>")])
        for read in (
            lambda: journal.get(_UNIT, _PERIOD, "600-012026-nothere"),
            lambda: journal.read_file(rec, "signed/missing.xml"),
        ):
            try:
                read()
            except StoreError:
                continue
            raise AssertionError("a missing dossier or file must raise StoreError")

    def test_unsafe_names_are_refused(self, tmp_path: Path) -> None:
        journal = self.journal(tmp_path)
        try:
            journal.create("../x", _PERIOD, _PROCEDURE, "bao-tang", [_file(b"<a/>")])
        except StoreError:
            return
        raise AssertionError("a unit code that leaves the store must raise StoreError")
