"""The catalogue's layouts are checked with the intake tests' unit and workers."""

from tests.bhxh.intake.conftest import other_unit, period, today, unit, worker

__all__ = ["other_unit", "period", "today", "unit", "worker"]
