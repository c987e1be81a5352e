"""Tests of numderiv._scan.step_scan: the error-against-step data."""

from __future__ import annotations

import math

import numpy as np
import pytest

import numderiv as nd
from numderiv._scan import StepScan, step_scan


def test_default_steps_and_lines() -> None:
    s = step_scan(np.exp, 1.0)
    assert isinstance(s, StepScan)
    assert s.steps.size == 30
    assert s.steps[0] == pytest.approx(1e-16) and s.steps[-1] == pytest.approx(1e-1)
    assert np.all(np.diff(np.log10(s.steps)) == pytest.approx(15 / 29))
    assert [(ln.method, ln.order) for ln in s.lines] == [
        ("forward", 1),
        ("central", 2),
        ("complex", 2),
    ]
    assert s.error_kind == "successive" and s.exact is None
    # the default range scales with |x|
    assert step_scan(np.exp, -40.0, methods="central").steps[-1] == pytest.approx(4.0)


def test_exact_mode_against_written_out_derivative() -> None:
    x = 0.5
    s = step_scan(np.sin, x, methods=("central", "forward"), exact=math.cos(x))
    assert s.error_kind == "exact"
    for ln in s.lines:
        np.testing.assert_array_equal(ln.errors, np.abs(ln.estimates - math.cos(x)))
        for i in (5, 20, 29):  # each estimate is the public API at that step
            d = nd.derivative(
                np.sin, x, method=ln.method, order=ln.order, abs_step=s.steps[i]
            )
            assert ln.estimates[i] == d
    # truncation of the central difference: f'''(x) h^2 / 6 = -cos(x) h^2 / 6
    c = s.line("central")
    i = 26  # h = 9.2e-3, far above round-off
    h = c.steps[i]
    assert c.estimates[i] - math.cos(x) == pytest.approx(
        -math.cos(x) * h**2 / 6, rel=1e-3
    )
    # forward: f''(x) h / 2 = -sin(x) h / 2
    fw = s.line("forward")
    assert fw.estimates[i] - math.cos(x) == pytest.approx(
        -math.sin(x) * fw.steps[i] / 2, rel=1e-2
    )


def test_v_shape_forward_exp() -> None:
    s = step_scan(np.exp, 1.0, methods="forward", exact=math.e)
    e = s.line("forward").errors
    h = s.steps
    best = np.nanargmin(np.where(e > 0, e, np.nan))
    assert 1e-10 < h[best] < 1e-6  # near sqrt(eps)
    # left of the bottom, round-off: the errors are far larger
    assert np.nanmax(e[h < 1e-13]) > 1e4 * e[best]
    # right of it, truncation e h / 2: strictly increasing, slope one
    right = h > 1e-6
    assert np.all(np.diff(e[right]) > 0)
    assert e[-1] == pytest.approx(math.e * h[-1] / 2, rel=0.1)


def test_chosen_step_agrees_with_derivative() -> None:
    s = step_scan(
        np.log,
        2.0,
        methods=("forward", "central", "complex"),
        orders={"central": (2, 4)},
    )
    assert [(ln.method, ln.order) for ln in s.lines] == [
        ("forward", 1),
        ("central", 2),
        ("central", 4),
        ("complex", 2),
    ]
    for ln in s.lines:
        d, info = nd.derivative(
            np.log, 2.0, method=ln.method, order=ln.order, full_output=True
        )
        assert ln.chosen_step == float(info.step)
        assert ln.chosen_value == float(d)
        assert ln.chosen_error == float(info.error)
        assert ln.chosen_status == info.status
        assert abs(ln.chosen_value - 0.5) <= ln.chosen_error
        assert ln.failure is None
        assert math.isnan(s.true_error(ln))  # no exact value given


def test_successive_mode() -> None:
    s = step_scan(np.cos, 0.3, methods="central", steps=[1e-3, 1e-2, 1e-1, 1e-4])
    ln = s.line("central")
    np.testing.assert_array_equal(s.steps, [1e-4, 1e-3, 1e-2, 1e-1])  # sorted
    np.testing.assert_array_equal(ln.errors[:-1], np.abs(np.diff(ln.estimates)))
    assert math.isnan(ln.errors[-1])
    # the change between steps follows the truncation error sin(x) h^2 / 6
    assert ln.errors[2] == pytest.approx(
        math.sin(0.3) * (1e-1**2 - 1e-2**2) / 6, rel=1e-2
    )


