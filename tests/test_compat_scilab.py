"""numderiv.compat.scilab.numderivative: every example of Scilab's help page."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from numderiv.compat.scilab import numderivative

EPS = np.finfo(float).eps


def f(x: Any) -> Any:
    """The help page's function: [sin(x1 x2) + exp(x2 x3 + x1); sum(x.^3)]."""
    x = np.ravel(x)
    return np.array([np.sin(x[0] * x[1]) + np.exp(x[1] * x[2] + x[0]), np.sum(x**3)])


def exactg(x: Any) -> Any:
    e = np.exp(x[1] * x[2] + x[0])
    c = np.cos(x[0] * x[1])
    g1 = [c * x[1] + e, c * x[0] + e * x[2], e * x[1]]
    return np.array([g1, 3 * np.asarray(x) ** 2])


def exactH(x: Any) -> tuple[Any, Any]:
    e = np.exp(x[1] * x[2] + x[0])
    s, c = np.sin(x[0] * x[1]), np.cos(x[0] * x[1])
    H1 = np.empty((3, 3))
    H1[0, 0] = -s * x[1] ** 2 + e
    H1[0, 1] = H1[1, 0] = c - s * x[1] * x[0] + e * x[2]
    H1[0, 2] = H1[2, 0] = e * x[1]
    H1[1, 1] = -s * x[0] ** 2 + e * x[2] ** 2
    H1[1, 2] = H1[2, 1] = e + e * x[2] * x[1]
    H1[2, 2] = e * x[1] ** 2
    H2 = np.diag(6 * np.asarray(x, dtype=float))
    return H1, H2


def computedigits(computed: Any, expected: Any) -> Any:
    """Correct decimal digits per entry, as Scilab's assert_computedigits."""
    c, e = np.asarray(computed, float), np.asarray(expected, float)
    dmax = -np.log10(2.0**-53)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(
            e == 0, np.abs(c), np.abs(c - e) / np.abs(np.where(e == 0, 1, e))
        )
        d = np.where(rel == 0, dmax, -np.log10(rel))
    return np.clip(d, 0, dmax)


X = np.array([1.0, 2.0, 3.0])
JEXACT = exactg(X)
H1, H2 = exactH(X)
HEXACT = np.array([H1.ravel(), H2.ravel()])


class Counter:
    def __init__(self, fun: Any) -> None:
        self.fun, self.n, self.points = fun, 0, []

    def __call__(self, x: Any, *a: Any) -> Any:
        self.n += 1
        self.points.append(np.array(x, copy=True))
        return self.fun(x, *a)


# -- "Compute the approximate Jacobian, the Hessian" ---------------------------


def test_jacobian_and_hessian_default() -> None:
    J = numderivative(f, X)
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J, JEXACT, rtol=1e-9)
    J2, H = numderivative(f, X, hessian=True)
    np.testing.assert_array_equal(J2, J)
    assert H.shape == (2, 9)
    np.testing.assert_allclose(H, HEXACT, rtol=1e-6, atol=1e-6)


def test_column_row_and_flat_x() -> None:
    J = numderivative(f, X)
    for shape in [(3, 1), (1, 3)]:
        seen = Counter(f)
        np.testing.assert_array_equal(numderivative(seen, X.reshape(shape)), J)
        # Scilab hands f a column vector
        assert all(p.shape == (3, 1) for p in seen.points)
    seen = Counter(f)
    numderivative(seen, X)
    assert all(p.shape == (3,) for p in seen.points)


# -- "Configure the step" -------------------------------------------------------


