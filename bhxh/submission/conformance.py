"""The conformance kit for submission adapters: a pytest base class to subclass.

In the spirit of Prefect's ``BlockStandardTestSuite``: an adapter author subclasses
:class:`SubmissionPortSuite` in a test module and provides three fixtures, and the suite
checks every behaviour the flows rely on:

* ``port``: the adapter under test (a :class:`bhxh.submission.SubmissionPort`);
* ``carrier``: a :class:`CarrierControl` over the carrier behind it (a test instance of
  the I-VAN's API, or a stand-in) that can count what it received, lose an answer,
  refuse a dossier and move a dossier on (numbered, accepted);
* ``make_submission``: a callable returning a new signed :class:`Submission` the carrier
  accepts (a new one at each call).

Example::

    from bhxh.submission.conformance import SubmissionPortSuite

    class TestMyIvanAdapter(SubmissionPortSuite):
        @pytest.fixture
        async def port(self): ...
        @pytest.fixture
        def carrier(self): ...
        @pytest.fixture
        def make_submission(self): ...

An adapter that reads the C12-TS contribution notice (:class:`NoticeReader`) also runs
:class:`NoticeReaderSuite`, with ``port``, ``make_submission`` and a ``notices`` fixture
(:class:`NoticeControl`).

Plain Python: it imports neither pytest (pytest collects the subclass's tests; the kit
needs nothing of it) nor Prefect, so a package may ship it outside its test dependencies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, Protocol

from bhxh.contributions import parse_c12
from bhxh.submission.port import (
    REGISTRATION_STATES,
    C12Document,
    Handover,
    NoticeReader,
    RegistrationUnavailable,
    Submission,
    SubmissionPort,
    SubmissionRefused,
    UnknownOutcome,
)

__all__ = ["CarrierControl", "NoticeControl", "NoticeReaderSuite", "SubmissionPortSuite"]

_SO_HO_SO = re.compile(r"^\d{5}/\d{4}/\d{5}$")


class CarrierControl(Protocol):
    """The carrier behind an adapter, as a test drives it."""

    #: A unit the carrier knows (registered with it), for the registration read.
    unit_code: str

    def received(self, submission: Submission) -> int:
        """How many times the carrier received this dossier (by natural key)."""
        ...

    def lose_next_answer(self) -> None:
        """The next submission is received, and the answer to it is lost."""
        ...

    def refused(self, submission: Submission) -> tuple[Submission, str]:
        """A submission the carrier will refuse, and words its refusal carries."""
        ...

    def advance(
        self,
        submission: Submission,
        status: Literal["numbered", "accepted", "rejected_at_receipt"],
        message: str = "",
    ) -> None:
        """VSS moves the dossier on (numbers it, accepts it, refuses it with ``message``)."""
        ...


MakeSubmission = Callable[[], Submission]


async def _hand_over(port: SubmissionPort, submission: Submission) -> Handover:
    """What the pipeline does after a lost answer, by the port's capabilities."""
    try:
        return await port.submit(submission)
    except UnknownOutcome:
        if port.capabilities.idempotency_key:
            return await port.submit(submission)
        found = await port.find(submission.natural_key, submission.dossier_id)
        if found is None:
            return await port.submit(submission)
        return found


