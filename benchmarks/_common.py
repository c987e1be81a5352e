"""Shared helpers for the benchmarks: timing and the result rows.

Every benchmark module exposes ``run() -> list[Row]``; ``benchmarks/run.py``
collects the rows of all modules in one process and writes RESULTS.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Row:
    """One line of RESULTS.md: our time against the peer's, as a ratio."""

    name: str  # what is measured
    ours: float  # seconds (or another unit, then say so in `unit`)
    peer_name: str  # what we compare with
    peer: float  # the peer's value, same unit
    target: str  # the SPEC target, in words, e.g. "ours/peer <= 1.25"
    met: bool  # whether the target holds in this run
    unit: str = "s"
    notes: str = ""

    @property
    def ratio(self) -> float:
        """ours / peer."""
        return self.ours / self.peer if self.peer else float("inf")


def best_time(func: Callable[[], Any], *, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of `number` calls of `func`, over `repeat` repeats (seconds per call)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def paired_times(
    ours: Callable[[], Any],
    peer: Callable[[], Any],
    *,
    rounds: int = 15,
    number: int = 1,
) -> tuple[float, float]:
    """Best times of two callables measured in alternation (seconds per call).

    Alternating the two in each round exposes them to the same machine
    noise; each is run once untimed before it is timed, so neither inherits
    the other's state of caches and memory; the minimum over the rounds is
    the least disturbed run of each.
    """
    best_a = best_b = float("inf")
    for _ in range(rounds):
        peer()
        best_b = min(best_b, best_time(peer, repeat=1, number=number))
        ours()
        best_a = min(best_a, best_time(ours, repeat=1, number=number))
    return best_a, best_b