def test_steps_lost_to_rounding_are_not_scanned() -> None:
    s = step_scan(np.exp, 1.0, steps=[1e-17, 1e-8])  # 1 + 1e-17 == 1
    for m in ("forward", "central"):
        ln = s.line(m)
        assert math.isnan(ln.estimates[0]) and math.isnan(ln.steps[0])
        assert ln.estimates[1] == pytest.approx(math.e, rel=1e-6)
    cx = s.line("complex")  # Im f(x + ih) / h: any step is exact
    assert cx.steps[0] == 1e-17 and cx.estimates[0] == pytest.approx(math.e, rel=1e-15)


def test_method_that_fails_is_reported() -> None:
    def f(t: np.ndarray) -> np.ndarray:
        return np.hypot(t, 1.0)  # hypot refuses complex input

    s = step_scan(f, 1.0, exact=1 / math.sqrt(2))
    cx = s.line("complex")
    assert cx.failure is not None and cx.failure.startswith("TypeError")
    assert np.all(np.isnan(cx.estimates)) and math.isnan(cx.chosen_step)
    assert s.line("central").failure is None
    assert np.nanmin(s.line("central").errors) < 1e-10


def test_every_method_failing_raises_f_error() -> None:
    def f(t: np.ndarray) -> np.ndarray:
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        step_scan(f, 1.0)


def test_n_and_args() -> None:
    def f(t: np.ndarray, a: float, *, b: float) -> np.ndarray:
        return a * np.exp(b * t)

    ex = 3.0 * 4.0 * math.exp(0.4)  # second derivative at 0.2: a b^2 e^(b x)
    s = step_scan(
        f, 0.2, n=2, methods="central", args=(3.0,), kwargs={"b": 2.0}, exact=ex
    )
    ln = s.line("central")
    assert ln.chosen_value == pytest.approx(ex, rel=1e-6)
    assert np.nanmin(ln.errors) < 1e-6 * ex


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"x": [1.0, 2.0]}, TypeError, r"x must be a real scalar.*\[1.0, 2.0\]"),
        ({"x": np.array([1.0, 2.0])}, ValueError, r"x must be a real scalar"),
        ({"x": 1j}, TypeError, r"x must be a real scalar, got 1j"),
        ({"x": math.inf}, ValueError, r"x must be finite, got inf"),
        ({"n": 0}, ValueError, r"n must be an integer from 1 to 10.*got 0"),
        ({"n": 1.5}, ValueError, r"n must be .*got 1.5"),
        ({"methods": "adaptive"}, ValueError, r"methods: 'adaptive' searches"),
        ({"methods": ("central", "taylor")}, ValueError, r"methods must be .*'taylor'"),
        ({"methods": ()}, ValueError, r"methods must name at least one"),
        ({"methods": 3}, TypeError, r"methods must be .*got 3"),
        ({"orders": 3}, ValueError, r"orders: order must be even .*order=3"),
        ({"orders": "2"}, TypeError, r"orders must be None.*'2'"),
        ({"steps": [1e-3]}, ValueError, r"steps must be .*at least 2.*\(1,\)"),
        (
            {"steps": [1e-3, -1.0]},
            ValueError,
            r"steps must be finite and positive, got -1.0",
        ),
        ({"steps": [1e-3, math.nan]}, ValueError, r"got nan"),
        ({"steps": "ab"}, TypeError, r"steps must be .*'ab'"),
        ({"exact": "a"}, TypeError, r"exact must be a real number.*'a'"),
        ({"exact": math.nan}, ValueError, r"exact must be finite, got nan"),
    ],
)
def test_bad_input_named(kw: dict, exc: type, match: str) -> None:
    args = {"x": 1.0, **kw}
    with pytest.raises(exc, match=match):
        step_scan(np.exp, **args)


def test_f_not_callable() -> None:
    with pytest.raises(TypeError, match="f must be callable, got 3"):
        step_scan(3, 1.0)  # type: ignore[arg-type]
