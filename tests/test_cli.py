"""The command line: ``numderiv demo`` and bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from numderiv.cli import correct_digits, main


def _rows(text: str) -> dict[tuple[str, int], list[float]]:
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in {
            "central",
            "forward",
            "backward",
            "complex",
            "adaptive",
        }:
            order = None if parts[1] == "-" else int(parts[1])
            rows[parts[0], order] = [float(p) for p in parts[2:]]
    return rows


def test_demo_table(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert set(rows) == {
        ("central", 2),
        ("central", 4),
        ("forward", 1),
        ("backward", 1),
        ("complex", 2),
        ("adaptive", None),
    }
    # columns: J digits, J nfev, J error, H digits, H nfev, H error
    assert rows["central", 2][1] == 6  # 2n
    assert rows["forward", 1][1] == 4  # n + 1
    assert rows["complex", 2][1] == 4  # n, and f(x) checked to be real
    assert rows["central", 2][4] == 13  # n^2 + n + 1
    assert rows["central", 2][0] >= 8
    assert rows["complex", 2][0] >= 13
    assert rows["forward", 1][3] >= 3
    # adaptive: Issue 9's targets (>= 13 digits in <= 45 evaluations for J,
    # >= 12 in <= 135 for the Hessians), with a larger error estimate
    ad = rows["adaptive", None]
    assert ad[0] >= 13 and ad[1] <= 45 and ad[3] >= 12 and ad[4] <= 135
    assert "numderiv.grid.gradient(y)  = [1, 1.5, 2.5, 3.5, 4.5, 5]" in out


def test_python_dash_m():
    res = subprocess.run(
        [sys.executable, "-m", "numderiv", "demo"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0
    assert "Jacobian" in res.stdout


@pytest.mark.parametrize("argv", [[], ["frobnicate"]])
def test_bad_command_is_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("numderiv: error:")
    assert err.count("\n") == 1


def test_correct_digits():
    assert correct_digits([1.0, 2.0], [1.0, 2.0]) == pytest.approx(15.95)
    assert correct_digits([1.001], [1.0]) == pytest.approx(3.0)
    assert correct_digits([1e-5], [0.0]) == pytest.approx(5.0)
    assert correct_digits(np.array([2.0]), np.array([1.0])) == 0.0
