"""``numderiv jacobian|gradient|hessian|derivative``: the numbers of the Python API."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import numderiv as nd
from numderiv import testing
from numderiv.cli import main

SCILAB = "[sin(x[0]*x[1]) + exp(x[1]*x[2] + x[0]), sum(x**3)]"


def _json(capsys, argv):
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert cap.err == ""
    return json.loads(cap.out)


def _num(v):
    return float(v) if isinstance(v, str) else v  # "NaN", "Infinity"


def _arr(v):
    return np.array(v, dtype=object).astype(float) if np.ndim(v) else _num(v)


def _f(x):
    return testing.scilab_example(x)


@pytest.mark.parametrize(
    "opts",
    [
        {},
        {"method": "forward"},
        {"method": "complex"},
        {"method": "central", "order": 4},
        {"method": "adaptive"},
    ],
)
def test_jacobian_json_equals_api(opts, capsys):
    x = np.array([1.0, 2.0, 3.0])
    argv = ["jacobian", SCILAB, "--at", "1,2,3", "--json"]
    for k, v in opts.items():
        argv += [f"--{k}", str(v)]
    rec = _json(capsys, argv)
    J, info = nd.jacobian(_f, x, full_output=True, **opts)
    assert np.array_equal(np.array(rec["value"]), J)
    assert np.array_equal(np.array(rec["error"]), info.error)
    assert np.array_equal(np.array(rec["step"]), info.step)
    assert rec["nfev"] == info.nfev and rec["status"] == info.status == 0
    assert rec["method"] == info.method and rec["order"] == info.order
    # and the exact Jacobian is within the stated error
    Je = testing.scilab_example_jacobian(x)
    assert np.all(np.abs(np.array(rec["value"]) - Je) <= np.array(rec["error"]))


def test_gradient_hessian_derivative_json_equal_api(capsys):
    x = np.array([1.0, 2.0])
    rec = _json(
        capsys, ["gradient", "x[0]**2 * x[1] + exp(x[1])", "--at", "1,2", "--json"]
    )
    g, gi = nd.gradient(lambda t: t[0] ** 2 * t[1] + np.exp(t[1]), x, full_output=True)
    assert np.array_equal(rec["value"], g) and rec["nfev"] == gi.nfev
    assert np.allclose(rec["value"], [4.0, 1.0 + np.exp(2.0)], rtol=1e-9)

    rec = _json(
        capsys, ["hessian", "x[0]**2 * x[1] + exp(x[1])", "--at", "1,2", "--json"]
    )
    H, hi = nd.hessian(lambda t: t[0] ** 2 * t[1] + np.exp(t[1]), x, full_output=True)
    assert np.array_equal(rec["value"], H) and rec["nfev"] == hi.nfev
    He = np.array([[4.0, 2.0], [2.0, np.exp(2.0)]])
    assert np.all(np.abs(np.array(rec["value"]) - He) <= np.array(rec["error"]))

    rec = _json(
        capsys,
        [
            "derivative",
            "sin(x)",
            "--at",
            "0,0.5,1",
            "--n",
            "2",
            "--order",
            "4",
            "--json",
        ],
    )
    t = np.array([0.0, 0.5, 1.0])
    d, di = nd.derivative(np.sin, t, n=2, order=4, full_output=True)
    assert np.array_equal(rec["value"], d) and rec["nfev"] == di.nfev
    assert np.all(np.abs(np.array(rec["value"]) + np.sin(t)) <= np.array(rec["error"]))


def test_vector_hessian_csv_round_trip(capsys):
    argv = ["hessian", "[x[0]**2 * x[1], x[1]**3]", "--at", "1,2", "--csv"]
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    H, info = nd.hessian(
        lambda t: np.array([t[0] ** 2 * t[1], t[1] ** 3]), [1.0, 2.0], full_output=True
    )
    assert len(rows) == H.size
    for r in rows:
        k, i, j = int(r["k"]), int(r["i"]), int(r["j"])
        assert float(r["value"]) == H[k, i, j]
        assert float(r["error"]) == info.error[k, i, j]
        assert float(r["step"]) == info.step[j]
        assert int(r["status"]) == info.status


def test_jacobian_csv_round_trip_and_precision(capsys):
    assert main(["jacobian", SCILAB, "--at", "1,2,3", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    J = nd.jacobian(_f, [1.0, 2.0, 3.0])
    got = np.zeros_like(J)
    for r in rows:
        got[int(r["i"]), int(r["j"])] = float(r["value"])
    assert np.array_equal(got, J)  # all digits: reads back as the same floats
    assert main(["jacobian", SCILAB, "--at", "1,2,3", "--csv", "--precision", "4"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["value"] == f"{J[0, 0]:.4g}" == "1096"


def test_nan_in_json_is_a_string(capsys):
    rec = _json(capsys, ["derivative", "log(x)", "--at", "0,1", "--json"])
    d, info = nd.derivative(np.log, [0.0, 1.0], full_output=True)
    assert rec["value"][0] == "NaN" and np.isnan(d[0])
    assert rec["value"][1] == d[1] and rec["status"] == info.status == -3


def test_options_reach_the_api(capsys):
    # bounds, abs-step, rel-step, directions, f0: each changes the numbers as
    # the same keyword does in Python
    f = lambda t: np.sum(t**3, axis=0)  # noqa: E731
    cases = [
        (["--bounds", "1:2"], {"bounds": (1.0, 2.0)}),
        (["--abs-step", "1e-3"], {"abs_step": 1e-3}),
        (["--rel-step", "1e-4,2e-4"], {"rel_step": np.array([1e-4, 2e-4])}),
        (
            ["--directions", "0.6,0.8;-0.8,0.6"],
            {"directions": [[0.6, 0.8], [-0.8, 0.6]]},
        ),
        (["--method", "forward", "--f0", "9"], {"method": "forward", "f0": 9.0}),
        (
            ["--method", "adaptive", "--rtol", "1e-6", "--maxiter", "12"],
            {"method": "adaptive", "tolerances": {"rtol": 1e-6}, "maxiter": 12},
        ),
        (["--vectorized", "--chunk-size", "2"], {"vectorized": True, "chunk_size": 2}),
    ]
    for flags, kw in cases:
        rec = _json(capsys, ["gradient", "sum(x**3)", "--at", "1,2", "--json", *flags])
        g, info = nd.gradient(f, [1.0, 2.0], full_output=True, **kw)
        assert np.array_equal(rec["value"], g), flags
        assert rec["nfev"] == info.nfev, flags


def test_negative_point_and_bounds(capsys):
    rec = _json(capsys, ["gradient", "sum(x**2)", "--at", "-1,2", "--json"])
    assert np.allclose(rec["value"], [-2.0, 4.0], rtol=1e-9)
    rec = _json(
        capsys, ["derivative", "sqrt(x)", "--at", "1", "--bounds", "1:inf", "--json"]
    )
    assert rec["value"] == [pytest.approx(0.5, rel=1e-6)]  # one point: a list of one


def test_table_is_readable(capsys):
    assert main(["gradient", "sum(x**2)", "--at", "1,2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "gradient of sum(x**2) at x = [1, 2]"
    assert "value:\n  2  4\n" in out
    assert "status 0: success" in out


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "usermod.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def f(x, a=1.0):
                if x[0] > 1.5:
                    raise ZeroDivisionError("boom")
                return a * np.sum(x**2)

            value = 3
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_func_module_attr(user_module, capsys):
    rec = _json(capsys, ["gradient", "--func", "usermod:f", "--at", "1,2", "--json"])
    assert np.allclose(rec["value"], [2.0, 4.0], rtol=1e-9)
    rec = _json(
        capsys,
        [
            "gradient",
            "--func",
            "usermod.py:f",
            "--at",
            "1,2",
            "--kwargs",
            '{"a": 2}',
            "--json",
        ],
    )
    assert np.allclose(rec["value"], [4.0, 8.0], rtol=1e-9)


def test_f_raising_exits_1_naming_the_point(user_module, capsys):
    assert main(["gradient", "--func", "usermod:f", "--at", "2,2"]) == 1
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.count("\n") == 1
    assert cap.err.startswith(
        "numderiv: error: f raised ZeroDivisionError: boom (at x = ["
    )


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["gradient", "sum(x)"], "--at"),
        (["gradient", "--at", "1,2"], "EXPR"),
        (["gradient", "sum(x)", "--at", "1,a"], "'a' is not a number"),
        (["gradient", "x[5]", "--at", "1,2"], "IndexError"),
        (["gradient", "x", "--at", "1,2"], "scalar EXPR"),
        (["gradient", "sum(x)", "--at", "1,2", "--method", "bogus"], "invalid choice"),
        (["gradient", "sum(x)", "--at", "1,2", "--order", "3"], "order"),
        (["gradient", "sum(x)", "--at", "1,2", "--bounds", "0"], "--bounds"),
        (["gradient", "sum(x)", "--at", "5,5", "--bounds", "0:1"], "bounds"),
        (["gradient", "sum(x)", "--at", "1,2", "--rel-step", "1,2,3"], "rel_step"),
        (["gradient", "sum(x)", "--at", "1,2", "--args", "[1]"], "--func"),
        (["gradient", "sum(x)", "--at", "1,2", "--func", "m:f"], "not both"),
        (["gradient", "--func", "no_such_module_xyz:f", "--at", "1"], "cannot import"),
        (["gradient", "--func", "numpy:no_such_attr", "--at", "1"], "no attribute"),
        (["gradient", "--func", "numpy:pi", "--at", "1"], "not callable"),
        (["gradient", "--func", "nocolon", "--at", "1"], "MODULE:ATTR"),
        (["gradient", "sum(x)", "--at", "1,2", "--precision", "40"], "--precision"),
        (["gradient", "sum(x)", "--at", "1,2", "--json", "--csv"], "not allowed with"),
        (
            ["gradient", "sum(x)", "--at", "1,2", "--sparsity", "nofile.npy"],
            "--sparsity",
        ),
        (["derivative", "sin(x)", "--at", "1", "--n", "0"], "n must be"),
        (["jacobian", "x", "--at", "1,2", "--timeout", "1"], "timeout"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.startswith("numderiv: error: ")
    assert cap.err.count("\n") == 1
    assert needle in cap.err


def test_workers_give_the_serial_numbers(capsys):
    serial = _json(capsys, ["jacobian", SCILAB, "--at", "1,2,3", "--json"])
    pooled = _json(
        capsys, ["jacobian", SCILAB, "--at", "1,2,3", "--workers", "2", "--json"]
    )
    assert pooled["value"] == serial["value"] and pooled["nfev"] == serial["nfev"]


def test_exit_status_and_stderr_in_a_subprocess(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "numderiv", "gradient", "open('x')", "--at", "1"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_progress_bar_on_stderr_same_numbers(capsys):
    pytest.importorskip("tqdm")
    assert main(["gradient", "sum(x**2)", "--at", "1,2,3", "--csv"]) == 0
    plain = capsys.readouterr().out
    assert main(["gradient", "sum(x**2)", "--at", "1,2,3", "--csv", "--progress"]) == 0
    cap = capsys.readouterr()
    assert cap.out == plain
    assert "100%" in cap.err and "12/12" in cap.err  # 2n points of a central gradient
