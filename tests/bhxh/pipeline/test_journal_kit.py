"""The store backends' test kit, run against the folder journal (the embedded default)."""

from __future__ import annotations

from pathlib import Path

from bhxh.pipeline import DossierJournal, DossierStore
from bhxh.pipeline.journal_kit import DossierJournalSuite


class TestFolderJournal(DossierJournalSuite):
    def journal(self, tmp_path: Path) -> DossierJournal:
        return DossierStore(tmp_path / "store")