def test_step_one_tenth() -> None:
    J = numderivative(f, X, 1.0e-1)
    h = 0.1
    want = np.column_stack([(f(X + h * e) - f(X - h * e)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(J, want, rtol=1e-14)
    # a big step: about 2 digits on the first row, sum(x^3) has error h^2
    np.testing.assert_allclose(J[1], JEXACT[1] + h**2, rtol=1e-12)
    assert computedigits(J, JEXACT).min() > 1.5


def test_step_per_component_and_as_column() -> None:
    h = np.array([1e-3, 1e-4, 1e-5])
    J = numderivative(f, X, h)
    np.testing.assert_array_equal(numderivative(f, X, h.reshape(3, 1)), J)
    want = np.column_stack(
        [
            (f(X + hi * e) - f(X - hi * e)) / (2 * hi)
            for hi, e in zip(h, np.eye(3), strict=True)
        ]
    )
    np.testing.assert_allclose(J, want, rtol=1e-13)


def test_default_steps_are_scilabs() -> None:
    x = np.array([0.0, 2.0, -3.0])
    for order, hdef in [(1, EPS**0.5), (2, EPS ** (1 / 3)), (4, EPS ** (1 / 5))]:
        seen = Counter(f)
        numderivative(seen, x, None, order)
        moved = {
            (int(np.flatnonzero(p != x)[0]), float((p - x)[p != x][0]))
            for p in seen.points
            if np.any(p != x)
        }
        steps = np.where(x == 0, hdef, hdef * np.abs(x))
        for i, d in moved:
            ratio = abs(d) / steps[i]
            assert min(abs(ratio - k) for k in (1, 2)) < 1e-6
    # the Hessian's steps: eps^(1/4) for order 2, in both levels of differences
    # (after the 2n points of the Jacobian, with eps^(1/3))
    seen = Counter(f)
    numderivative(seen, x, hessian=True)
    dev = np.abs(np.array(seen.points[6:]) - x)
    hH = np.where(x == 0, EPS**0.25, EPS**0.25 * np.abs(x))
    ok = np.isclose(dev, 0) | np.isclose(dev, hH, rtol=1e-6)
    ok |= np.isclose(dev, 2 * hH, rtol=1e-6)
    assert np.all(ok)
    assert len(seen.points) == 6 + 4 * 9


# -- "Configure the order" and the accuracy table ---------------------------------


def test_order_four() -> None:
    J = numderivative(f, X, None, 4)
    np.testing.assert_allclose(J, JEXACT, rtol=1e-10)
    # (4 D(h) - D(2h)) / 3 over central differences
    h = EPS ** (1 / 5) * np.abs(X)

    def D(i: int, s: float) -> Any:
        e = np.eye(3)[i] * s
        return (f(X + e) - f(X - e)) / (2 * s)

    want = np.column_stack([(4 * D(i, h[i]) - D(i, 2 * h[i])) / 3 for i in range(3)])
    np.testing.assert_allclose(J, want, rtol=1e-9)


@pytest.mark.parametrize(
    ("order", "dJ", "dH"),
    # Scilab's help page prints dJ = 7, 9, 11 and dH = 3 or 4, 6, 1 or 2 (the
    # last from entries of H that should be zero)
    [(1, 7, 3), (2, 9, 6), (4, 10.5, 1)],
)
def test_digits_table(order: int, dJ: float, dH: float) -> None:
    J, H = numderivative(f, X, None, order, hessian=True)
    assert computedigits(J, JEXACT).min() >= dJ
    assert computedigits(H, HEXACT).min() >= dH


def test_more_order_more_digits() -> None:
    dig = [computedigits(numderivative(f, X, None, o), JEXACT).min() for o in (1, 2, 4)]
    assert dig[0] < dig[1] < dig[2]


@pytest.mark.parametrize(("order", "cost"), [(1, 4), (2, 6), (4, 12)])
def test_jacobian_costs(order: int, cost: int) -> None:
    seen = Counter(f)
    numderivative(seen, X, None, order)
    assert seen.n == cost  # n + 1, 2n, 4n with n = 3


@pytest.mark.parametrize(
    ("order", "cost"), [(1, 16 + 4), (2, 4 * 9 + 6), (4, 16 * 9 + 12)]
)
def test_hessian_costs(order: int, cost: int) -> None:
    seen = Counter(f)
    numderivative(seen, X, None, order, hessian=True)
    assert seen.n == cost  # (n+1)^2 + n+1, 4n^2 + 2n, 16n^2 + 4n


# -- "Configure Hessian shapes" ---------------------------------------------------


def test_hessian_shapes() -> None:
    _, Hd = numderivative(f, X, hessian=True)
    _, Hb = numderivative(f, X, None, None, "blockmat")
    _, Hh = numderivative(f, X, None, None, "hypermat")
    _, Hd2 = numderivative(f, X, None, None, "default")
    assert Hb.shape == (6, 3) and Hh.shape == (3, 3, 2) and Hd.shape == (2, 9)
    np.testing.assert_array_equal(Hd2, Hd)
    # blockmat: [H1; H2]; hypermat: H(:, :, k) = Hk; default: H(k, :) = Hk(:)'
    np.testing.assert_array_equal(Hb[:3], Hh[:, :, 0])
    np.testing.assert_array_equal(Hb[3:], Hh[:, :, 1])
    np.testing.assert_array_equal(Hd[0], Hb[:3].ravel(order="F"))
    np.testing.assert_array_equal(Hd[1], Hb[3:].ravel(order="F"))
    for k, Hk in enumerate((H1, H2)):
        np.testing.assert_allclose(Hb[3 * k : 3 * k + 3], Hk, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(Hb[3 * k : 3 * k + 3], Hb[3 * k : 3 * k + 3].T)


def test_hypermat_of_a_scalar_function_is_a_matrix() -> None:
    def g(x: Any) -> Any:
        return f(x)[0]

    J, H = numderivative(g, X, None, None, "hypermat")
    assert J.shape == (1, 3) and H.shape == (3, 3)
    np.testing.assert_allclose(H, H1, rtol=1e-6)
    _, Hb = numderivative(g, X, None, None, "blockmat")
    np.testing.assert_array_equal(H, Hb)


# -- "Configure Q" ----------------------------------------------------------------


def test_directions_q() -> None:
    Q, _ = np.linalg.qr(np.random.default_rng(0).random((3, 3)))
    J = numderivative(f, X, None, None, None, Q)
    np.testing.assert_allclose(J, JEXACT, rtol=1e-8)
    J, H = numderivative(f, X, None, None, "blockmat", Q)
    np.testing.assert_allclose(H[:3], H1, rtol=1e-5)
    np.testing.assert_allclose(H[3:], H2, atol=1e-4)
    # the points lie along the columns of Q
    seen = Counter(f)
    numderivative(seen, X, 1e-2, 2, None, Q)
    dirs = np.array([(p - X) / np.linalg.norm(p - X) for p in seen.points])
    cos = np.abs(dirs @ Q)
    assert np.allclose(np.sort(cos, axis=1)[:, -1], 1.0)


def test_q_must_be_orthogonal() -> None:
    with pytest.raises(ValueError, match="Q must be orthogonal"):
        numderivative(f, X, None, None, None, np.ones((3, 3)))
    with pytest.raises(ValueError, match="Q must be a 3-by-3 matrix"):
        numderivative(f, X, None, None, None, np.eye(2))


# -- "Passing extra parameters" ---------------------------------------------------


def G(x: Any, p: float) -> Any:
    return np.array(
        [np.sin(x[0] * x[1] * p) + np.exp(x[1] * x[2] + x[0]), np.sum(x**3)]
    )


def test_extra_parameters_by_tuple() -> None:
    p = 1
    J, H = numderivative((G, p), X, hessian=True)
    J0, H0 = numderivative(f, X, hessian=True)
    np.testing.assert_array_equal(J, J0)
    np.testing.assert_array_equal(H, H0)
    J2 = numderivative((G, 2.0), X)
    assert not np.allclose(J2, J0)


# -- "The Taylor formula" ---------------------------------------------------------


def test_taylor_formula() -> None:
    dx = 1e-3 * np.array([1.0, 1.0, -1.0])
    J, H = numderivative(f, X, hessian=True)
    r = f(X + dx) - f(X) - J @ dx - 0.5 * H @ np.kron(dx, dx)
    r_exact = f(X + dx) - f(X) - JEXACT @ dx - 0.5 * HEXACT @ np.kron(dx, dx)
    # the remainder is third order, |dx|^3 times third derivatives ~ exp(7)
    assert np.all(np.abs(r) < 1e-4)
    np.testing.assert_allclose(r, r_exact, atol=2e-6)
    # sum(x^3) is a cubic: the remainder is sum(dx^3) = 1e-9
    np.testing.assert_allclose(r[1], 1e-9, rtol=1e-3)


# -- the quadratic example: h = 1 is exact ---------------------------------------


def quad(x: Any, A: Any, p: Any, w: float) -> Any:
    return x @ A @ x + p @ x + w


def test_quadratic_with_unit_step_is_exact() -> None:
    rng = np.random.default_rng(5)
    A, p, w, x = rng.random((3, 3)), rng.random(3), 1.0, rng.random(3)
    J, H = numderivative((quad, A, p, w), x, 1, None, "blockmat")
    np.testing.assert_allclose(J, [x @ (A + A.T) + p], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(H, A + A.T, rtol=1e-13, atol=1e-13)
    assert H.shape == (3, 3)


# -- "Accuracy issues": the derivative of sqrt at 1 ---------------------------------


def test_sqrt_relative_error_against_step() -> None:
    x = 1.0
    expected = 0.5 * x**-0.5
    logh = np.linspace(-16, 0, 1000)
    relerr = np.array(
        [
            abs(numderivative(np.sqrt, x, 10.0**lh)[0, 0] - expected) / expected
            for lh in logh
        ]
    )
    best = int(np.argmin(relerr))
    # the V-shaped curve: an optimal step in the middle, large errors at both ends
    assert -8 < logh[best] < -3
    assert relerr[best] < 1e-10
    assert relerr[0] > 1e-2 and relerr[-1] > 1e-2
    # the default step is near the optimum
    J = numderivative(np.sqrt, x)
    assert J.shape == (1, 1)
    assert abs(J[0, 0] - expected) / expected < 1e-9
    np.testing.assert_allclose(
        numderivative(np.sqrt, x, 1e-1, 1), [[0.48808848]], rtol=1e-8
    )


# -- argument checking -------------------------------------------------------------


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="f must be a function"):
        numderivative(3, X)
    with pytest.raises(ValueError, match="at least 2 elements"):
        numderivative((f,), X)
    with pytest.raises(TypeError, match="first element of the tuple f"):
        numderivative((1, 2), X)
    with pytest.raises(ValueError, match="x must be a vector"):
        numderivative(f, np.ones((2, 3)))
    with pytest.raises(TypeError, match="x must be a real vector"):
        numderivative(f, ["a", "b"])
    with pytest.raises(ValueError, match="h must be >= 0"):
        numderivative(f, X, -1.0)
    with pytest.raises(ValueError, match="one step per component"):
        numderivative(f, X, [1e-3, 1e-3])
    with pytest.raises(ValueError, match="order must be 1, 2 or 4"):
        numderivative(f, X, None, 3)
    with pytest.raises(ValueError, match="H_form must be one of"):
        numderivative(f, X, None, None, "full")
    with pytest.raises(TypeError, match="hessian must be True or False"):
        numderivative(f, X, hessian="yes")


@pytest.mark.parametrize(
    ("kw", "name"),
    [({"h": ""}, "h"), ({"Q": ""}, "Q"), ({"h": "a"}, "h"), ({"Q": [["a"]]}, "Q")],
)
def test_wrong_type_of_h_and_q_named(kw: dict[str, Any], name: str) -> None:
    # numderivative.tst 9.3: "Wrong type for argument #3 (#6): Matrix expected"
    with pytest.raises(TypeError, match=rf"^{name} must be a real scalar.*got"):
        numderivative(f, X, **kw)
    with pytest.raises(TypeError, match="order must be a number"):
        numderivative(f, X, None, "")


def _scilab_order4(fun: Any, x: Any, h: Any) -> Any:
    """numderivative_deriv1 at order 4, operation for operation, Q = I."""
    cols = []
    for i in range(x.size):
        d = np.zeros(x.size)
        d[i] = h[i]
        yplus, yminus = fun(x + d), fun(x - d)
        yplus2, yminus2 = fun(x + 2 * d), fun(x - 2 * d)
        dFh = (yplus - yminus) / (2 * h[i])
        dF2h = (yplus2 - yminus2) / (4 * h[i])
        cols.append((4 * dFh - dF2h) / 3)
    return np.column_stack(cols)


def test_order_four_in_scilabs_order_of_operations() -> None:
    # the same sequence of operations; the engine's central differences
    # multiply by 1/h where Scilab divides, a last-bit difference at most
    h = np.where(X == 0, EPS ** (1 / 5), EPS ** (1 / 5) * np.abs(X))
    for step in (None, np.array([1e-2, 3e-3, 7e-4])):
        ref = _scilab_order4(f, X, h if step is None else step)
        np.testing.assert_allclose(numderivative(f, X, step, 4), ref, rtol=4 * EPS)


def test_scilab_tst_case_1_8() -> None:
    # numderivative.tst 1.8: [J, H] = numderivative(x^2, 1, [], 4)
    J, H = numderivative(lambda x: x * x, 1.0, None, 4, hessian=True)
    assert abs(J[0, 0] - 2.0) / 2.0 <= 1e-13
    assert abs(H[0, 0] - 2.0) / 2.0 <= 1e-11  # Scilab: 9.4e-12


def test_empty_means_default() -> None:
    J = numderivative(f, X)
    np.testing.assert_array_equal(numderivative(f, X, [], 2.0, None, []), J)


def test_scalar_x() -> None:
    J = numderivative(np.exp, 0.5)
    assert J.shape == (1, 1)
    np.testing.assert_allclose(J[0, 0], np.exp(0.5), rtol=1e-9)
    _, H = numderivative(np.exp, 0.5, hessian=True)
    np.testing.assert_allclose(H, [[np.exp(0.5)]], rtol=1e-6)
