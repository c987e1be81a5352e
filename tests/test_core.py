"""Unit tests of the engine, numderiv._core: points, directions, differences, counts.

Exact points and derivatives are written out; where the arithmetic is exact
(quadratics and power-of-two steps) results are compared bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from numderiv import testing
from numderiv._core import (
    Directions,
    Elements,
    Points,
    _planned,
    differentiate,
    group_differences,
    orient_pairs,
    plain_differences,
    refuse_no_room,
    safe_norm,
)
from numderiv._evaluate import Evaluator
from numderiv._steps import scheme

EPS = float(np.finfo(np.float64).eps)


def quad(x):
    """f(x) = [x0^2 + x1 x2, 3 x2^2 - x0]: J = [[2x0, x2, x1], [-1, 0, 6x2]]."""
    return np.array([x[0] ** 2 + x[1] * x[2], 3 * x[2] ** 2 - x[0]])


def quad_jac(x):
    return np.array([[2 * x[0], x[2], x[1]], [-1.0, 0.0, 6 * x[2]]])


X3 = np.array([1.0, 2.0, 3.0])


# -- directions and points ---------------------------------------------------------


def test_axes_rows_and_cols_are_exact_points():
    d = Directions.axes(3)
    t = np.array([0.5, -0.25, 2.0])
    R = d.rows(X3, np.arange(3), t)
    assert np.array_equal(R, X3 + np.diag(t))
    assert np.array_equal(d.cols(X3, np.arange(3), t), R.T)
    assert d.unit_axes and d.count == 3


def test_extra_directions_and_pairs():
    Q = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    # direction 0: e_1; direction 1: column 0 of Q; direction 2: e_0 + 2 Q[:, 1]
    idx = np.array([[1, 0], [3, 0], [0, 4]])
    val = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    d = Directions(3, idx, val, extra=Q)
    R = d.rows(np.zeros(3), np.arange(3), np.ones(3))
    assert np.array_equal(R, [[0, 1, 0], [1, 0, 1], [1, 4, 2]])


def test_trange_is_the_room_inside_the_bounds():
    d = Directions(2, np.array([[0, 1]]), np.array([[1.0, -2.0]]))
    x = np.array([0.0, 0.0])
    tlo, thi = d.trange(x, np.array([-1.0, -1.0]), np.array([3.0, 4.0]))
    # x + t (1, -2): component 0 needs -1 <= t <= 3, component 1 -2 <= t <= 0.5
    assert tlo.tolist() == [-1.0] and thi.tolist() == [0.5]


def test_orient_pairs_turns_a_corner_direction_inside():
    x = np.array([0.0, 1.0])  # on lb in x0 and on ub in x1
    lb, ub = np.zeros(2), np.ones(2)
    idx = np.array([[0, 1]])
    val = np.array([[0.1, 0.1]])
    _, (tlo, thi) = orient_pairs(x, lb, ub, idx, val, None, np.arange(1))
    assert val[0].tolist() == [0.1, -0.1]  # flipped in place
    assert thi[0] == pytest.approx(10.0) and tlo[0] == 0.0


def test_refuse_no_room_names_the_direction():
    x = np.array([0.0, 1.0])
    trange = (np.array([0.0]), np.array([0.0]))
    with pytest.raises(ValueError, match=r"directions 0 points out of the bounds"):
        refuse_no_room(trange, "directions", x, np.zeros(2), np.ones(2))


def test_safe_norm_without_overflow():
    assert safe_norm(np.array([3e200, 4e200])) == pytest.approx(5e200, rel=1e-15)
    assert safe_norm(np.array([3e-200, 4e-200])) == pytest.approx(5e-200, rel=1e-15)
    assert safe_norm(np.zeros(3)) == 0.0


def test_points_eval_and_center_count():
    ev = Evaluator(quad)
    prov = Points(ev, X3, Directions.axes(3), None)
    T = np.array([[0.5, 0.5, 0.5], [-1.0, -1.0, -1.0]])
    lo, hi = prov.eval(np.arange(3), T)
    for j in range(3):
        p = X3.copy()
        p[j] += 0.5
        assert np.array_equal(lo[:, j], quad(p))
        p[j] -= 1.5
        assert np.array_equal(hi[:, j], quad(p))
    assert ev.nfev == 6
    assert np.array_equal(prov.center(np.arange(3))[:, 0], quad(X3))
    prov.center(np.arange(3))  # cached
    assert ev.nfev == 7


# -- the compatibility layers' entries ------------------------------------------------


def test_plain_differences_exact_on_a_quadratic():
    # central differences are exact for quadratics; power-of-two steps make
    # every point and quotient exact
    ev = Evaluator(quad)
    h = np.full(3, 2.0**-10)
    D = plain_differences(ev, X3, Directions.axes(3), h, "central", "central", 2)
    assert np.array_equal(D, quad_jac(X3))
    assert ev.nfev == 6


def test_plain_differences_mixed_kinds_and_negative_step():
    ev = Evaluator(quad)
    h = np.array([2.0**-10, -(2.0**-10), 2.0**-10])
    kinds = np.array(["forward", "forward", "central"], dtype=object)
    D = plain_differences(ev, X3, Directions.axes(3), h, kinds, "central", 2, quad(X3))
    # the one-sided 3-point scheme is exact for quadratics as well
    assert np.array_equal(D, quad_jac(X3))
    assert ev.nfev == 6  # f(x) given: 2 points per direction


def test_plain_differences_returns_non_finite_values_as_they_come():
    def f(x):
        return np.log(x)

    D = plain_differences(
        Evaluator(f), np.array([0.0, 1.0]), Directions.axes(2), np.full(2, 0.5),
        "central", "central", 2,
    )  # fmt: skip
    assert np.isnan(D[0, 0]) and D[1, 1] == pytest.approx(1.0986122886681098)


def test_group_differences_equal_the_dense_differences():
    # tridiagonal f: columns 3 apart share a group; each entry is the same
    # number as the dense difference, bit for bit
    n = 12
    x = np.linspace(-1, 1, n)
    f0 = testing.broyden_tridiagonal(x)
    h = np.full(n, 2.0**-20)
    S = testing.broyden_tridiagonal_jacobian(x) != 0
    rows, cols = np.nonzero(S)
    groups = np.arange(n) % 3
    for method, kind, order in (("forward", "forward", 1), ("central", "central", 2)):
        kinds = np.full(n, kind, dtype=object)
        ev = Evaluator(testing.broyden_tridiagonal)
        got = group_differences(ev, x, f0, h, kinds, method, order, groups, rows, cols)
        assert ev.nfev == 3 * (1 if kind == "forward" else 2)
        dense = plain_differences(
            Evaluator(testing.broyden_tridiagonal), x, Directions.axes(n), h, kind,
            method, order, f0,
        )  # fmt: skip
        assert np.array_equal(got, dense[rows, cols])
        np.testing.assert_allclose(
            got, testing.broyden_tridiagonal_jacobian(x)[rows, cols], rtol=1e-5
        )


def test_group_differences_complex_step_and_denominator():
    x = np.array([0.5, 1.5])
    f0 = np.sin(x)
    h = np.full(2, 1e-20)
    got = group_differences(
        Evaluator(np.sin), x, f0, h, np.array(["central"] * 2, dtype=object),
        "complex", 2, np.zeros(2, dtype=np.intp), np.arange(2), np.arange(2),
    )  # fmt: skip
    assert np.array_equal(got, np.cos(x))
    # a denominator per column (the step really taken) divides instead of h
    got2 = group_differences(
        Evaluator(np.sin), x, f0, h, np.array(["central"] * 2, dtype=object),
        "complex", 2, np.zeros(2, dtype=np.intp), np.arange(2), np.arange(2),
        denom=2 * h,
    )  # fmt: skip
    assert np.array_equal(got2, np.cos(x) / 2)


# -- differentiate: values, estimates and counts ---------------------------------------


@pytest.mark.parametrize("want_error", [False, True])
@pytest.mark.parametrize(
    ("method", "order"),
    [("central", 2), ("central", 4), ("forward", 1), ("backward", 2)],
)
def test_differentiate_quadratic_and_counts(method, order, want_error):
    ev = Evaluator(quad, progress=False)
    prov = Points(ev, X3, Directions.axes(3), None)
    h = np.full(3, 2.0**-12)
    out = differentiate(
        prov, h, method, 1, order, trange=None, want_error=want_error, eps=EPS
    )
    want = quad_jac(X3)
    if order == 1:  # exact but for h f''/2 (sign of the side), f'' = 2 and 6
        side = 1.0 if method == "forward" else -1.0
        want[0, 0] += side * h[0]
        want[1, 2] += side * 3 * h[2]
    tol = 1e-12 if order <= 2 else 1e-9  # 1/12 and 2/3 round
    np.testing.assert_allclose(out.value, want, rtol=tol, atol=tol)
    assert out.status == 0
    sch = scheme(method, "central" if method == "central" else method, 1, order)
    nonzero = {z for z in sch.offsets.tolist() if z != 0}
    keys = nonzero | ({0.5 * z for z in nonzero} if want_error else set())
    assert ev.nfev == 3 * len(keys) + (1 if sch.uses_center else 0)
    if want_error:
        assert out.error is not None
        assert np.all(np.abs(out.value - quad_jac(X3)) <= out.error + 1e-12)


def test_planned_matches_the_evaluations():
    for method, kind, order, want_error in [
        ("central", "central", 2, True),
        ("forward", "forward", 2, False),
        ("complex", "central", 2, True),
    ]:
        ev = Evaluator(np.sin, progress=True)
        prov = Elements(ev, np.linspace(0.1, 1, 4), True, None)
        sch = scheme(method, kind, 1, order)
        n = _planned(prov, sch, 4, want_error) + (
            4 if method == "complex" and not sch.uses_center else 0
        )
        differentiate(prov, np.full(4, 2.0**-10 if method != "complex" else 1e-20), method, 1, order, trange=None, want_error=want_error, eps=EPS)  # fmt: skip
        assert ev.nfev == n
        ev.close()


def test_differentiate_elementwise_second_derivative():
    x = np.linspace(0.1, 2.0, 7)
    ev = Evaluator(np.exp)
    out = differentiate(
        Elements(ev, x, True, None), np.full(7, 2.0**-8), "central", 2, 4,
        trange=None, want_error=True, eps=EPS,
    )  # fmt: skip
    np.testing.assert_allclose(out.value[0], np.exp(x), rtol=1e-8)
    assert np.all(np.abs(out.value[0] - np.exp(x)) <= out.error[0])


def test_differentiate_one_sided_at_bounds():
    # x0 on its lower bound: the forward stencil there, central elsewhere
    x = np.array([0.0, 1.0])
    ev = Evaluator(lambda t: np.array([np.sqrt(t[0]) + t[1] ** 2]))
    prov = Points(ev, x + np.array([1.0, 0.0]), Directions.axes(2), None)
    trange = Directions.axes(2).trange(
        prov.x, np.array([1.0, -np.inf]), np.full(2, np.inf)
    )
    out = differentiate(prov, np.full(2, 2.0**-16), "central", 1, 2, trange=trange, want_error=True, eps=EPS)  # fmt: skip
    np.testing.assert_allclose(out.value[0], [0.5, 2.0], rtol=1e-8)
