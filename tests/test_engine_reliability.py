"""Issue 10, the engine's part: defects found by fuzzing, each fixed here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der, rosen_hess

import numderiv as nd


def _wrong_axis(X):
    return np.sum(X**2, axis=1)  # reduces over the points, not the coordinates


# -- 4. a vectorized f that reduces over the wrong axis ----------------------


@pytest.mark.parametrize("method", ["forward", "backward", "central", "complex"])
@pytest.mark.parametrize("full_output", [False, True])
def test_vectorized_wrong_axis_is_detected(method, full_output):
    # by the one point alone, or by the batch's own column count
    with pytest.raises(
        ValueError,
        match=r"vectorized f was given an array of shape \(3, [16]\).*returned an "
        r"array of shape \(3,\)",
    ):
        nd.gradient(
            _wrong_axis,
            [1.0, 2, 3],
            vectorized=True,
            method=method,
            full_output=full_output,
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda f: nd.gradient(f, [1.0, 2, 3], vectorized=True, method="adaptive"),
        lambda f: nd.jacobian(
            f, [1.0, 2, 3], vectorized=True, f0=14.0, method="forward"
        ),
        lambda f: nd.jacobian(f, [1.0, 2, 3], vectorized=True, chunk_size=3),
        lambda f: nd.hessian(f, [1.0, 2, 3], vectorized=True),
        lambda f: nd.jvp(f, [1.0, 2, 3], [1.0, 0, 0], vectorized=True),
        lambda f: nd.jvp(f, [1.0, 2, 3], [0.0, 0, 0], vectorized=True),
        lambda f: nd.hvp(f, [1.0, 2, 3], [1.0, 0, 0], vectorized=True),
    ],
)
def test_vectorized_wrong_axis_detected_on_every_path(call):
    with pytest.raises(
        ValueError, match=r"vectorized f was given an array of shape \(3, 1\)"
    ):
        call(_wrong_axis)


def test_vectorized_transposed_output_is_detected():
    # (k, m) instead of (m, k), with m == k == 2 for the forward batch
    def f(X):
        return np.stack([X[0] ** 2, X[0] * X[1]], axis=-1)

    with pytest.raises(ValueError, match=r"shape \(2, 1\)"):
        nd.jacobian(f, [1.0, 2.0], vectorized=True, method="forward")


def test_vectorized_probe_costs_at_most_one_point():
    x = np.array([0.5, 1.5, -0.3])

    def fv(X):
        return rosen(X)

    # forward: f(x) is the single point the stencil needs anyway
    _, i = nd.gradient(fv, x, vectorized=True, method="forward", full_output=True)
    _, i_serial = nd.gradient(rosen, x, method="forward", full_output=True)
    assert i.nfev == i_serial.nfev
    calls = []

    def fc(X):
        calls.append(X.shape[1])
        return rosen(X)

    # central, one batch of 2n columns: its shape check suffices, no more points
    g = nd.gradient(fc, x, vectorized=True)
    assert calls == [6]
    assert np.allclose(g, rosen_der(x), rtol=1e-8)
    # with the error estimate: the first point of the batch goes alone, no more points
    calls.clear()
    _, i = nd.gradient(fc, x, vectorized=True, full_output=True)
    assert calls == [1, 11] and i.nfev == 12


# -- 7. named errors instead of crashes --------------------------------------


def test_jvp_vectorized_scalar_f_named():
    with pytest.raises(ValueError, match="vectorized f"):
        nd.jvp(lambda X: 3.0, [1.0, 2.0], [0.0, 0.0], vectorized=True)
    with pytest.raises(ValueError, match="vectorized f"):
        nd.jvp(lambda X: 3.0, [1.0, 2.0], [1.0, 0.0], vectorized=True)


@pytest.mark.parametrize("q", ["ab", [["a", "b"], ["c", "d"]], [[1j, 0], [0, 1j]]])
@pytest.mark.parametrize("fn", [nd.gradient, nd.jacobian, nd.hessian])
def test_directions_not_numbers(fn, q):
    with pytest.raises(TypeError, match="directions must be an orthogonal"):
        fn(rosen, [1.0, 2.0], directions=q)


@pytest.mark.parametrize(
    "call",
    [
        lambda f0: nd.jacobian(rosen, [1.0, 2.0], f0=f0, method="forward"),
        lambda f0: nd.jacobian(
            rosen, [1.0, 2.0], f0=f0, method="forward", vectorized=True
        ),
        lambda f0: nd.hessian(rosen, [1.0, 2.0], f0=f0),
        lambda f0: nd.jvp(rosen, [1.0, 2.0], [1.0, 1.0], f0=f0, method="forward"),
        lambda f0: nd.hvp(rosen, [1.0, 2.0], [1.0, 1.0], f0=f0),
    ],
)
def test_wrong_shape_f0_is_blamed_on_f0(call):
    with pytest.raises(
        ValueError, match=r"f0 has shape \(3,\), but f returned shape \(\)"
    ):
        call([1.0, 2.0, 3.0])


@pytest.mark.parametrize("args", [{"a": 1}, {1, 2}, "ab", 3])
def test_args_not_a_tuple(args):
    with pytest.raises(TypeError, match="args must be a tuple"):
        nd.gradient(rosen, [1.0, 2.0], args=args)


@pytest.mark.parametrize("fn", [nd.jacobian, nd.hessian])
def test_as_linear_operator_must_be_bool(fn):
    with pytest.raises(
        TypeError, match="as_linear_operator must be True or False, got 'no'"
    ):
        fn(rosen, [1.0, 2.0], as_linear_operator="no")


@pytest.mark.parametrize(
    "call",
    [
        lambda s: nd.gradient(rosen, [1.0, 2.0], rel_step=s),
        lambda s: nd.jacobian(rosen, [1.0, 2.0], rel_step=s, as_linear_operator=True),
        lambda s: nd.hessian(rosen, [1.0, 2.0], rel_step=s),
        lambda s: nd.jvp(rosen, [1.0, 2.0], [1.0, 0.0], rel_step=s),
        lambda s: nd.hvp(rosen, [1.0, 2.0], [1.0, 0.0], rel_step=s),
        lambda s: nd.derivative(np.sin, 1.0, rel_step=s),
    ],
)
def test_nan_rel_step_named(call):
    with pytest.raises(ValueError, match="rel_step must be positive and finite"):
        call(np.nan)


@pytest.mark.parametrize(
    "call",
    [
        lambda f: nd.jacobian(f, [1.0, 2.0]),
        lambda f: nd.jacobian(f, [1.0, 2.0], vectorized=True),
        lambda f: nd.jvp(f, [1.0, 2.0], [1.0, 1.0]),
        lambda f: nd.hessian(f, [1.0, 2.0]),
        lambda f: nd.hvp(f, [1.0, 2.0], [1.0, 1.0]),
        lambda f: nd.gradient(f, [1.0, 2.0], method="adaptive"),
    ],
)
def test_bool_valued_f_refused(call):
    with pytest.raises(TypeError, match="f must return numbers"):
        call(lambda x: x[0] > 0)


# -- 9. float32 kept ---------------------------------------------------------


def test_float32_kept_with_directions_and_zero_v():
    x = np.float32([1.0, 2.0])
    c, s = np.float32(np.cos(0.3)), np.float32(np.sin(0.3))
    Q = np.array([[c, -s], [s, c]], dtype=np.float32)
    g = nd.gradient(rosen, x, directions=Q)
    assert g.dtype == np.float32
    assert np.allclose(g, rosen_der([1.0, 2.0]), rtol=1e-2)
    assert nd.hessian(rosen, x, directions=Q).dtype == np.float32
    for fn in (nd.jvp, nd.hvp):
        r, _ = fn(rosen, x, np.float32([0, 0]), full_output=True)
        assert r.dtype == np.float32 and not r.any()
        assert fn(rosen, x, np.float32([1, 0])).dtype == np.float32


# -- 10. huge and tiny v -----------------------------------------------------


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300])
def test_jvp_hvp_huge_and_tiny_v(scale):
    x = np.array([1.0, 2.0])
    v = np.array([1.0, 1.0]) * scale
    # filterwarnings=error: no RuntimeWarning may leak
    jv, info = nd.jvp(rosen, x, v, full_output=True)
    assert info.status == 0
    assert jv[0] == pytest.approx(rosen_der(x) @ [1.0, 1.0] * scale, rel=1e-7)
    hv = nd.hvp(rosen, x, v)
    assert hv == pytest.approx(rosen_hess(x) @ [1.0, 1.0] * scale, rel=1e-4)


# -- 8. runaway derivative orders --------------------------------------------


@pytest.mark.parametrize("n", [11, 30, 1000, 10**9])
@pytest.mark.parametrize("method", ["central", "forward", "complex", "adaptive"])
def test_derivative_order_beyond_float64_refused_up_front(n, method):
    calls = []

    def f(t):
        calls.append(1)
        return np.sin(t)

    with pytest.raises(ValueError, match=f"n={n} is beyond what finite differences"):
        nd.derivative(f, 0.5, n=n, method=method)
    assert calls == []


def test_derivative_order_limit_float32():
    with pytest.raises(ValueError, match=r"n=5 is beyond .* float32"):
        nd.derivative(np.exp, np.float32(1.0), n=5)
    d = nd.derivative(np.exp, np.float32(1.0), n=4)
    assert abs(d - np.e) < 0.1 * np.e  # a digit, the most float32 gives


@pytest.mark.parametrize("n", [8, 10])
def test_derivative_order_at_the_limit_keeps_a_digit(n):
    for f, exact in (
        (np.exp, np.e),
        (
            np.sin,
            [np.sin, np.cos, lambda t: -np.sin(t), lambda t: -np.cos(t)][n % 4](0.5),
        ),
    ):
        x = 1.0 if f is np.exp else 0.5
        d, info = nd.derivative(f, x, n=n, full_output=True)
        assert abs(d - exact) < 0.1 * abs(exact)
        assert abs(d - exact) <= info.error


# -- 5. at a corner of the bounds --------------------------------------------

_BOX = ([0.0, 0.0], [1.0, 1.0])


@pytest.mark.parametrize("method", ["central", "forward", "backward", "adaptive"])
@pytest.mark.parametrize("x", [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
def test_hessian_at_a_box_corner(method, x):
    H, info = nd.hessian(rosen, x, bounds=_BOX, method=method, full_output=True)
    exact = rosen_hess(x)
    assert info.status >= 0
    assert np.all(np.isfinite(H))
    assert np.all(np.abs(H - exact) <= info.error + 1e-12)
    # one-sided order 2 (central's fallback) or 1: some 1e-2 off on 1e3
    tol = 1e-6 if method == "adaptive" else 5e-2
    assert np.allclose(H, exact, rtol=tol, atol=tol)
    H2 = nd.hessian(rosen, x, bounds=_BOX, method=method)
    assert np.allclose(H2, exact, rtol=tol, atol=tol)


def test_hessian_corner_never_evaluates_outside():
    def f(x):
        assert np.all(x >= 0) and np.all(x <= 1)
        return rosen(x)

    nd.hessian(f, [0.0, 1.0], bounds=_BOX, full_output=True)
    nd.hessian(f, [0.0, 1.0], bounds=_BOX, method="adaptive")
    nd.hvp(f, [0.0, 1.0], [1.0, -1.0], bounds=_BOX)


@pytest.mark.parametrize(
    "method",
    [
        "central",
        "adaptive",
    ],
)
def test_hvp_jvp_at_a_box_corner_into_the_box(method):
    x, v = np.array([0.0, 1.0]), np.array([1.0, -1.0])
    jv = nd.jvp(rosen, x, v, bounds=_BOX, method=method)
    assert np.allclose(jv, rosen_der(x) @ v, rtol=1e-6)
    hv, info = nd.hvp(rosen, x, v, bounds=_BOX, method=method, full_output=True)
    assert info.status >= 0
    assert np.allclose(hv, rosen_hess(x) @ v, rtol=1e-4, atol=1e-4)
    jv = nd.jvp(rosen, x, v, bounds=_BOX, method=method)
    assert np.allclose(jv, rosen_der(x) @ v, rtol=1e-6)


def test_direction_with_no_room_is_a_named_error():
    x = [0.0, 1.0]
    Q = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    with pytest.raises(ValueError, match="v points out of the bounds"):
        nd.jvp(rosen, x, [1.0, 1.0], bounds=_BOX)
    with pytest.raises(ValueError, match="v points out of the bounds"):
        nd.hvp(rosen, x, [1.0, 1.0], bounds=_BOX)
    for fn in (nd.gradient, nd.hessian):
        with pytest.raises(ValueError, match="directions column 0 points out"):
            fn(rosen, x, directions=Q, bounds=_BOX)
    # at a corner of a square only axis-aligned columns have room: fine
    Q2 = np.array([[0.0, -1.0], [1.0, 0.0]])
    g = nd.gradient(rosen, x, directions=Q2, bounds=_BOX)
    assert np.allclose(g, rosen_der(x), rtol=1e-6)


def test_vectorized_transposed_square_output_is_detected():
    """m = 2n: a transposed (2n, m) output has the expected shape; one point tells."""
    A = np.arange(18.0).reshape(6, 3)
    calls = []

    def wrong(X):
        calls.append(X.shape[1])
        return (A @ X).T

    with pytest.raises(ValueError, match=r"array of shape \(3, 1\)"):
        nd.jacobian(wrong, [1.0, 2.0, 3.0], vectorized=True)
    assert calls == [6, 1]
    J = nd.jacobian(lambda X: A @ X, [1.0, 2.0, 3.0], vectorized=True)
    assert np.allclose(J, A, rtol=1e-9)
