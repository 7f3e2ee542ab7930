"""Part 4: the cost of the two-phase profile signature against signxml's one-shot sign().

For a D02-TS with 1, 100, 1,000 and 10,000 workers: ``prepare_signature`` + the RSA
operation (local key, what the provider does) + ``apply_signature``, against
``signxml.XMLSigner(...).sign()`` with the same key and certificate on the same document
(enveloped, RSA-SHA256, SHA-256, C14N 1.0). Time is the median of repeats. Memory twice:
tracemalloc's peak (Python allocations only, in a separate pass since it slows what it
watches) and the growth of the peak RSS of a fresh process (sees lxml's C allocations).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["run_signing"]

C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def _document(workers: int, folder: Path) -> bytes:
    from bhxh.hrdata import build_d02ts, read_workers_csv, write_demo_csv
    from bhxh.models import UnitInfo

    unit = UnitInfo(
        code="TZ1234A", tax_code="0101234567", name="Công ty TNHH Đo Đạc",
        agency_code="07906", signer="Nguyễn Văn A", phone="0901234567",
        address="Số 1 Phố Thử, Hà Nội", email="ketoan@example.vn",
    )  # fmt: skip
    csv = write_demo_csv(folder / f"workers-{workers}.csv", workers, seed=workers)
    return build_d02ts(unit, "01/2026", read_workers_csv(csv))


def _timed(fn: Callable[[], Any], min_repeats: int, budget: float) -> float:
    """Median seconds of ``fn`` over at least ``min_repeats`` runs (more while in budget)."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_repeats or (time.perf_counter() - started < budget and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


_RSS_SCRIPT = """
import json, resource, sys
from benchmarks.signing import _rss_probe
print(json.dumps(_rss_probe(sys.argv[1], sys.argv[2], sys.argv[3])))
"""


def _rss_probe(op: str, pki_dir: str, xml_path: str) -> float:
    """In a fresh process: growth of the peak RSS (MiB) while ``op`` runs once.

    RSS sees lxml's C allocations, which tracemalloc does not. Linux: the peak (VmHWM) is
    reset through ``/proc/self/clear_refs`` just before the operation.
    """
    import tempfile

    from cryptography.hazmat.primitives.serialization import Encoding
    from lxml import etree
    from signxml.algorithms import SignatureMethod
    from signxml.signer import XMLSigner

    from bhxh.signing import apply_signature, prepare_signature
    from sandbox.pki import TestPKI, sign_digest

    issued = TestPKI.load_or_create(Path(pki_dir)).get("bench-signing")
    xml = Path(xml_path).read_bytes()
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm="sha256",
        c14n_algorithm=C14N10,
    )
    pem = issued.certificate.public_bytes(Encoding.PEM).decode()

    def run(data: bytes) -> None:
        if op == "two_phase":
            prepared = prepare_signature(data, issued.der, signing_time=dt.datetime(2026, 1, 15))
            value = sign_digest(issued.private_key, prepared.digest)
            apply_signature(prepared.xml, value, issued.der, prepared=prepared)
        else:
            etree.tostring(signer.sign(etree.fromstring(data), key=issued.private_key, cert=pem))

    with tempfile.TemporaryDirectory() as tmp:
        run(_document(1, Path(tmp)))  # warm up: lazy imports and first-use caches
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    run(xml)
    return (_status_kib("VmHWM") - before) / 1024


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _rss_growth(op: str, pki_dir: Path, xml_path: Path) -> float:
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, op, str(pki_dir), str(xml_path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return float(json.loads(out.stdout))


def run_signing(
    work: Path, pki_dir: Path, sizes: tuple[int, ...], budget: float = 2.0
) -> dict[str, Any]:
    """Measure every size; returns one row per size."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from lxml import etree
    from signxml.algorithms import SignatureMethod
    from signxml.signer import XMLSigner

    from bhxh.signing import PreparedSignature, apply_signature, prepare_signature
    from sandbox.pki import TestPKI, sign_digest

    work.mkdir(parents=True, exist_ok=True)
    pki = TestPKI.load_or_create(pki_dir)
    issued = pki.issue("bench-signing", tax_code="0101234567", unit_name="Công ty TNHH Đo Đạc")
    key = issued.private_key
    der = issued.der
    pem = issued.certificate.public_bytes(Encoding.PEM).decode()
    when = dt.datetime(2026, 1, 15, 9, 0)

    rows: dict[str, Any] = {}
    for workers in sizes:
        xml = _document(workers, work)
        xml_path = work / f"D02-TS-{workers}.xml"
        xml_path.write_bytes(xml)

        def two_phase(xml: bytes = xml) -> bytes:
            prepared = prepare_signature(xml, der, signing_time=when)
            value = sign_digest(key, prepared.digest)
            return apply_signature(prepared.xml, value, der, prepared=prepared)

        def prepare_only(xml: bytes = xml) -> Any:
            return prepare_signature(xml, der, signing_time=when)

        prepared = prepare_only()
        value = sign_digest(key, prepared.digest)

        def apply_only(prepared: PreparedSignature = prepared, value: bytes = value) -> bytes:
            # As the pipeline applies: phase one's digest and the bytes' SHA-256 kept.
            return apply_signature(prepared.xml, value, der, prepared=prepared)

        def signxml_sign(xml: bytes = xml) -> bytes:
            root = etree.fromstring(xml)
            signer = XMLSigner(
                signature_algorithm=SignatureMethod.RSA_SHA256,
                digest_algorithm="sha256",
                c14n_algorithm=C14N10,
            )
            signed = signer.sign(root, key=key, cert=pem)
            out: bytes = etree.tostring(signed, encoding="UTF-8", xml_declaration=True)
            return out

        repeats = 3 if workers >= 10_000 else 5
        t_two = _timed(two_phase, repeats, budget)
        t_prep = _timed(prepare_only, repeats, budget / 2)
        t_apply = _timed(apply_only, repeats, budget / 2)
        t_sx = _timed(signxml_sign, repeats, budget)
        rows[str(workers)] = {
            "workers": workers,
            "document_kib": len(xml) / 1024,
            "prepare_ms": t_prep * 1000,
            "apply_ms": t_apply * 1000,
            "two_phase_ms": t_two * 1000,
            "signxml_ms": t_sx * 1000,
            "ratio": t_two / t_sx,
            "two_phase_traced_peak_mib": _peak(two_phase),
            "signxml_traced_peak_mib": _peak(signxml_sign),
            "two_phase_rss_growth_mib": _rss_growth("two_phase", pki_dir, xml_path),
            "signxml_rss_growth_mib": _rss_growth("signxml", pki_dir, xml_path),
        }
    return rows
