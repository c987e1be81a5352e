"""``numderiv grid FILE``: CSV and NPY, streamed in blocks equal to the whole file."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import numderiv as nd
from numderiv.cli import main

N = 157


def _write_csv(path, names, cols):
    with open(path, "w") as fh:
        fh.write(",".join(names) + "\n")
        for row in zip(*cols, strict=True):
            fh.write(",".join(repr(float(v)) for v in row) + "\n")


def _run(capsys, argv):
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert cap.err == ""
    lines = cap.out.splitlines()
    return lines[0].split(","), np.loadtxt(
        io.StringIO("\n".join(lines[1:])), delimiter=",", ndmin=2
    )


@pytest.fixture(params=["uniform", "nonuniform"])
def data(request, tmp_path):
    rng = np.random.default_rng(1)
    if request.param == "uniform":
        t = np.arange(N) * 0.125
    else:
        t = np.cumsum(rng.uniform(0.05, 0.2, N))
    y = np.sin(t)
    z = t**3
    path = tmp_path / "d.csv"
    _write_csv(path, ["t", "y", "z"], [t, y, z])
    return request.param, path, t, np.stack([y, z], axis=1)


@pytest.mark.parametrize(("n", "acc"), [(1, 2), (2, 2), (1, 4), (3, 6)])
def test_csv_against_the_library_and_chunked(data, n, acc, capsys):
    kind, path, t, Y = data
    argv = ["grid", str(path), "--x", "t", "--n", str(n), "--accuracy", str(acc)]
    header, whole = _run(capsys, argv)
    suffix = "" if n == 1 else str(n)
    assert header == ["t", f"d{suffix}y/dt{suffix}", f"d{suffix}z/dt{suffix}"]
    assert np.array_equal(whole[:, 0], t)
    x = t[1] - t[0] if kind == "uniform" else t
    ref = nd.grid.derivative(Y, x, n=n, axis=0, accuracy=acc)
    assert np.array_equal(whole[:, 1:], ref)  # bit for bit
    for rows in (7, 16, 50):
        _, chunked = _run(capsys, [*argv, "--chunk-rows", str(rows)])
        assert np.array_equal(chunked, whole), rows


@pytest.mark.parametrize(("n", "acc"), [(1, 2), (2, 4), (1, 6)])
def test_periodic_chunked_equals_whole(data, n, acc, capsys):
    kind, path, t, Y = data
    argv = [
        "grid",
        str(path),
        "--x",
        "t",
        "--n",
        str(n),
        "--accuracy",
        str(acc),
        "--periodic",
    ]
    if kind == "nonuniform":
        period = float(t[-1] - t[0]) + 0.1
        argv += ["--period", repr(period)]
        x = np.append(t, t[0] + period)
    else:
        x = t[1] - t[0]
    _, whole = _run(capsys, argv)
    ref = nd.grid.derivative(Y, x, n=n, axis=0, accuracy=acc, boundary="periodic")
    # the wrapped rows by the interior formula: equal to rounding
    assert np.allclose(whole[:, 1:], ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    r = (n + acc) // 2
    assert np.array_equal(whole[r:-r, 1:], ref[r:-r])
    for rows in (8, 23):
        _, chunked = _run(capsys, [*argv, "--chunk-rows", str(rows)])
        assert np.array_equal(chunked, whole), rows


def test_non_uniform_file_with_uniform_blocks(tmp_path, capsys):
    # a file whose first rows are equally spaced but the rest are not: every
    # block uses the file's (non-uniform) weights, as the in-memory call does
    t = np.concatenate([np.arange(40.0), 40 + np.cumsum(np.linspace(0.5, 1.5, 40))])
    path = tmp_path / "m.csv"
    _write_csv(path, ["t", "y"], [t, np.cos(t / 10)])
    ref = nd.grid.derivative(np.cos(t / 10), t, n=2)
    _, whole = _run(capsys, ["grid", str(path), "--x", "t", "--n", "2"])
    _, chunked = _run(
        capsys, ["grid", str(path), "--x", "t", "--n", "2", "--chunk-rows", "10"]
    )
    assert np.array_equal(whole[:, 1], ref) and np.array_equal(chunked, whole)


def test_row_index_when_no_x(tmp_path, capsys):
    path = tmp_path / "y.csv"
    y = np.array([1, 2, 4, 7, 11, 16], dtype=float)
    _write_csv(path, ["y"], [y])
    header, out = _run(capsys, ["grid", str(path)])
    assert header == ["i", "dy/di"]
    assert np.array_equal(out[:, 0], np.arange(6))
    # NumPy's gradient example; second-order ends, as edge_order=2
    assert np.array_equal(out[:, 1], np.gradient(y, edge_order=2))


def test_npy_2d_and_1d_and_structured(tmp_path, capsys):
    t = np.linspace(0, 1, 40)
    a = np.stack([t, np.exp(t), t**2], axis=1)
    np.save(tmp_path / "a.npy", a)
    header, out = _run(
        capsys, ["grid", str(tmp_path / "a.npy"), "--x", "c0", "--accuracy", "4"]
    )
    assert header == ["c0", "dc1/dc0", "dc2/dc0"]
    ref = nd.grid.derivative(a[:, 1:], t, axis=0, accuracy=4)
    assert np.array_equal(out[:, 1:], ref)
    _, chunked = _run(
        capsys,
        [
            "grid",
            str(tmp_path / "a.npy"),
            "--x",
            "0",
            "--accuracy",
            "4",
            "--chunk-rows",
            "12",
        ],
    )
    assert np.array_equal(chunked, out)

    np.save(tmp_path / "b.npy", np.arange(10) ** 2)  # integers: float64
    header, out = _run(capsys, ["grid", str(tmp_path / "b.npy"), "--n", "2"])
    assert header == ["i", "d2y/di2"] and np.array_equal(out[:, 1], np.full(10, 2.0))

    rec = np.zeros(30, dtype=[("time", "f8"), ("pos", "f4")])
    rec["time"] = np.arange(30) * 0.5
    rec["pos"] = rec["time"] ** 2
    np.save(tmp_path / "c.npy", rec)
    header, out = _run(capsys, ["grid", str(tmp_path / "c.npy"), "--x", "time"])
    assert header == ["time", "dpos/dtime"]
    assert np.allclose(out[1:-1, 1], 2 * rec["time"][1:-1], rtol=1e-6)


@pytest.mark.parametrize("method", ["savgol", "spline", "spectral"])
def test_smooth_equals_smooth_derivative(method, tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 128, endpoint=False)
    y = np.sin(t) + 0.01 * rng.standard_normal(t.size)
    path = tmp_path / "s.csv"
    _write_csv(path, ["t", "y"], [t, y])
    _, out = _run(capsys, ["grid", str(path), "--x", "t", "--smooth", method])
    tt = np.loadtxt(path, delimiter=",", skiprows=1)[:, 0]  # the x read back
    ref = nd.grid.smooth_derivative(y.reshape(-1, 1), tt, method=method, axis=0)
    assert np.array_equal(out[:, 1], ref[:, 0])


def test_precision(tmp_path, capsys):
    path = tmp_path / "p.csv"
    _write_csv(path, ["t", "y"], [np.arange(5.0) / 3, np.arange(5.0) ** 2 / 7])
    assert main(["grid", str(path), "--x", "t", "--precision", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "0.333,0.857"  # d(i**2/7)/d(i/3) = 6 i / 7 at i = 1


@pytest.mark.parametrize(
    ("content", "argv", "needle"),
    [
        ("t,y\n0,1\n1,x\n2,3\n", ["--x", "t"], "line 3: 'x' is not a number"),
        ("t,y\n0,1\n1,2,3\n2,3\n", ["--x", "t"], "line 3 has 3 fields"),
        ("t,y\n0,1\n0,2\n2,3\n", ["--x", "t"], "strictly increasing"),
        ("t,y\n0,1\n1,2\n2,3\n", ["--x", "s"], "not a column"),
        ("1,2\n3,4\n", [], "not a header"),
        ("", [], "empty"),
        ("t,y\n", ["--x", "t"], "no data rows"),
        ("t,y\n0,1\n1,2\n", ["--x", "t", "--n", "2"], "needs at least"),
        ("t,y\n0,1\n1,2\n2,3\n", ["--accuracy", "3"], "accuracy"),
        ("t,y\n0,1\n1,2\n2,3\n", ["--smooth", "savgol", "--periodic"], "--periodic"),
        ("t,y\n0,1\n1,2\n2,3\n", ["--window", "5"], "--smooth"),
        ("t\n0\n1\n2\n", ["--x", "t"], "no column"),
    ],
)
def test_bad_files_exit_2_with_one_line(content, argv, needle, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["grid", str(path), *argv]) == 2
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and needle in cap.err, cap.err


def test_missing_file_and_bad_npy(tmp_path, capsys):
    assert main(["grid", str(tmp_path / "none.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "x.npy").write_bytes(b"not npy")
    assert main(["grid", str(tmp_path / "x.npy")]) == 2
    assert "not a readable .npy" in capsys.readouterr().err


def test_quoted_names_and_crlf(tmp_path, capsys):
    path = tmp_path / "q.csv"
    path.write_bytes(b't,"pos, m"\r\n0,0\r\n1,1\r\n2,4\r\n')
    assert main(["grid", str(path), "--x", "t"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["t", "dpos, m/dt"]
    assert [float(r[1]) for r in rows[1:]] == [0.0, 2.0, 4.0]
