"""The pauses of a run: how a run asks a person (:func:`ask`), and the forms it asks with.

Every pause announces itself: what is asked, how to answer, until when.

Before a run waits for a person it publishes an artifact and logs one line saying what is
asked, how to answer (the run's page, its ⋮ menu, Resume) and until when (Vietnam time,
the zone shown); the run's Paused state carries the same sentence as its message, so it
shows wherever Prefect shows the state. Once answered, the card says so.

``prefect.flow_runs.apause_flow_run`` proposes a Paused state without a message; this is
the same protocol (propose Paused with the pause key and the run-input keyset, save the
form's schema, poll until the run is resumed, read the answer) with the message set.

Which waits hold a process. A question that may wait for hours (the certificate choice,
the 04 or 05 form, ask again after a rejection, an exported dossier's receipt) is asked
with ``release_worker=True``: in a run a worker took from a work pool it *suspends*
(``prefect.flow_runs.asuspend_flow_run``'s protocol with the message set: a Suspended
state, the form saved, the process exits and the worker holds nothing). The answer
reschedules the run; any worker of the pool takes it and runs the flow again from the
top; the dossier journal makes that re-run continue without repeating an approval or a
submission, and when it reaches the same question (same key) it finds the answer stored
in the run (:func:`was_answered`) instead of asking again. Elsewhere (no deployment:
tests, ``make demo``; a served deployment, which has no pool; a child run, which Prefect
does not suspend) it pauses in-process. The one-time code always pauses in-process: it
expires within minutes, and a re-run would have to log in again with a new one (the
provider's session token is a secret and is never stored), so suspending it would cost
the person a second code; it gets a key never used before in the run (:func:`fresh_key`)
so that a re-run asks for a new code. The waits for the phone are not pauses at all: the
flow polls the provider in-process (seconds to a few minutes).

The forms (``RunInput`` classes) follow :func:`ask`: the one-time code, ask again or stop,
the certificate to sign with, the 04 or 05 form, an exported dossier's receipt. Their
fields carry their own titles, descriptions and defaults: the resume form shows them so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar, cast

import anyio
from prefect import get_client
from prefect._flow_run_suspension import mark_flow_run_suspension_requested
from prefect.client.schemas.objects import FlowRun, State
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout, Pause
from prefect.input import RunInput, keyset_from_base_key
from prefect.logging import get_run_logger
from prefect.states import Paused, Suspended
from prefect.utilities.engine import propose_state
from pydantic import Field, SecretStr, create_model

from bhxh.periods import now_vn
from bhxh.settings import Settings
from esign.models import Certificate
from flows._artifacts import artifact_key, publish_markdown, text, update_markdown, vn_time

__all__ = [
    "ASK_AGAIN",
    "HOW_TO_ANSWER",
    "REGISTRATION_CHOICES",
    "STOP",
    "AskAgain",
    "ExportReceipt",
    "OneTimeCode",
    "Question",
    "RegistrationAnswer",
    "ask",
    "certificate_choice",
    "certificate_label",
    "certificate_labels",
    "fresh_key",
    "recommended_certificate",
    "suspends_here",
    "was_answered",
]

R = TypeVar("R", bound=RunInput)

#: Where the answer is given, in the words of the UI ``make server``'s address opens
#: (Prefect's new UI: no Resume button in the header, Resume is an item of the run's ⋮
#: menu, and the dialog's button is Resume too), then of the classic UI its deep links open.
HOW_TO_ANSWER = (
    "trên trang của lượt chạy này mở menu ⋮ ở góc trên bên phải, chọn Resume, điền biểu "
    "mẫu rồi bấm nút Resume của hộp thoại (giao diện cũ: nút Resume ở góc trên bên phải, "
    "rồi Submit) / on this run's page open the ⋮ menu at the top right, choose Resume, "
    "fill in the form, then press the dialog's Resume button (classic UI: the Resume "
    "button at the top right, then Submit)"
)


@dataclass(frozen=True)
class Question:
    """What a pause asks a person.

    Attributes:
        vi: the question in Vietnamese, short ("chọn chứng thư số để ký").
        en: the same in English ("choose the certificate to sign with").
        details: markdown shown in the resume form and the artifact (what to choose
            from, why); may be empty.
        unit_code: the unit the question is about.
    """

    vi: str
    en: str
    details: str
    unit_code: str


async def ask(
    question: Question,
    form: type[R],
    *,
    key: str,
    settings: Settings,
    release_worker: bool = False,
) -> R:
    """Pause the current flow run until a person answers ``form`` (or the pause times out).

    Args:
        question: what is asked.
        form: the run input the resume form shows; its fields carry their own defaults
            (``RunInput.with_initial_data`` would replace a field given initial data by a
            bare one, dropping its title and description from the form).
        key: the pause key, unique in the run (``certificate``, ``otp-0``...).
        settings: the pause timeout and poll interval.
        release_worker: a person may be slow here: suspend the run where it can be
            (:func:`suspends_here`) instead of pausing in-process (module docstring).

    Returns the answer stored in the run when this key was asked before (a suspended run
    started again reaches its question a second time).

    Raises:
        FlowPauseTimeout: nobody answered within ``settings.pause_timeout_seconds``.
        prefect.exceptions.Pause: the run is suspended (the flow engine ends the process;
            nothing of the flow may catch it, and nothing does: it is a BaseException).
    """
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("only a flow run can pause to ask a person")
    flow_run_id = context.flow_run.id
    async with get_client() as client:
        current = await client.read_flow_run(flow_run_id)
    if key in (current.empirical_policy.pause_keys or set()):
        return await _answered_before(question, form, key)
    suspend = release_worker and suspends_here(current)
    timeout = settings.pause_timeout_seconds
    until = vn_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=timeout))
    sentence = (
        f"Chờ bạn trả lời / waiting for your answer: {question.vi} / {question.en} "
        f"({question.unit_code}). Trả lời / answer: {HOW_TO_ANSWER}. "
        f"Hạn / until {until}."
    )
    details = f"{question.details}\n\n" if question.details else ""
    markdown = (
        f"## Cần bạn trả lời / Your answer is needed: {text(question.vi)} / "
        f"{text(question.en)}\n\n"
        f"{details}"
        f"**Cách trả lời / how to answer:** {HOW_TO_ANSWER}.\n\n"
        f"**Hạn / until:** {until}. Sau đó lượt chạy dừng (Failed) và mọi việc đã làm được "
        "giữ lại / after that the run stops (Failed); everything done so far is kept.\n"
    )
    description = f"Câu hỏi / question ({question.unit_code}): {question.vi} / {question.en}"
    card = await publish_markdown(
        markdown, artifact_key("cau-hoi", "question", question.unit_code, key), description
    )
    logger = get_run_logger()
    logger.info("%s", sentence)

    form = form.with_initial_data(description=f"{details}**Hạn / until:** {until}")
    proposed: State[Any] = (
        Suspended(timeout_seconds=timeout, pause_key=key, message=sentence[:2000])
        if suspend
        else Paused(
            timeout_seconds=timeout, reschedule=False, pause_key=key, message=sentence[:2000]
        )
    )
    # "paused-<key>" whether suspended or not (Prefect would name a suspension's inputs
    # "suspended-<key>"): one name, wherever the re-run finds the answer.
    keyset = keyset_from_base_key(f"paused-{key}")
    proposed.state_details.run_input_keyset = cast(dict[str, str], keyset)
    answered = False
    async with get_client() as client:
        state = await propose_state(client=client, state=proposed, flow_run_id=flow_run_id)
        if state.is_running():  # this pause fired before and was answered
            answered = True
        elif not state.is_paused():
            raise RuntimeError(f"the run could not pause: the server answered {state}")
        elif suspend:
            await form.asave(keyset)
            logger.info("%s", SUSPENDED)
            # What prefect.flow_runs.asuspend_flow_run does next: the engine ends the run
            # here (the state is already Suspended) and the process exits.
            mark_flow_run_suspension_requested(flow_run_id, state)
            raise Pause(state=state)
        else:
            await form.asave(keyset)
            with anyio.move_on_after(timeout):
                await anyio.sleep(min(timeout / 2, settings.pause_poll_seconds))
                while not answered:
                    run = await client.read_flow_run(flow_run_id)
                    answered = bool(run.state and run.state.is_running())
                    if not answered:
                        await anyio.sleep(settings.pause_poll_seconds)
            if not answered:
                run = await client.read_flow_run(flow_run_id)
                answered = bool(run.state and run.state.is_running())
    if not answered:
        await update_markdown(
            card,
            markdown + f"\n**Không ai trả lời trước hạn / nobody answered before {until}.**\n",
            f"Hết hạn / timed out: {description}",
        )
        raise FlowPauseTimeout(
            f"{question.unit_code}: không ai trả lời trước {until} / nobody answered before "
            f"{until} ({question.en})"
        )
    logger.info("Đã nhận câu trả lời / answer received: %s", question.en)
    answer = await form.aload(keyset)
    await update_markdown(
        card,
        markdown + f"\n**Đã trả lời lúc / answered at {vn_time(dt.datetime.now(dt.UTC))}.**\n",
        f"Đã trả lời / answered: {description}",
    )
    return answer


#: Logged when a run suspends for a person.
SUSPENDED = (
    "Lượt chạy tạm ngưng và không chiếm máy nào trong lúc chờ; khi bạn trả lời, nó chạy lại "
    "từ đầu trên một máy bất kỳ của nhóm máy và tiếp tục từ sổ hồ sơ, không xin duyệt lại, "
    "không nộp lại / the run is suspended and holds no worker while it waits; once answered, "
    "any worker of the pool runs it again from the top and it continues from the dossier "
    "journal, asking no approval and submitting nothing twice"
)


def suspends_here(run: FlowRun) -> bool:
    """Whether a question of ``run`` may suspend it rather than pause in-process.

    Only a run a worker took from a work pool: Prefect reschedules a suspended run of a
    deployment onto its pool when it is answered (a served deployment has no pool: our
    choice is to keep its runs in-process), and refuses to suspend a child run.
    """
    return (
        run.deployment_id is not None
        and run.work_pool_name is not None
        and run.parent_task_run_id is None
    )


async def _answered_before(question: Question, form: type[R], key: str) -> R:
    """The answer a person gave to ``key`` earlier in this run (before it was suspended)."""
    answer = await form.aload(keyset_from_base_key(f"paused-{key}"))
    markdown = (
        f"## Đã trả lời / Answered: {text(question.vi)} / {text(question.en)}\n\n"
        f"**Đã trả lời, lượt chạy tiếp tục / answered, the run goes on "
        f"({vn_time(dt.datetime.now(dt.UTC))}).**\n"
    )
    await publish_markdown(
        markdown,
        artifact_key("cau-hoi", "question", question.unit_code, key),
        f"Đã trả lời / answered ({question.unit_code}): {question.vi} / {question.en}",
    )
    get_run_logger().info("Đã nhận câu trả lời / answer received: %s", question.en)
    return answer


async def was_answered(key: str) -> bool:
    """Whether this run asked ``key`` before (and so holds its answer)."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return False
    async with get_client() as client:
        run = await client.read_flow_run(context.flow_run.id)
    return key in (run.empirical_policy.pause_keys or set())


