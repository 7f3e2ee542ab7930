"""The dossier store: deterministic ids, idempotent open (through the pipeline, which owns
the folder layout), atomic journal, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bhxh.errors import StoreError
from bhxh.models import Declaration, Dossier
from bhxh.pipeline import JOURNAL, DossierRecord, DossierStore, Pipeline, Step, dossier_id

PROJECT = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("store_writer.py")
HASHES = ["a" * 64, "b" * 64]


def _pipeline(store: DossierStore) -> Pipeline:
    return Pipeline(store, store.root.parent / "outbox")


def _open(store: DossierStore, dossier: Dossier) -> DossierRecord:
    return _pipeline(store).open(dossier).record


def test_dossier_ids_are_deterministic_short_and_order_free() -> None:
    first = dossier_id("TZ9876B", "01/2026", "600", HASHES)
    assert first == dossier_id("TZ9876B", "01/2026", "600", reversed(HASHES))
    assert first.startswith("600-012026-")
    assert len(first) <= 28
    assert all(c.isalnum() or c == "-" for c in first)


@pytest.mark.parametrize(
    "other",
    [
        ("TZ0000A", "01/2026", "600", HASHES),
        ("TZ9876B", "02/2026", "600", HASHES),
        ("TZ9876B", "01/2026", "601", HASHES),
        ("TZ9876B", "01/2026", "600", ["a" * 64, "c" * 64]),
    ],
)
def test_dossier_ids_change_with_unit_period_procedure_and_content(
    other: tuple[str, str, str, list[str]],
) -> None:
    assert dossier_id(*other) != dossier_id("TZ9876B", "01/2026", "600", HASHES)


def test_a_bad_period_is_refused() -> None:
    with pytest.raises(StoreError, match="MM/yyyy"):
        dossier_id("TZ9876B", "2026-01", "600", HASHES)


def test_open_creates_the_folder_the_loaded_step_and_the_source_copies(
    store_root: Path, dossier: Dossier
) -> None:
    rec = _open(DossierStore(store_root), dossier)
    assert rec.path == store_root / "TZ9876B" / "01-2026" / rec.id
    assert (rec.path / JOURNAL).is_file()
    assert rec.state is Step.LOADED and len(rec.steps) == 1
    assert (rec.path / "source" / "D02-TS-595.xml").read_bytes() == dossier.declarations[0].content
    assert (rec.path / "attachments" / "Hợp đồng lao động.pdf").read_bytes().startswith(b"%PDF")
    assert (rec.unit_code, rec.period, rec.procedure, rec.name) == (
        "TZ9876B",
        "01/2026",
        "600",
        "01-bao-tang",
    )


def test_open_is_idempotent(store_root: Path, dossier: Dossier) -> None:
    store = DossierStore(store_root)
    first = _open(store, dossier)
    later = store.record(first, Step.PREPARED, files=1)
    again = _open(store, dossier)
    assert again == later
    assert [s.step for s in again.steps] == [Step.LOADED, Step.PREPARED]
    assert len(store.list("TZ9876B", "01/2026")) == 1


def test_other_content_opens_another_dossier(store_root: Path, dossier: Dossier) -> None:
    store = DossierStore(store_root)
    first = _open(store, dossier)
    changed = Dossier(
        unit=dossier.unit,
        period=dossier.period,
        procedure=dossier.procedure,
        name="02-bao-giam",
        declarations=(Declaration("D02-TS", "D02-TS-595.xml", b"<D02-TS><Cky/></D02-TS>"),),
    )
    second = _open(store, changed)
    assert second.id != first.id
    assert [r.id for r in store.list("TZ9876B", "01/2026")] == [first.id, second.id]


def test_steps_are_journaled_in_order_and_read_back(store_root: Path, dossier: Dossier) -> None:
    store = DossierStore(store_root)
    rec = _open(store, dossier)
    rec = store.record(rec, Step.PREPARED, digests={"D02-TS-595.xml": "ab"})
    rec = store.record(rec, Step.ROUND1_REQUESTED, transaction_id="tx-1", provider="misa")
    back = store.get("TZ9876B", "01/2026", rec.id)
    assert back == rec
    assert back.state is Step.ROUND1_REQUESTED
    assert back.has(Step.PREPARED) and not back.has(Step.SIGNED)
    last = back.last(Step.ROUND1_REQUESTED)
    assert last is not None and last.data == {"transaction_id": "tx-1", "provider": "misa"}
    journal = json.loads((rec.path / JOURNAL).read_text())
    assert [s["step"] for s in journal["steps"]] == ["loaded", "prepared", "round1_requested"]


def test_steps_are_ordered_as_documented() -> None:
    assert [s.value for s in sorted(Step, key=lambda s: s.order)] == [
        "loaded",
        "prepared",
        "round1_requested",
        "declarations_signed",
        "envelope_prepared",
        "round2_requested",
        "signed",
        "submitting",
        "submitted",
        "exported",
        "receipt",
        "result",
        "failed",
    ]


def test_files_are_written_and_read_inside_the_dossier(store_root: Path, dossier: Dossier) -> None:
    store = DossierStore(store_root)
    rec = _open(store, dossier)
    path = store.write_file(rec, "envelope/BHXHDienTu.xml.prepared", b"<Hoso/>")
    assert path == rec.path / "envelope" / "BHXHDienTu.xml.prepared"
    assert store.has_file(rec, "envelope/BHXHDienTu.xml.prepared")
    assert store.read_file(rec, "envelope/BHXHDienTu.xml.prepared") == b"<Hoso/>"
    assert not store.has_file(rec, "envelope/BHXHDienTu.xml")
    assert not [p for p in rec.path.rglob("*.tmp")]


@pytest.mark.parametrize("relpath", ["../escape.xml", "/etc/passwd", "a/../../b", JOURNAL, ".x"])
def test_paths_outside_the_dossier_are_refused(
    store_root: Path, dossier: Dossier, relpath: str
) -> None:
    store = DossierStore(store_root)
    rec = _open(store, dossier)
    with pytest.raises(StoreError, match="not a file path inside it"):
        store.write_file(rec, relpath, b"x")


def test_unsafe_unit_codes_are_refused(store_root: Path, dossier: Dossier) -> None:
    with pytest.raises(StoreError, match="unit code"):
        DossierStore(store_root).get("../TZ", "01/2026", "600-012026-0000000000")


def test_data_that_is_not_json_leaves_the_journal_unchanged(
    store_root: Path, dossier: Dossier
) -> None:
    store = DossierStore(store_root)
    rec = _open(store, dossier)
    before = (rec.path / JOURNAL).read_bytes()
    with pytest.raises(StoreError, match="not JSON"):
        store.record(rec, Step.PREPARED, thing=object())
    assert (rec.path / JOURNAL).read_bytes() == before


def test_a_failed_rename_leaves_the_old_journal_and_no_temp_file(
    store_root: Path, dossier: Dossier, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DossierStore(store_root)
    rec = _open(store, dossier)
    before = (rec.path / JOURNAL).read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StoreError, match="cannot write the journal"):
        store.record(rec, Step.PREPARED)
    monkeypatch.undo()
    assert (rec.path / JOURNAL).read_bytes() == before
    assert not [p for p in rec.path.iterdir() if p.name.endswith(".tmp")]
    assert store.get("TZ9876B", "01/2026", rec.id).state is Step.LOADED


def test_the_store_root_comes_from_settings(data_dir: Path) -> None:
    assert DossierStore().root == data_dir / "store"


def test_load_dossier_rebuilds_what_was_opened(store_root: Path, dossier: Dossier) -> None:
    store = DossierStore(store_root)
    rec = _open(store, dossier)
    pipeline = _pipeline(store)
    view = pipeline.open(dossier)
    assert view.record == rec
    assert pipeline.dossier(view, dossier.unit) == dossier


def test_a_killed_writer_never_leaves_a_half_written_journal_and_resumes(
    store_root: Path, dossier: Dossier
) -> None:
    store = DossierStore(store_root)
    rec = _open(store, dossier)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    expected_next = 0
    for stop_after in (3, 11, 24):
        child = subprocess.Popen(
            [sys.executable, str(WRITER), str(store_root), "TZ9876B", "01/2026", rec.id],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        confirmed = -1
        while confirmed < expected_next + stop_after:
            line = child.stdout.readline()
            assert line, "the writer stopped on its own"
            confirmed = int(line)
        # It is writing the next step now (or about to): cut it off.
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()

        journal = json.loads((rec.path / JOURNAL).read_bytes())  # always whole, valid JSON
        steps = journal["steps"]
        assert steps[0]["step"] == "loaded"
        indices = [s["data"]["i"] for s in steps[1:]]
        # A prefix of what was written: every confirmed step, in order (the writer may have
        # finished a few more before the signal landed, never half of one).
        assert indices == list(range(len(indices)))
        assert len(indices) >= confirmed + 1
        expected_next = len(indices)

        resumed = store.get("TZ9876B", "01/2026", rec.id)
        assert resumed.state is Step.PREPARED
        assert len(resumed.steps) == len(steps)

    final = store.record(resumed, Step.DECLARATIONS_SIGNED, files=1)
    assert final.state is Step.DECLARATIONS_SIGNED
    assert store.get("TZ9876B", "01/2026", rec.id) == final
    assert [r.id for r in store.list("TZ9876B", "01/2026")] == [rec.id]
