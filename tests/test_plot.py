"""Tests of numderiv.plot: what is drawn, checked on the Agg backend."""

from __future__ import annotations

import importlib
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.interpolate import make_smoothing_spline  # noqa: E402
from scipy.signal import savgol_filter  # noqa: E402

import numderiv as nd  # noqa: E402
from numderiv._scan import step_scan  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _by_gid(ax: Any, gid: str) -> Any:
    found = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    assert len(found) == 1, (gid, [ln.get_gid() for ln in ax.get_lines()])
    return found[0]


def _legend(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ----------------------------------------------------------------- step_error


def test_step_error_draws_the_scan_exact() -> None:
    ax = nd.plot.step_error(np.sqrt, 1.0, exact=0.5)  # Scilab's example
    s = step_scan(np.sqrt, 1.0, exact=0.5)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    floor = 0.5 * np.finfo(float).eps * 0.5
    for ln in s.lines:
        line = _by_gid(ax, f"scan:{ln.method}:{ln.order}")
        np.testing.assert_array_equal(line.get_xdata(), ln.steps)
        np.testing.assert_array_equal(
            line.get_ydata(), np.where(ln.errors == 0, floor, ln.errors)
        )
        assert line.get_label() == ln.label
        # the default step, at the height of its error estimate and true error
        d, info = nd.derivative(
            np.sqrt, 1.0, method=ln.method, order=ln.order, full_output=True
        )
        est = _by_gid(ax, f"chosen-estimate:{ln.method}:{ln.order}")
        assert list(est.get_xdata()) == [float(info.step)]
        assert list(est.get_ydata()) == [max(float(info.error), floor)]
        tru = _by_gid(ax, f"chosen-true:{ln.method}:{ln.order}")
        assert list(tru.get_xdata()) == [float(info.step)]
        assert list(tru.get_ydata()) == [max(abs(float(d) - 0.5), floor)]
        assert tru.get_color() == est.get_color() == line.get_color()
    assert _legend(ax) == [
        "forward, order 1",
        "central, order 2",
        "complex, order 2",
        "default step: error estimate",
        "default step: true error",
        r"error 0, drawn at $\epsilon\,|f^{(n)}|/2$",
    ]
    assert _by_gid(ax, "floor").get_ydata()[0] == floor
    assert ax.get_xlabel() == "step $h$"
    assert ax.get_ylabel() == "absolute error $|D(h) - f'(x)|$"
    assert "x = 1" in ax.get_title()


def test_step_error_v_shape_drawn() -> None:
    ax = nd.plot.step_error(np.exp, 1.0, methods="forward", exact=math.e)
    line = _by_gid(ax, "scan:forward:1")
    h, e = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    ok = np.isfinite(h)
    h, e = h[ok], e[ok]
    best = int(np.argmin(e))
    assert 1e-10 < h[best] < 1e-6
    assert e[0] > 1e4 * e[best] and e[-1] > 1e4 * e[best]


def test_step_error_successive_mode_and_n2() -> None:
    ax = nd.plot.step_error(np.sin, 0.5, n=2, methods=("central", "forward"))
    s = step_scan(np.sin, 0.5, n=2, methods=("central", "forward"))
    assert s.error_kind == "successive"
    for ln in s.lines:
        y = np.asarray(_by_gid(ax, f"scan:{ln.method}:{ln.order}").get_ydata())
        ok = ln.errors > 0
        np.testing.assert_array_equal(y[ok], ln.errors[ok])
        assert math.isnan(y[-1])
        est = _by_gid(ax, f"chosen-estimate:{ln.method}:{ln.order}")
        assert est.get_xdata()[0] == ln.chosen_step
    assert not [g for g in (ln.get_gid() for ln in ax.get_lines()) if "true" in str(g)]
    assert "default step: true error" not in _legend(ax)
    assert ax.get_ylabel() == r"change to the next step $|D(h_i) - D(h_{i+1})|$"
    assert "f''(x)" in ax.get_title()


def test_step_error_reports_a_failed_method() -> None:
    def f(t: np.ndarray) -> np.ndarray:
        return np.hypot(t, 1.0)  # no complex input

    ax = nd.plot.step_error(f, 1.0, exact=1 / math.sqrt(2))
    assert "complex, order 2: failed (TypeError)" in _legend(ax)
    assert not [
        g for g in (ln.get_gid() for ln in ax.get_lines()) if "complex" in str(g)
    ]
    _by_gid(ax, "scan:central:2")


def test_step_error_into_given_axes() -> None:
    fig, (a1, a2) = plt.subplots(1, 2)
    out = nd.plot.step_error(np.exp, 0.0, methods="central", ax=a2)
    assert out is a2
    assert len(a1.get_lines()) == 0 and len(a2.get_lines()) >= 2
    assert len(fig.axes) == 2


def test_draw_step_scan_equals_step_error() -> None:
    s = step_scan(np.cos, 1.0, methods=("central",), orders=(2, 4), exact=-math.sin(1))
    a = nd.plot.draw_step_scan(s)
    b = nd.plot.step_error(
        np.cos, 1.0, methods="central", orders=(2, 4), exact=-math.sin(1)
    )
    assert _legend(a) == _legend(b)
    for la, lb in zip(a.get_lines(), b.get_lines(), strict=True):
        np.testing.assert_array_equal(la.get_xydata(), lb.get_xydata())
    with pytest.raises(TypeError, match="scan must be a StepScan, got 3"):
        nd.plot.draw_step_scan(3)  # type: ignore[arg-type]


def test_bad_ax_named() -> None:
    with pytest.raises(
        TypeError, match="ax must be a matplotlib Axes or None, got 'a'"
    ):
        nd.plot.step_error(np.exp, 1.0, ax="a")  # type: ignore[arg-type]


def test_bad_scan_argument_passes_through() -> None:
    with pytest.raises(ValueError, match="methods: 'adaptive'"):
        nd.plot.step_error(np.exp, 1.0, methods="adaptive")


# ---------------------------------------------------------------- convergence


def _slope_from_legend(text: str) -> float:
    m = re.search(r"slope (-?\d+\.\d+)$", text)
    assert m, text
    return float(m.group(1))


@pytest.mark.parametrize(
    ("f", "x", "exact"),
    [(np.exp, 1.0, math.e), (np.sin, 0.5, math.cos(0.5)), (np.log, 2.0, 0.5)],
)
def test_convergence_slopes_match_orders(f: Any, x: float, exact: float) -> None:
    orders = {"forward": (1, 2, 3), "backward": (1, 2), "central": (2, 4, 6)}
    ax = nd.plot.convergence(
        f, x, methods=("forward", "backward", "central"), orders=orders, exact=exact
    )
    texts = _legend(ax)
    assert len(texts) == 8
    for m, os_ in orders.items():
        for o in os_:
            (t,) = [t for t in texts if t.startswith(f"{m}, order {o}: ")]
            slope = _slope_from_legend(t)
            assert abs(slope - o) <= 0.2, (m, o, slope)
            # the drawn data: the scan's errors
            line = _by_gid(ax, f"convergence:{m}:{o}")
            ln = step_scan(
                f,
                x,
                methods=m,
                orders=o,
                exact=exact,
                steps=np.logspace(-5.0, -1.0, 25) * max(1.0, abs(x)),
            ).line(m, o)
            np.testing.assert_array_equal(line.get_xdata(), ln.steps)
            np.testing.assert_array_equal(
                line.get_ydata(), np.where(ln.errors > 0, ln.errors, np.nan)
            )
            # the reference line has slope exactly o
            ref = _by_gid(ax, f"reference:{m}:{o}")
            rx, ry = np.log10(ref.get_xdata()), np.log10(ref.get_ydata())
            assert (ry[1] - ry[0]) / (rx[1] - rx[0]) == pytest.approx(o, rel=1e-12)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step $h$"


def test_convergence_second_derivative_without_exact() -> None:
    ax = nd.plot.convergence(np.exp, 0.0, n=2, methods="central", orders=(2, 4))
    for o, t in zip((2, 4), _legend(ax), strict=True):
        assert t.startswith(f"central, order {o}: slope ")
        assert abs(_slope_from_legend(t) - o) <= 0.2
    assert ax.get_ylabel().startswith("change to the next step")


def test_convergence_slope_na_when_exact_for_f() -> None:
    # central differences are exact on a quadratic: only round-off is left
    ax = nd.plot.convergence(
        lambda t: 3 * t**2, 1.0, methods="central", exact=6.0, steps=[1e-3, 1e-2, 1e-1]
    )
    assert _legend(ax) == ["central, order 2: slope n/a"]
    assert not [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("ref")]


def test_convergence_into_given_axes() -> None:
    _, ax = plt.subplots()
    assert nd.plot.convergence(np.exp, 1.0, exact=math.e, ax=ax) is ax


# ----------------------------------------------------------- grid_derivative


def test_grid_derivative_finite_differences() -> None:
    x = np.linspace(0.0, 3.0, 31)
    y = x**3
    ax = nd.plot.grid_derivative(y, x, accuracy=4)
    data = _by_gid(ax, "data")
    np.testing.assert_array_equal(data.get_xdata(), x)
    np.testing.assert_array_equal(data.get_ydata(), y)
    dax = ax.figure.axes[-1]
    assert dax is not ax
    der = _by_gid(dax, "derivative")
    np.testing.assert_array_equal(der.get_ydata(), nd.grid.derivative(y, x, accuracy=4))
    np.testing.assert_allclose(der.get_ydata(), 3 * x**2, atol=1e-10)  # exact on cubics
    assert _legend(ax) == ["y (data)", "dy/dx (accuracy 4)"]
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert dax.get_ylabel() == "dy/dx"


def test_grid_derivative_spacing_and_n2_on_one_axes() -> None:
    y = np.arange(10.0) ** 2 * 0.25  # (h k)^2 with h = 0.5
    ax = nd.plot.grid_derivative(y, 0.5, n=2, label="u", dax=None)
    data = _by_gid(ax, "data")
    np.testing.assert_array_equal(data.get_xdata(), 0.5 * np.arange(10))
    der = _by_gid(ax.figure.axes[-1], "derivative")
    np.testing.assert_allclose(der.get_ydata(), 2.0, atol=1e-12)
    assert _legend(ax) == ["u (data)", "d\u00b2u/dx\u00b2 (accuracy 2)"]
    _, one = plt.subplots()
    out = nd.plot.grid_derivative(y, dax=one, ax=one)
    assert out is one and len(one.figure.axes) == 1
    np.testing.assert_array_equal(_by_gid(one, "data").get_xdata(), np.arange(10.0))


@pytest.mark.parametrize("method", ["savgol", "spline", "spectral"])
def test_grid_derivative_smoothed(method: str) -> None:
    rng = np.random.default_rng(3)
    t = np.linspace(0, 2 * np.pi, 128, endpoint=False)
    clean = np.sin(t)
    y = clean + 0.02 * rng.standard_normal(t.size)
    ax = nd.plot.grid_derivative(y, t, smooth=method)
    assert _legend(ax) == ["y (data)", f"y smoothed ({method})", f"dy/dx ({method})"]
    der = _by_gid(ax.figure.axes[-1], "derivative")
    np.testing.assert_array_equal(
        der.get_ydata(), nd.grid.smooth_derivative(y, t, method=method)
    )
    sm = np.asarray(_by_gid(ax, "smoothed").get_ydata())
    # the smoothed curve is closer to the clean signal than the data
    rms = lambda v: float(np.sqrt(np.mean((v - clean) ** 2)))  # noqa: E731
    assert rms(sm) < 0.7 * rms(y)
    # and it is the curve whose derivative is drawn (oracles: SciPy, NumPy)
    if method == "savgol":  # default window 2 (N // 20) + 1, degree n + 2
        np.testing.assert_allclose(sm, savgol_filter(y, 13, 3), atol=1e-12)
    elif method == "spline":  # same GCV penalty: the spline itself
        spl = make_smoothing_spline(t, y)
        np.testing.assert_allclose(sm, spl(t), atol=1e-12)
        np.testing.assert_allclose(der.get_ydata(), spl(t, nu=1), atol=1e-9)
    else:  # band-limited: its spectral derivative is the one drawn
        k = 2 * np.pi * np.fft.rfftfreq(t.size, t[1] - t[0])
        dk = 1j * k * np.fft.rfft(sm)
        dk[-1] = 0  # the Nyquist mode, as smooth_derivative drops it
        np.testing.assert_allclose(
            np.fft.irfft(dk, n=t.size), der.get_ydata(), atol=1e-9
        )
    assert _by_gid(ax, "data").get_linestyle() == "None"


def test_grid_derivative_savgol_options_reach_both_curves() -> None:
    t = np.linspace(0, 1, 50)
    y = t**4
    ax = nd.plot.grid_derivative(y, t, smooth="savgol", window=11, polyorder=4)
    # a degree-4 local fit reproduces a quartic: curve and derivative exact
    np.testing.assert_allclose(_by_gid(ax, "smoothed").get_ydata(), y, atol=1e-12)
    np.testing.assert_allclose(
        _by_gid(ax.figure.axes[-1], "derivative").get_ydata(), 4 * t**3, atol=1e-9
    )


@pytest.mark.parametrize(
    ("args", "kw", "exc", "match"),
    [
        (
            (np.ones((3, 3)),),
            {},
            ValueError,
            r"y must be 1-D to plot, got shape \(3, 3\)",
        ),
        (
            (np.ones(5) * 1j,),
            {},
            TypeError,
            r"y must be real numbers to plot, got dtype complex",
        ),
        (
            (["a", "b"],),
            {},
            TypeError,
            r"y must be real numbers to plot, got dtype <U1",
        ),
        (
            (np.ones(9),),
            {"window": 5},
            ValueError,
            r"window is an option of smooth_derivative",
        ),
        (
            (np.ones(9),),
            {"smooth": "savgol", "accuracy": 4},
            ValueError,
            r"accuracy is an option of finite differences",
        ),
        (
            (np.ones(9),),
            {"smooth": "spline", "boundary": "periodic"},
            ValueError,
            r"boundary is an option",
        ),
        (
            (np.ones(9),),
            {"smooth": "kalman"},
            ValueError,
            r"method must be 'savgol'.*'kalman'",
        ),
        ((np.ones(9),), {"label": 3}, TypeError, r"label must be a string, got 3"),
        (
            (np.ones(9),),
            {"dax": "b"},
            TypeError,
            r"ax must be a matplotlib Axes or None, got 'b'",
        ),
    ],
)
def test_grid_derivative_bad_input(
    args: tuple, kw: dict, exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match):
        nd.plot.grid_derivative(*args, **kw)


# ------------------------------------------------------ optional dependency


def test_import_numderiv_does_not_import_matplotlib() -> None:
    code = (
        "import sys, numderiv as nd; "
        "assert 'matplotlib' not in sys.modules; "
        "assert 'plot' not in nd.__all__; "
        "from numderiv import *; "
        "assert 'matplotlib' not in sys.modules; "
        "nd.plot; assert 'matplotlib' in sys.modules; "
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "numderiv.plot", raising=False)
    monkeypatch.delattr(nd, "plot", raising=False)
    with pytest.raises(ImportError, match=re.escape('pip install "numderiv[plot]"')):
        importlib.import_module("numderiv.plot")
    with pytest.raises(ImportError, match=r"numderiv\.plot needs matplotlib"):
        nd.plot  # noqa: B018  (through the lazy attribute)


def test_unknown_attribute_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'plots'"):
        nd.plots  # type: ignore[attr-defined]  # noqa: B018