async def fresh_key(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... : a pause key this run never used, for a
    question whose answer must not be found again by a re-run (the one-time code)."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return base
    async with get_client() as client:
        run = await client.read_flow_run(context.flow_run.id)
    used = run.empirical_policy.pause_keys or set()
    key, n = base, 1
    while key in used:
        n += 1
        key = f"{base}-{n}"
    return key


# ------------------------------------------------------------------------------ forms
#: The two answers after a rejection or an expiry, as the form shows them.
ASK_AGAIN: Final = "Gửi lại yêu cầu tới điện thoại / ask the phone again"
STOP: Final = "Dừng ở đây, giữ mọi việc đã làm / stop here, keep everything done so far"


class OneTimeCode(RunInput):
    """The one-time code the provider sent (SMS, e-mail or authenticator app)."""

    code: SecretStr = Field(
        title="Mã OTP / one-time code",
        description="Mã một lần nhà cung cấp ký số vừa gửi (SMS, e-mail hoặc ứng dụng), "
        "ví dụ 123456 / the one-time code the signing provider just sent (SMS, e-mail or "
        "app), e.g. 123456.",
    )


class AskAgain(RunInput):
    """What to do after the phone rejected the request or let it expire."""

    action: Literal[
        "Gửi lại yêu cầu tới điện thoại / ask the phone again",
        "Dừng ở đây, giữ mọi việc đã làm / stop here, keep everything done so far",
    ] = Field(
        default=ASK_AGAIN,
        title="Làm gì tiếp? / What next?",
        description="Gửi lại: điện thoại nhận một yêu cầu ký mới. Dừng: lượt chạy kết thúc, "
        "không mất gì, chạy lại sau / ask again: the phone gets a new signing request. "
        "Stop: the run ends, nothing is lost, run it again later.",
    )


def recommended_certificate(fitting: Sequence[Certificate]) -> Certificate:
    """The certificate the drop-down recommends: the one valid the longest (the documents
    are silent; our choice: a renewal bought before the old one ends is the one to keep)."""
    return max(fitting, key=lambda c: (c.not_after, c.not_before))


def certificate_label(cert: Certificate, *, recommended: bool = False, in_use: bool = False) -> str:
    """One line of the certificate drop-down: whether it is the recommended one and
    whether the unit signs with it now, then what tells two certificates of one unit apart
    (alias, serial, validity: a chosen line is shown cut to the dialog's width in the new
    UI, so these come first), then who it is for and who issued it."""
    mark = "★ Nên chọn / recommended · " if recommended else ""
    mark += "Đang dùng / in use · " if in_use else ""
    issuer = cert.issuer_name or "-"
    try:
        subject = cert.common_name or cert.subject
    except ValueError:  # a certificate the provider listed without readable DER
        subject = cert.subject
    return (
        f"{mark}{cert.alias} · serial {cert.serial} · hiệu lực / valid "
        f"{now_vn(cert.not_before):%d/%m/%Y} - {now_vn(cert.not_after):%d/%m/%Y} · "
        f"{subject} · cấp bởi / issuer {issuer}"
    )


def certificate_labels(fitting: Sequence[Certificate], in_use: str = "") -> dict[str, str]:
    """label -> serial for the drop-down, the recommended certificate first; ``in_use``:
    the serial the unit signs with now (setup run again), marked as such."""
    best = recommended_certificate(fitting)
    ordered = [best, *(c for c in fitting if c is not best)]
    return {
        certificate_label(
            c, recommended=c is best, in_use=bool(in_use) and c.serial.upper() == in_use.upper()
        ): c.serial
        for c in ordered
    }


def certificate_choice(fitting: tuple[Certificate, ...], in_use: str = "") -> type[RunInput]:
    """A run input whose one field is a drop-down of the fitting certificates, each shown
    by subject, issuer, validity and serial, the recommended one first and chosen to start
    with, the one in use marked (:func:`certificate_labels` maps the answer back to a
    serial)."""
    labels = tuple(certificate_labels(fitting, in_use))
    model: type[RunInput] = create_model(
        "CertificateChoice",
        __base__=RunInput,
        serial=(
            Literal.__getitem__(labels),  # type: ignore[arg-type]
            Field(
                default=labels[0],
                title="Chứng thư số dùng để ký / certificate to sign with",
                description="Chọn chứng thư ký hồ sơ của đơn vị: tên chủ thể, nơi cấp, thời "
                "hạn; chứng thư có dấu ★ là chứng thư nên chọn (còn hạn lâu nhất) / choose the "
                "certificate that signs this unit's dossiers: subject, issuer, validity; the "
                "one marked ★ is recommended (valid the longest).",
            ),
        ),
    )
    return model


#: The choice when nobody can tell what VSS has on file, by the form's label.
REGISTRATION_CHOICES: Mapping[str, str] = {
    "05: đã đăng ký bằng chứng thư khác (USB token), nộp tờ khai thay đổi / registered "
    "with another certificate: submit the change form": "05",
    "04: chưa từng đăng ký, nộp tờ khai đăng ký / never registered: submit the "
    "registration form": "04",
    "Đã đăng ký đúng chứng thư này, không nộp gì / already registered with this very "
    "certificate: submit nothing": "registered",
}


class RegistrationAnswer(RunInput):
    """Whether the unit is already registered with VSS for e-transactions."""

    form: Literal[
        "05: đã đăng ký bằng chứng thư khác (USB token), nộp tờ khai thay đổi / registered "
        "with another certificate: submit the change form",
        "04: chưa từng đăng ký, nộp tờ khai đăng ký / never registered: submit the "
        "registration form",
        "Đã đăng ký đúng chứng thư này, không nộp gì / already registered with this very "
        "certificate: submit nothing",
    ] = Field(
        default="05: đã đăng ký bằng chứng thư khác (USB token), nộp tờ khai thay đổi / "
        "registered with another certificate: submit the change form",
        title="Tờ khai cần nộp / form to submit",
        description="Chọn theo những gì đơn vị đã đăng ký với BHXH / choose from what the "
        "unit registered with VSS before.",
    )


class ExportReceipt(RunInput):
    """The receipt the I-VAN's software gave for an exported dossier."""

    so_ho_so: str = Field(
        default="",
        pattern=r"^(\d{5}/\d{4}/\d{5})?$",
        title="Số hồ sơ / soHoSo",
        description="Số hồ sơ phần mềm I-VAN hiện sau khi nộp, dạng NNNNN/YYYY/CCCCC, ví dụ "
        "03706/2026/07906; để trống để nhập sau vào receipts.csv / the soHoSo the I-VAN "
        "software showed after submitting, e.g. 03706/2026/07906; leave empty to enter it "
        "later in receipts.csv.",
    )
    dot: int | None = Field(
        default=None,
        ge=1,
        title="Đợt / dot",
        description="Đợt nộp nếu phần mềm có hiện, ví dụ 1; để trống nếu không / the batch "
        "number (dot) if the software showed one, e.g. 1; empty otherwise.",
    )
