"""apply_signature's quick path (phase one's digest and bytes kept, as the journal keeps
them) and the store's durability barrier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bhxh.errors import SignatureInvalid
from bhxh.pipeline import DossierStore
from bhxh.signing import apply_signature, prepare_signature, verify_signature
from sandbox.pki import IssuedCertificate, sign_digest


def test_the_quick_path_gives_the_same_bytes_as_the_full_check(
    d02: bytes, issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    value = sign_digest(issued.private_key, prepared.digest)
    quick = apply_signature(prepared.xml, value, issued.der, prepared=prepared)
    assert quick == apply_signature(prepared.xml, value, issued.der)
    verify_signature(quick)


def test_bytes_changed_since_phase_one_leave_the_quick_path_and_are_refused(
    d02: bytes, issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    value = sign_digest(issued.private_key, prepared.digest)
    altered = prepared.xml.replace(b"<HoTen>", b"<HoTen>X", 1)
    with pytest.raises(SignatureInvalid, match="reference digest"):
        apply_signature(altered, value, issued.der, prepared=prepared)


def test_a_wrong_value_is_refused_on_the_quick_path_too(
    d02: bytes, issued: IssuedCertificate, other_issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    wrong = sign_digest(other_issued.private_key, prepared.digest)
    with pytest.raises(SignatureInvalid):
        apply_signature(prepared.xml, wrong, issued.der, prepared=prepared)


def test_a_batch_makes_its_writes_durable_once_at_its_end(
    store_root: Path, dossier: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bhxh.pipeline import Pipeline

    store = DossierStore(store_root)
    rec = Pipeline(store, store_root.parent / "outbox").open(dossier).record  # type: ignore[arg-type]
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    with store.batch():
        for i in range(5):
            store.write_file(rec, f"prepared/r1/f{i}.xml", b"<x/>")
        with store.batch():  # nested: durable with the outer one
            store.write_file(rec, "prepared/r1/g.xml", b"<y/>")
        assert synced == []
    # Six files, the two new folders (prepared/, prepared/r1/) and the three folders
    # holding them (the dossier's, prepared/, prepared/r1/): each once.
    assert len(synced) == 6 + 2 + 3
    synced.clear()
    store.write_file(rec, "prepared/r1/h.xml", b"<z/>")  # outside: durable at once
    assert len(synced) == 2
