"""One unit's run: what it holds (its session, the certificate, what it did), whether a
person answers its questions, and the log-in to the provider (asking for a one-time code
when the provider wants one and a person can type it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from prefect import get_client
from prefect.input.actions import adelete_flow_run_input
from prefect.logging import get_run_logger
from prefect.runtime import deployment, flow_run

from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from esign.errors import TwoFactorRequired
from esign.models import Certificate
from flows._approvals import ApprovalCard
from flows._artifacts import text
from flows._callbacks import CallbackListener
from flows._pauses import OneTimeCode, Question, ask, fresh_key
from tasks.session import UnitSession
from tasks.signing import login_esign

__all__ = ["UnitRun", "is_interactive", "login"]


async def is_interactive(explicit: bool | None) -> bool:
    """A person may answer pauses: a deployment run started by hand (not by the schedule).

    Runs without a deployment (scripts, tests, ``make demo``) count as unattended unless
    told otherwise.
    """
    if explicit is not None:
        return explicit
    if deployment.id is None or flow_run.id is None:
        return False
    async with get_client() as client:
        run = await client.read_flow_run(UUID(flow_run.id))
    return not run.auto_scheduled


@dataclass
class UnitRun:
    """One unit's run: its session (clients, pipeline), and what this run has done so far.

    No secret in it: the tokens live inside the session's client.
    """

    session: UnitSession
    interactive: bool
    #: A question that may wait long suspends the run (``flows._pauses``): set by the
    #: one-unit flows; a run of many units in one process pauses in-process instead (a
    #: suspension would stop every unit of it).
    release_worker: bool = False
    certificate: Certificate | None = None
    approvals: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    #: The approval cards published in this run, newest last: (artifact id, card).
    cards: list[tuple[UUID, ApprovalCard]] = field(default_factory=list)
    #: The provider callbacks heard during the current signing round (None: not listening).
    callbacks: CallbackListener | None = None

    @property
    def unit(self) -> BhxhUnit:
        return self.session.unit

    @property
    def settings(self) -> Settings:
        return self.session.settings


async def login(run: UnitRun) -> str:
    """Log in; in a manual run ask a person for the one-time code when the provider wants one.

    The code is deleted from the run's stored inputs as soon as it is read.
    """
    session = run.session
    unit = run.unit
    try:
        return await login_esign(session)
    except TwoFactorRequired as exc:
        if not run.interactive:
            raise TwoFactorRequired(
                f"Đơn vị {unit.unit_code}: nhà cung cấp gửi mã OTP tới chủ tài khoản "
                f"{session.account}; lượt chạy tự động không nhập được / the provider asks for "
                "a one-time code; an unattended run cannot type it. Start setup_remote_signing "
                "by hand from the Prefect UI (or mark this device as remembered with the "
                "provider)."
            ) from exc
    for attempt in range(3):
        # In-process, never suspended (``flows._pauses``); a key this run never used, so
        # that a run started again after a suspension asks for a new code.
        key = await fresh_key(f"otp-{attempt}")
        question = Question(
            "nhập mã OTP nhà cung cấp ký số vừa gửi",
            "type the one-time code the signing provider sent",
            f"**{text(unit.name)}** ({unit.unit_code}): nhà cung cấp ký số đã gửi mã "
            f"một lần tới chủ tài khoản `{session.account}` / the signing provider sent a "
            f"one-time code to the owner of account `{session.account}`.",
            unit.unit_code,
        )
        answer = await ask(question, OneTimeCode, key=key, settings=run.settings)
        if flow_run.id is not None:
            # The code must not stay in the Prefect database.
            await adelete_flow_run_input(
                key=f"paused-{key}-response", flow_run_id=UUID(flow_run.id)
            )
        try:
            return await login_esign(session, otp=answer.code)
        except TwoFactorRequired:
            get_run_logger().warning(
                "Mã OTP bị từ chối, hỏi lại / the one-time code was refused; asking again"
            )
    raise TwoFactorRequired(
        f"Đơn vị {unit.unit_code}: ba mã OTP liên tiếp bị từ chối / three one-time codes "
        "were refused"
    )
