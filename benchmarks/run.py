"""Run every benchmark in one process and write benchmarks/RESULTS.md.

``make bench`` runs this.  Each ``bench_*.py`` module exposes
``run() -> list[Row]``; the peers (SciPy, NumPy, numdifftools, findiff,
jacobi) are timed in the same run, so the ratios compare like with like.  A
module may also define ``markdown() -> str``, a section appended after the
table (called after its ``run()``).
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import sys
from pathlib import Path

import numpy as np
import scipy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Row  # noqa: E402


def main() -> int:
    # the speed benchmarks first: the accuracy runs (many peers, BLAS-heavy
    # Hessians) leave the process and the machine in a state that slows the
    # timed rows that follow them by 5-10%
    last = ("bench_accuracy", "bench_adaptive")
    modules = sorted(
        (p.stem for p in HERE.glob("bench_*.py")), key=lambda m: (m in last, m)
    )
    if len(sys.argv) > 1:
        modules = [m for m in modules if any(a in m for a in sys.argv[1:])]
    rows: list[tuple[str, Row]] = []
    sections: list[str] = []
    for name in modules:
        mod = importlib.import_module(name)
        print(f"running {name} ...", flush=True)
        for row in mod.run():
            rows.append((name, row))
            print(
                f"  {row.name}: {row.ratio:.3f} ({row.target}) {'met' if row.met else 'NOT MET'}"
            )
        if hasattr(mod, "markdown"):
            sections.append(mod.markdown())
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`benchmarks/run.py`); every row times numderiv and",
        "its peer in the same run. ratio = numderiv / peer (lower is better unless",
        "the target says otherwise).",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}",
        "",
        "| benchmark | numderiv | peer | peer value | ratio | target | met | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in rows:
        unit = r.unit
        lines.append(
            f"| {r.name} | {r.ours:.4g} {unit} | {r.peer_name} | {r.peer:.4g} {unit} | "
            f"{r.ratio:.3f} | {r.target} | {'yes' if r.met else '**no**'} | {r.notes} |"
        )
    for section in sections:
        lines += ["", section]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
