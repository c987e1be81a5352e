"""``numderiv steps EXPR --at X``: the error against the step, table and plot."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from .._scan import HI, LO, step_scan
from ._calls import CommandError, make_function, parse_numbers
from ._expr import Expression
from ._output import write_csv, write_json

__all__ = ["run_steps"]


def _marks(steps: np.ndarray, taken: np.ndarray, chosen: float) -> int:
    """The index of the scanned step nearest (in log) to the chosen one.

    -1 where the chosen step lies outside the scanned range by more than half
    the spacing of the scan (the table then says so instead).
    """
    ok = np.isfinite(taken) & (taken > 0)
    if not ok.any() or not (math.isfinite(chosen) and chosen > 0):
        return -1
    logs = np.log(steps)
    d = np.where(ok, np.abs(logs - math.log(chosen)), np.inf)
    i = int(np.argmin(d))
    half = 0.5 * float(np.median(np.diff(logs))) if steps.size > 1 else math.inf
    return i if d[i] <= half * (1 + 1e-9) else -1


def run_steps(args: argparse.Namespace, out: Any) -> None:
    """Scan, then write the table, JSON or CSV, and the plot."""
    precision = args.precision  # checked by main
    f, name = make_function(args)
    x = parse_numbers(args.at, "--at")
    if x.size != 1:
        raise CommandError(
            f"steps scans a function of one variable: --at takes one number, got "
            f"{args.at!r} (for several variables, scan a line through the point)"
        )
    x0 = float(x[0])
    exact = None
    if args.exact is not None:
        ex = Expression(args.exact)
        v = np.asarray(ex(np.float64(x0)))
        if v.size != 1 or np.iscomplexobj(v):
            raise CommandError(
                f"--exact must give one real number at x = {x0!r}, got {v!r}"
            )
        exact = float(v.reshape(()))
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    orders: Any = None
    if args.orders is not None:
        o = parse_numbers(args.orders, "--orders")
        if not np.all(o == np.round(o)):
            raise CommandError(f"--orders must be integers, got {args.orders!r}")
        orders = [int(v) for v in o]
    steps = None
    if args.steps is not None:
        if not 2 <= args.steps <= 1000:
            raise CommandError(f"--steps must be from 2 to 1000, got {args.steps}")
        steps = np.logspace(LO, HI, args.steps) * max(1.0, abs(x0))
    scan = step_scan(
        f, x0, n=args.n, methods=methods, orders=orders, steps=steps, exact=exact
    )
    marks = [_marks(scan.steps, ln.steps, ln.chosen_step) for ln in scan.lines]
    if args.plot is not None:
        _plot(scan, args.plot)
    if args.json:
        write_json(out, _record(scan, name, marks), precision)
    elif args.csv:
        header = ["method", "order", "step", "estimate", "error", "status", "chosen"]
        rows: list[list[Any]] = []
        for ln, mk in zip(scan.lines, marks, strict=True):
            for i in range(scan.steps.size):
                h = ln.steps[i] if np.isfinite(ln.steps[i]) else scan.steps[i]
                rows.append(
                    [
                        ln.method,
                        ln.order,
                        h,
                        ln.estimates[i],
                        ln.errors[i],
                        int(ln.statuses[i]),
                        int(i == mk),
                    ]
                )
        write_csv(out, header, rows, precision)
    else:
        _table(out, scan, name, marks, precision)


def _record(scan: Any, name: str, marks: list[int]) -> dict[str, Any]:
    return {
        "command": "steps",
        "f": name,
        "x": scan.x,
        "n": scan.n,
        "exact": scan.exact,
        "error_kind": scan.error_kind,
        "steps": scan.steps,
        "lines": [
            {
                "method": ln.method,
                "order": ln.order,
                "steps": ln.steps,
                "estimates": ln.estimates,
                "errors": ln.errors,
                "statuses": ln.statuses,
                "chosen_index": mk,
                "chosen_step": ln.chosen_step,
                "value": ln.chosen_value,
                "error": ln.chosen_error,
                "status": ln.chosen_status,
                "failure": ln.failure,
            }
            for ln, mk in zip(scan.lines, marks, strict=True)
        ],
    }


def _table(
    out: Any, scan: Any, name: str, marks: list[int], precision: int | None
) -> None:
    p = 3 if precision is None else precision
    kind = (
        "|estimate - exact|"
        if scan.error_kind == "exact"
        else "|D(h) - D(next h)|, the change to the next step"
    )
    nth = {1: "1st", 2: "2nd", 3: "3rd"}.get(scan.n, f"{scan.n}th")
    out.write(f"error against step: {nth} derivative of {name} at x = {scan.x!r}\n")
    out.write(f"error: {kind}; '*' marks the step numderiv chooses\n\n")
    w = max(12, p + 8)
    labels = [f"{ln.method} {ln.order}" for ln in scan.lines]
    out.write(f"{'step':>10}" + "".join(f"{lb:>{w}}" for lb in labels) + "\n")
    for i, h in enumerate(scan.steps):
        cells = []
        for ln, mk in zip(scan.lines, marks, strict=True):
            e = ln.errors[i]
            s = "-" if not np.isfinite(e) else f"{e:.{p}g}"
            cells.append(f"{s + ('*' if i == mk else ' '):>{w}}")
        out.write(f"{h:>10.2e}" + "".join(cells) + "\n")
    out.write("\nchosen by numderiv:\n")
    for ln, mk in zip(scan.lines, marks, strict=True):
        if ln.failure:
            out.write(f"  {ln.label}: not scanned ({ln.failure})\n")
            continue
        true = scan.true_error(ln)
        extra = f", true error {true:.{p}g}" if math.isfinite(true) else ""
        if mk < 0:
            extra += " (outside the scanned steps: not marked)"
        out.write(
            f"  {ln.label}: step {ln.chosen_step:.{p}g}, value {ln.chosen_value:.{max(p, 10)}g}, "
            f"error estimate {ln.chosen_error:.{p}g}{extra}, status {ln.chosen_status}\n"
        )


def _plot(scan: Any, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt

        from .. import plot as ndplot
    except ImportError as exc:
        raise CommandError(
            f"--plot needs matplotlib (pip install 'numderiv[plot]'): {exc}"
        ) from None
    fig, ax = plt.subplots(figsize=(7, 5))
    try:
        ndplot.draw_step_scan(scan, ax=ax)
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:
        raise CommandError(f"--plot: cannot write {path!r}: {exc}") from None
    finally:
        plt.close(fig)
