"""``numderiv steps EXPR --at X``: the table of error against step, and the plot."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from numderiv._scan import step_scan
from numderiv.cli import main


def test_json_equals_step_scan(capsys):
    assert (
        main(["steps", "sqrt(x)", "--at", "1", "--exact", "0.5/sqrt(x)", "--json"]) == 0
    )
    rec = json.loads(capsys.readouterr().out)
    scan = step_scan(np.sqrt, 1.0, exact=0.5)
    assert rec["exact"] == 0.5 and rec["error_kind"] == "exact"
    assert np.array_equal(rec["steps"], scan.steps)
    assert [ln["method"] for ln in rec["lines"]] == ["forward", "central", "complex"]
    for got, ln in zip(rec["lines"], scan.lines, strict=True):
        errs = np.array([float(v) for v in got["errors"]])
        assert np.array_equal(errs, ln.errors, equal_nan=True)
        assert got["value"] == ln.chosen_value and got["error"] == ln.chosen_error
        assert got["chosen_step"] == ln.chosen_step
    # the V: forward differences are worst at the ends of the scan
    fwd = np.array([float(v) for v in rec["lines"][0]["errors"]])
    i = int(np.argmin(np.abs(np.log(scan.steps) - np.log(1.5e-8))))
    assert fwd[i] < 1e-7 < fwd[-1] and np.nanmax(fwd[:5]) > 1e-3


def test_table_marks_the_chosen_step(capsys):
    assert (
        main(
            ["steps", "exp(x)", "--at", "0", "--methods", "central", "--orders", "2,4"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "'*' marks the step numderiv chooses" in out
    rows = [ln for ln in out.splitlines() if ln[:1] == " " and "e-" in ln[:12]]
    assert len(rows) == 30
    marked = [ln for ln in rows if "*" in ln]
    assert 1 <= len(marked) <= 2  # one per line, maybe on the same row
    scan = step_scan(np.exp, 0.0, methods="central", orders=(2, 4))
    for ln in scan.lines:
        assert f"{ln.label}: step {ln.chosen_step:.3g}" in out


def test_csv_one_row_per_step_and_method(capsys):
    assert (
        main(
            [
                "steps",
                "sin(x)",
                "--at",
                "1",
                "--exact",
                "cos(x)",
                "--csv",
                "--steps",
                "12",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 3 * 12
    assert sum(int(r["chosen"]) for r in rows) <= 3
    scan = step_scan(np.sin, 1.0, exact=np.cos(1.0), steps=np.logspace(-16, -1, 12))
    central = [r for r in rows if r["method"] == "central"]
    assert np.array_equal(
        [float(r["error"]) for r in central],
        scan.line("central").errors,
        equal_nan=True,
    )


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "v.png"
    assert (
        main(["steps", "sqrt(x)", "--at", "1", "--plot", str(out), "--steps", "8"]) == 0
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["steps", "sum(x)", "--at", "1,2"], "one number"),
        (["steps", "sin(x)", "--at", "1", "--methods", "adaptive"], "adaptive"),
        (["steps", "sin(x)", "--at", "1", "--exact", "open('f')"], "EXPR"),
        (["steps", "sin(x)", "--at", "1", "--steps", "1"], "--steps"),
        (["steps", "sin(x)", "--at", "1", "--orders", "1.5"], "integers"),
    ],
)
def test_bad_input_exits_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
