"""Fuzz suite hooks: the per-entry-point counts at the end of a session.

The settings, counters and oracle live in ``_fuzzkit``; with
``NUMDERIV_FUZZ`` (``make fuzz``) or ``NUMDERIV_FUZZ_STATS`` set, the number
of inputs tried per entry point, and how each call ended, is printed after
the test results.
"""

from __future__ import annotations

import os
from typing import Any

from _fuzzkit import COUNTS, LONG, OUTCOMES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not COUNTS or not (LONG or os.environ.get("NUMDERIV_FUZZ_STATS")):
        return
    tr = terminalreporter
    tr.section("numderiv fuzz: inputs tried per entry point")
    width = max(len(k) for k in COUNTS)
    for entry in sorted(COUNTS):
        o = OUTCOMES[entry]
        detail = ", ".join(f"{k} {o[k]}" for k in sorted(o))
        tr.write_line(f"{entry:<{width}}  {COUNTS[entry]:>7}  ({detail})")
    tr.write_line(f"{'total':<{width}}  {sum(COUNTS.values()):>7}")
