"""The export route's last question: in a manual run, the receipt (soHoSo, dot) the
I-VAN's own software gave each exported dossier, recorded as the carrier's receipt."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bhxh.pipeline import DossierView, VssStatus
from flows._artifacts import artifact_key, text
from flows._pauses import ExportReceipt, Question, ask
from flows._run import UnitRun
from tasks.dossiers import record_receipt

__all__ = ["ask_for_receipts"]


async def ask_for_receipts(run: UnitRun, views: Sequence[DossierView]) -> None:
    """In a manual run, ask a person for the receipt of every exported dossier.

    The export route ends at the I-VAN's software: the person imports the files there,
    submits, and types the soHoSo it shows. Left empty, the receipt can come later from
    the export location's receipts file (``track_results`` reads it).
    """
    pipeline = run.session.pipeline
    for view in views:
        current = await asyncio.to_thread(pipeline.view, view)
        ack = current.acknowledgement
        if not current.exported or current.receipt is not None or ack is None:
            continue
        question = Question(
            f"nhập số hồ sơ (soHoSo) I-VAN cấp cho hồ sơ {current.id}",
            f"type the soHoSo the I-VAN gave dossier {current.id}",
            f"**{text(run.unit.name)}** ({run.unit.unit_code}), hồ sơ / dossier "
            f"`{current.id}` (thủ tục / procedure {current.procedure}, kỳ / period "
            f"{current.period}) đã được xuất ra / was exported to `{ack.location}`.\n\n"
            "Nhập tệp vào phần mềm I-VAN, nộp, rồi gõ số hồ sơ (soHoSo) mà phần mềm trả về / "
            "import the files into the I-VAN software, submit, and type the soHoSo it gives.",
            run.unit.unit_code,
        )
        answer = await ask(
            question,
            ExportReceipt,
            key=artifact_key("receipt", current.id),
            settings=run.settings,
            release_worker=run.release_worker,
        )
        if answer.so_ho_so:
            await record_receipt(
                run.session,
                current,
                VssStatus("numbered", so_ho_so=answer.so_ho_so, dot=answer.dot),
            )
