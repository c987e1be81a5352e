"""The command line: ``numderiv demo`` and bad input."""

from __future__ import annotations

import shlex
import subprocess
import sys

import numpy as np
import pytest

import numderiv as nd
from numderiv.cli import correct_digits, main
from numderiv.cli._demo import NEXT_STEPS


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


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"numderiv {nd.__version__}"
    assert main(["grid", "--help"]) == 0
    assert "d<name>/d<x>" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [
        ["demo"],
        ["steps", "sqrt(x)", "--at", "1"],
        ["jacobian", "[x[0]*x[1], sin(x[1])]", "--at", "1,2", "--csv"],
    ],
)
def test_closed_pipe_exits_quietly(command):
    # the reader (head) goes away after one line: no traceback, status 0
    res = subprocess.run(
        f"{shlex.quote(sys.executable)} -m numderiv {shlex.join(command)} | head -n 1; "
        "exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.stderr == ""
    assert res.returncode == 0
    assert res.stdout.count("\n") == 1


def test_demo_ends_with_what_to_try_next(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    tail = out.split("What to try next")[1]
    for line in NEXT_STEPS:
        assert line in tail
    assert sum(s.startswith("numderiv ") for s in NEXT_STEPS) == 3
    assert sum(s.startswith("python ") for s in NEXT_STEPS) == 1


@pytest.mark.parametrize("line", NEXT_STEPS)
def test_each_suggestion_runs(line, capsys):
    words = shlex.split(line)
    if words[0] == "numderiv":
        assert main(words[1:]) == 0
        cap = capsys.readouterr()
        assert cap.err == "" and cap.out
        return
    res = subprocess.run(
        [sys.executable, *words[1:]], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0 and res.stderr == ""
    assert np.allclose(np.fromstring(res.stdout.strip("[] \n"), sep=" "), [2.0, 4.0])


@pytest.mark.parametrize(
    "argv",
    [
        ["gradient", "sum(x**2)", "--at", "1,2", "--precision", "0"],
        ["derivative", "sin(x)", "--at", "1", "--precision", "18"],
        ["steps", "sin(x)", "--at", "1", "--precision", "0"],
        ["grid", "no-such-file.csv", "--precision", "99"],
    ],
)
def test_precision_out_of_range_is_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.count("\n") == 1
    assert "--precision must be from 1 to 17" in out.err
