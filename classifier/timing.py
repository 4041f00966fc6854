"""Seconds spent per stage of classification, summed over calls: what the benchmark reports.

``classify_batch`` wraps each stage in ``with timer("stage"):``; the default timer does
nothing, so the service pays for timing only when someone asks for it.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Protocol

_NOTHING = nullcontext()


class StageTimer(Protocol):
    def __call__(self, stage: str) -> AbstractContextManager[object]: ...


def no_timer(stage: str) -> AbstractContextManager[object]:
    """The default: stages run untimed."""
    return _NOTHING


class _Stage(AbstractContextManager[None]):
    """One stage's clock, reused for every call so that timing a per-item stage stays cheap."""

    __slots__ = ("_started", "seconds")

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.seconds += time.perf_counter() - self._started


class StageTimes:
    """A StageTimer adding up each stage's wall time, in the order stages first ran (one thread)."""

    def __init__(self) -> None:
        self._stages: dict[str, _Stage] = {}

    def __call__(self, stage: str) -> AbstractContextManager[object]:
        clock = self._stages.get(stage)
        if clock is None:
            clock = self._stages[stage] = _Stage()
        return clock

    @property
    def seconds(self) -> dict[str, float]:
        return {stage: clock.seconds for stage, clock in self._stages.items()}

    def total(self) -> float:
        return sum(clock.seconds for clock in self._stages.values())
