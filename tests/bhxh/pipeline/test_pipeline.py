"""bhxh.pipeline without Prefect: the steps of a dossier, journal-aware and typed.

The provider is played by the test PKI key (``sign_digest``), the carrier by a small
in-memory submitter that records what it was sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bhxh.documents import read_envelope
from bhxh.models import Dossier, UnitInfo
from bhxh.pipeline import (
    DossierOutbox,
    DossierStore,
    DossierView,
    Layout,
    Pipeline,
    Prepared,
    SigningRequest,
    Step,
    VssStatus,
)
from bhxh.pipeline.postgres import PostgresJournal
from bhxh.signing import verify_signature
from bhxh.submission import Capabilities, Handover, NaturalKey, Submission, UnknownOutcome
from deployments.postgres import PostgresCluster
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest
from tests.bhxh.signing.pdf.pdf_support import Pdfsig
from tests.pg_support import libpq_url, new_schema, pg_cluster  # noqa: F401

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def pdfsig(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Pdfsig:
    return Pdfsig.create(pki, tmp_path_factory.mktemp("pdfsig"))


@dataclass
class RecordingPort:
    """A carrier without idempotency keys that records what it receives."""

    name = "recording"
    capabilities = Capabilities(
        idempotency_key=False, registration_read=False, numbers_receipts=False
    )
    sent: list[Submission] = field(default_factory=list)
    lose_next_answer: bool = False

    def _handover(self, n: int, duplicate: bool) -> Handover:
        return Handover("gateway", "submitted", f"GW-{n}", "2026-01-10T08:00:00+07:00", duplicate)

    async def submit(self, submission: Submission) -> Handover:
        self.sent.append(submission)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise UnknownOutcome("the answer was lost", submission.dossier_id)
        return self._handover(len(self.sent), False)

    async def find(self, key: NaturalKey, dossier_id: str) -> Handover | None:
        for n, s in enumerate(self.sent, start=1):
            if s.natural_key == key:
                return self._handover(n, True)
        return None

    async def status(self, key: NaturalKey, dossier_id: str) -> None:
        return None

    async def registration(self, unit_code: str) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


@pytest.fixture(params=["folder", "postgres"])
def pipeline(tmp_path: Path, request: pytest.FixtureRequest) -> Pipeline:
    """The pipeline on each store: the folder journal, the PostgreSQL store."""
    if request.param == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        store = PostgresJournal(libpq_url(cluster), schema=new_schema())
        return Pipeline(store, tmp_path / "outbox")
    return Pipeline(DossierStore(tmp_path / "store"), tmp_path / "outbox")


def _sign_round(
    pipeline: Pipeline, views: list[DossierView], round_no: int, issued: IssuedCertificate
) -> None:
    # The chain as the provider lists it (the PDF's CMS carries it, so pdfsig can build
    # the path to the trusted root).
    chain = TestPKI.load_or_create(issued.cert_path.parents[1]).chain_der(issued.ca)
    prepared = pipeline.prepare_round(views, round_no, issued.der, chain_der=chain)
    pipeline.record_request(views, round_no, f"c-{round_no}", None, None)
    pipeline.record_request(views, round_no, f"c-{round_no}", f"tx-{round_no}", None)
    key = issued.private_key
    signatures = {
        i.document_id: sign_digest(key, i.digest) for v in views for i in prepared[v.id].items
    }
    pipeline.apply_round(views, round_no, f"tx-{round_no}", signatures, issued.der)


async def test_a_business_dossier_goes_through_both_rounds_and_is_submitted_once(
    pipeline: Pipeline,
    dossier: Dossier,
    unit: UnitInfo,
    issued: IssuedCertificate,
    pdfsig: Pdfsig,
) -> None:
    view = pipeline.open(dossier)
    assert view.rounds == (1, 2) and view.approvals_needed == 2 and not view.is_registration
    _sign_round(pipeline, [view], 1, issued)
    pipeline.build_envelopes([view], unit)
    _sign_round(pipeline, [view], 2, issued)
    port = RecordingPort()
    assert await pipeline.submit([view], port) == []
    assert await pipeline.submit([view], port) == []  # done: not sent again

    (sent,) = port.sent
    assert (sent.dossier_id, sent.unit_code, sent.kind) == (view.id, unit.code, "envelope")
    assert verify_signature(sent.content).root_tag == "Hoso"
    assert set(sent.declarations) == {"D02-TS-595.xml"}
    assert sent.approvals == ("tx-1", "tx-2")
    done = pipeline.view(view)
    assert done.submitted and done.state is Step.SUBMITTED
    ack = done.acknowledgement
    assert ack is not None and ack.gateway_transaction_id == "GW-1"
    signed = done.signed(2)
    assert signed is not None and signed.files == ("BHXHDienTu.xml",)
    assert done.certificate_serial == format(issued.certificate.serial_number, "X")
    # The outbox holds the signed envelope, the signed declarations it embeds and the
    # PDF attachment signed in round 1 (the same approval as the declarations).
    folder = pipeline.outbox_dir / unit.code / "01-2026" / view.id
    assert sorted(p.name for p in folder.iterdir()) == [
        "BHXHDienTu.xml",
        "D02-TS-595.xml",
        "Hợp đồng lao động.pdf",
    ]
    prepared = done.prepared(1)
    assert prepared is not None
    assert [i.kind for i in prepared.items] == ["xml", "pdf"]
    signed_pdf = (folder / "Hợp đồng lao động.pdf").read_bytes()
    assert pdfsig.all_valid(signed_pdf)
    if isinstance(pipeline.store, DossierOutbox):  # the store keeps the same files
        kept = pipeline.store.read_outbox(unit.code, "01/2026", view.id)
        assert kept == {p.name: p.read_bytes() for p in folder.iterdir()}
    embedded = read_envelope(sent.content)
    (attachment,) = [f for f in embedded.files if f.form == "CT-DK"]
    assert attachment.content == signed_pdf


async def _signed(
    pipeline: Pipeline, dossier: Dossier, unit: UnitInfo, issued: IssuedCertificate
) -> DossierView:
    view = pipeline.open(dossier)
    _sign_round(pipeline, [view], 1, issued)
    pipeline.build_envelopes([view], unit)
    _sign_round(pipeline, [view], 2, issued)
    return view


async def test_a_lost_answer_without_idempotency_is_looked_up_not_sent_again(
    pipeline: Pipeline, dossier: Dossier, unit: UnitInfo, issued: IssuedCertificate
) -> None:
    view = await _signed(pipeline, dossier, unit, issued)
    port = RecordingPort(lose_next_answer=True)
    done = await pipeline.submit_dossier(view, port)
    assert len(port.sent) == 1
    ack = done.acknowledgement
    assert done.submitted and ack is not None and ack.duplicate


async def test_a_crash_after_submitting_is_looked_up_before_any_second_send(
    pipeline: Pipeline, dossier: Dossier, unit: UnitInfo, issued: IssuedCertificate
) -> None:
    view = await _signed(pipeline, dossier, unit, issued)
    port = RecordingPort()
    # The earlier run journalled ``submitting``, sent, and died before the answer.
    pipeline.store.record(pipeline.view(view).record, Step.SUBMITTING, file="BHXHDienTu.xml")
    await port.submit(pipeline.submission(view))
    done = await pipeline.submit_dossier(view, port)
    assert len(port.sent) == 1 and done.submitted


def test_a_prepared_round_is_not_prepared_again_with_the_same_certificate(
    pipeline: Pipeline, dossier: Dossier, issued: IssuedCertificate, other_issued: IssuedCertificate
) -> None:
    view = pipeline.open(dossier)
    first = pipeline.prepare_round([view], 1, issued.der)[view.id]
    again = pipeline.prepare_round([view], 1, issued.der)[view.id]
    assert isinstance(first, Prepared) and again == first
    template = pipeline.read_file(view, Layout.prepared(1, "D02-TS-595.xml"))
    other = pipeline.prepare_round([view], 1, other_issued.der)[view.id]
    assert other.certificate_serial != first.certificate_serial
    assert pipeline.read_file(view, Layout.prepared(1, "D02-TS-595.xml")) != template


def test_open_requests_give_back_the_journalled_transaction_and_every_document(
    pipeline: Pipeline, dossier: Dossier, issued: IssuedCertificate
) -> None:
    view = pipeline.open(dossier)
    prepared = pipeline.prepare_round([view], 1, issued.der)[view.id]
    pipeline.record_request([view], 1, "c-1", None, None, void=["0A1B2C3D"])
    # Journalled before the send, no answer journalled: it may have reached the provider.
    (unanswered,) = pipeline.open_requests([view], 1)
    assert unanswered.transaction_id is None and not unanswered.answered
    assert unanswered.client_transaction_id == "c-1" and unanswered.dossiers == (view.id,)
    assert unanswered.items == prepared.items
    assert unanswered.void == ("0A1B2C3D",)  # what it replaces, still to be announced
    expires = dt.datetime(2026, 1, 10, 1, 5, tzinfo=dt.UTC)
    pipeline.record_request([view], 1, "c-1", "tx-1", expires)
    (request,) = pipeline.open_requests([view], 1)
    assert request.transaction_id == "tx-1" and request.expires_at == expires
    assert request.items == prepared.items
    assert pipeline.view(view).request(1) == SigningRequest("c-1", "tx-1", expires, (view.id,))
    # Prepared again (another certificate, say) after the request: it is no longer open.
    pipeline.store.record(pipeline.view(view).record, Step.PREPARED, **prepared.to_data())
    assert pipeline.open_requests([view], 1) == []


def test_a_dossier_that_missed_the_answer_joins_the_request_another_dossier_journalled(
    pipeline: Pipeline, dossier: Dossier, issued: IssuedCertificate
) -> None:
    """A run stopped between the answer's journal writes of two dossiers of one request:
    both continue the one transaction (nothing asked twice, nothing called void)."""
    first = pipeline.open(dossier)
    second = pipeline.open(dataclasses.replace(dossier, name="02", attachments=()))
    prepared = pipeline.prepare_round([first, second], 1, issued.der)
    pipeline.record_request([first, second], 1, "c-2", None, None)
    pipeline.record_request([first], 1, "c-2", "tx-2", None, covers=[first.id, second.id])
    (request,) = pipeline.open_requests([first, second], 1)
    assert request.transaction_id == "tx-2" and request.client_transaction_id == "c-2"
    assert {v.id for v in request.pending} == {first.id, second.id}
    assert request.items == prepared[first.id].items + prepared[second.id].items


def test_a_missing_signature_leaves_the_round_unapplied(
    pipeline: Pipeline, dossier: Dossier, issued: IssuedCertificate
) -> None:
    from bhxh.errors import StoreError

    view = pipeline.open(dossier)
    pipeline.prepare_round([view], 1, issued.der)
    with pytest.raises(StoreError, match="returned no signature"):
        pipeline.apply_round([view], 1, "tx-1", {}, issued.der)
    assert not pipeline.view(view).is_signed(1)


def test_a_receipt_and_a_result_are_journalled_once_each(
    pipeline: Pipeline, dossier: Dossier
) -> None:
    view = pipeline.open(dossier)
    numbered = VssStatus("numbered", so_ho_so="00012/2026/07906", dot=1)
    pipeline.record_status(view, numbered)
    pipeline.record_status(view, numbered)
    accepted = VssStatus("accepted", so_ho_so="00012/2026/07906", dot=1, outcome="accepted")
    done = pipeline.record_status(view, accepted)
    steps = [s.step for s in done.record.steps]
    assert steps.count(Step.RECEIPT) == 1 and steps.count(Step.RESULT) == 1
    assert done.receipt == numbered and done.result == accepted


def test_a_registration_form_is_one_round_by_the_catalogue(
    pipeline: Pipeline, unit: UnitInfo
) -> None:
    view = pipeline.open_form(unit, "01/2026", "05", b"<Hoso><CKy_Dvi/></Hoso>")
    assert view.is_registration and view.rounds == (2,) and view.approvals_needed == 1


def test_the_pipeline_imports_no_prefect() -> None:
    code = "import sys, bhxh.pipeline; sys.exit('prefect' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=PROJECT, check=False).returncode == 0