class SubmissionPortSuite:
    """The behaviours every submission adapter must have (subclass it; see the module)."""

    async def test_a_dossier_is_handed_over_once(
        self, port: SubmissionPort, carrier: CarrierControl, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        handover = await port.submit(submission)
        assert handover.state in ("submitted", "exported")
        assert handover.transaction_id
        assert not handover.duplicate
        assert carrier.received(submission) == 1

    async def test_sending_a_dossier_again_carries_nothing_twice(
        self, port: SubmissionPort, carrier: CarrierControl, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        first = await port.submit(submission)
        if port.capabilities.idempotency_key:
            again = await port.submit(submission)
            assert again.duplicate and again.transaction_id == first.transaction_id
        else:
            found = await port.find(submission.natural_key, submission.dossier_id)
            assert found is not None and found.transaction_id == first.transaction_id
        assert carrier.received(submission) == 1

    async def test_a_lost_answer_never_leads_to_a_second_submission(
        self, port: SubmissionPort, carrier: CarrierControl, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        carrier.lose_next_answer()
        handover = await _hand_over(port, submission)
        assert handover.transaction_id
        assert carrier.received(submission) == 1

    async def test_an_unknown_dossier_is_not_found(
        self, port: SubmissionPort, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        assert await port.find(submission.natural_key, submission.dossier_id) is None

    async def test_a_refusal_carries_the_carriers_words(
        self, port: SubmissionPort, carrier: CarrierControl, make_submission: MakeSubmission
    ) -> None:
        submission, words = carrier.refused(make_submission())
        try:
            await port.submit(submission)
        except SubmissionRefused as exc:
            assert words in str(exc)
            assert carrier.received(submission) == 0
            return
        # Refused after the hand-over (an export's I-VAN software): it comes as a status.
        carrier.advance(submission, "rejected_at_receipt", words)
        status = await port.status(submission.natural_key, submission.dossier_id)
        assert status is not None and status.status == "rejected_at_receipt"
        assert any(words in m for m in status.messages)

    async def test_a_dossier_moves_from_receipt_to_outcome(
        self, port: SubmissionPort, carrier: CarrierControl, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        await port.submit(submission)
        carrier.advance(submission, "numbered")
        numbered = await port.status(submission.natural_key, submission.dossier_id)
        assert numbered is not None and numbered.status in ("numbered", "processing")
        assert numbered.so_ho_so and _SO_HO_SO.match(numbered.so_ho_so)
        assert not numbered.final
        carrier.advance(submission, "accepted")
        accepted = await port.status(submission.natural_key, submission.dossier_id)
        assert accepted is not None and accepted.status == "accepted" and accepted.final
        assert accepted.so_ho_so == numbered.so_ho_so

    async def test_the_registration_is_read_or_declared_absent(
        self, port: SubmissionPort, carrier: CarrierControl
    ) -> None:
        if port.capabilities.registration_read:
            registration = await port.registration(carrier.unit_code)
            assert registration.unit_code == carrier.unit_code
            assert registration.state in REGISTRATION_STATES
            return
        try:
            await port.registration(carrier.unit_code)
        except RegistrationUnavailable:
            return
        raise AssertionError(
            "registration_read is not declared, yet registration() did not raise "
            "RegistrationUnavailable"
        )


# ------------------------------------------------------------------------------ C12-TS
class NoticeControl(Protocol):
    """The carrier behind an adapter, as the C12-TS cases drive it."""

    #: The unit whose notices are read.
    unit_code: str
    #: A month for which the carrier has no notice (one not begun, say).
    empty_period: str

    def issue(self, submission: Submission) -> int:
        """Make the carrier hold a notice for the dossier's period that counts it (VSS
        accepted it; or a person dropped the portal's answer); returns the B.3 total
        (``cong``) the notice must show."""
        ...


class NoticeReaderSuite:
    """The C12-TS read every adapter offering one must have (subclass it beside
    :class:`SubmissionPortSuite`; see the module)."""

    async def test_the_notice_has_the_portals_shape_and_counts_the_dossier(
        self, port: NoticeReader, notices: NoticeControl, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        due = notices.issue(submission)
        document = await port.contribution_notice(submission.unit_code, submission.period)
        assert isinstance(document, C12Document)
        assert (document.unit_code, document.period) == (submission.unit_code, submission.period)
        assert document.source
        notice = parse_c12(
            document.data, period=document.period, unit=document.unit_code, source=document.source
        )
        assert notice.due == due

    async def test_a_month_without_a_notice_reads_none(
        self, port: NoticeReader, notices: NoticeControl
    ) -> None:
        assert await port.contribution_notice(notices.unit_code, notices.empty_period) is None

    async def test_where_the_notice_comes_from_is_declared_honestly(
        self, port: SubmissionPort, notices: NoticeControl, make_submission: MakeSubmission
    ) -> None:
        assert isinstance(port, NoticeReader), "a notice reader implements contribution_notice"
        submission = make_submission()
        notices.issue(submission)
        document = await port.contribution_notice(submission.unit_code, submission.period)
        assert document is not None
        expected = "carrier" if port.capabilities.notice_read else "file"
        assert document.origin == expected, (
            f"notice_read={port.capabilities.notice_read}, yet the notice came from "
            f"{document.origin}"
        )
