"""Fuzz ``numderiv.grid``: NumPy as the oracle for ``gradient``, exactness on
polynomials for the rest, named errors for bad input.

Every call goes through :func:`_fuzzkit.attempt` (no other exception, no
warning, no input modified in place).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from _fuzzkit import COUNTS, attempt, fuzz_settings, refused
from hypothesis import assume, given
from hypothesis import strategies as st

import numderiv as nd

DTYPES = (
    np.float64,
    np.float32,
    np.float16,
    np.int64,
    np.int8,
    np.complex128,
    np.bool_,
)


@st.composite
def arrays(
    draw: Any, min_dims: int = 0, max_dims: int = 3, max_side: int = 6
) -> np.ndarray:
    """Arrays of every dtype and shape (0-d and empty included), with some
    NaN, inf, huge and subnormal entries among the floats."""
    ndim = draw(st.integers(min_dims, max_dims))
    shape = tuple(
        draw(st.lists(st.integers(0, max_side), min_size=ndim, max_size=ndim))
    )
    size = int(np.prod(shape))
    dt = np.dtype(draw(st.sampled_from(DTYPES)))
    if dt.kind == "b":
        vals: Any = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    elif dt.kind in "iu":
        vals = draw(st.lists(st.integers(-100, 100), min_size=size, max_size=size))
    else:
        special = st.sampled_from((np.nan, np.inf, -np.inf, 1e300, 5e-324, -1e-310))
        elem = st.floats(-10, 10)
        if draw(st.integers(0, 5)) == 0:
            elem = st.one_of(elem, special)
        vals = draw(st.lists(elem, min_size=size, max_size=size))
        if dt.kind == "c":
            im = draw(st.lists(st.floats(-10, 10), min_size=size, max_size=size))
            vals = np.array(vals) + 1j * np.array(im)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1e300 in float16 is inf: wanted
        return np.array(vals, dtype=dt).reshape(shape)


@st.composite
def coordinates(draw: Any, n: int, *, uniform: bool | None = None) -> np.ndarray:
    """Strictly increasing coordinates of n points, uniform or not."""
    if uniform is None:
        uniform = draw(st.booleans())
    x0 = draw(st.floats(-5, 5))
    if uniform:
        return x0 + draw(st.floats(0.1, 2.0)) * np.arange(n)
    d = np.array(draw(st.lists(st.floats(0.2, 2.0), min_size=n, max_size=n)))
    return x0 + np.concatenate([[0.0], np.cumsum(d[: n - 1])]) if n else np.empty(0)


def grid_attempt(entry: str, fn: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
    """:func:`attempt` for a grid function on data that may hold inf.

    By decision, the grid keeps NumPy's semantics for non-finite data:
    ``inf - inf`` gives NaN with NumPy's "invalid value" RuntimeWarning,
    exactly as ``np.gradient`` (whose drop-in, ``compat.numpy.gradient``,
    computes on the same engine and must warn where NumPy does).  Only that
    case is allowed: a warning on finite data still fails.
    """
    try:
        return attempt(entry, fn, y, *args, **kwargs)
    except RuntimeWarning:
        ya = np.asarray(y)
        if ya.dtype.kind in "fc" and not np.isfinite(ya).all():
            assume(False)
        raise


def _numpy(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call NumPy quietly: its own warnings (inf - inf) are not under test."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except (ValueError, TypeError, IndexError, np.exceptions.AxisError) as exc:
        return exc


def _assert_like(ours: Any, ref: Any, dtype: Any) -> None:
    """Equal to NumPy's result up to rounding, with its dtype and structure."""
    if isinstance(ref, (list, tuple)):
        assert type(ours) is type(ref) and len(ours) == len(ref), (
            type(ours),
            type(ref),
        )
        for a, b in zip(ours, ref, strict=True):
            _assert_like(a, b, dtype)
        return
    ours = np.asarray(ours)
    ref = np.asarray(ref)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    assert ours.dtype == ref.dtype, (ours.dtype, ref.dtype)
    if ours.size == 0:
        return
    eps = float(np.finfo(ref.dtype).eps) if ref.dtype.kind in "fc" else 2.2e-16
    fin = np.isfinite(ref)
    # where NumPy is not finite (inf - inf, overflow), ours is not finite either
    assert np.all(~np.isfinite(ours[~fin])), (ours, ref)
    if not fin.any():
        return
    with np.errstate(all="ignore"):
        scale = np.max(np.abs(ref[fin]))
        diff = np.abs(ours[fin].astype(complex) - ref[fin].astype(complex))
    assert np.all(
        diff
        <= 64
        * eps
        * max(scale, np.finfo(ref.dtype).tiny if ref.dtype.kind in "fc" else 1.0)
    ), (ours, ref)


@st.composite
def gradient_call(draw: Any) -> tuple[np.ndarray, tuple[Any, ...], dict[str, Any]]:
    y = draw(arrays())
    nd_ = y.ndim
    spacing: tuple[Any, ...] = ()
    axis: Any = None
    kind = draw(st.sampled_from(("none", "axis", "tuple")))
    if kind == "axis" and nd_:
        axis = draw(st.integers(-nd_, nd_ - 1))
        axes: tuple[int, ...] = (axis % nd_,)
    elif kind == "tuple" and nd_:
        axis = tuple(draw(st.permutations(range(nd_)))[: draw(st.integers(1, nd_))])
        axes = tuple(a % nd_ for a in axis)
    else:
        axes = tuple(range(nd_))
    sp = draw(st.sampled_from(("none", "scalar", "each", "coords")))
    if sp == "scalar":
        spacing = (draw(st.sampled_from((0.5, 2.0, 3))),)
    elif sp == "each":
        spacing = tuple(draw(st.sampled_from((0.5, 1.0, 2.0))) for _ in axes)
    elif sp == "coords":
        spacing = tuple(
            draw(coordinates(y.shape[a])) if draw(st.integers(0, 3)) else 1.5
            for a in axes
        )
    kwargs: dict[str, Any] = {"edge_order": draw(st.sampled_from((1, 2, 1, 2, 3, 0)))}
    if axis is not None or draw(st.booleans()):
        kwargs["axis"] = axis
    return y, spacing, kwargs


@fuzz_settings(2.0)
@given(call=gradient_call())
def test_gradient_against_numpy(call: Any) -> None:
    y, spacing, kwargs = call
    r = grid_attempt(
        "grid.gradient",
        nd.grid.gradient,
        y,
        *spacing,
        names=("y", "spacing", "varargs", "f"),
        **kwargs,
    )
    if y.dtype == np.bool_ and refused(r):
        return  # booleans refused by name: NumPy cannot difference them either
    if kwargs["edge_order"] not in (1, 2):
        # NumPy checks only edge_order > 2 (0 acts as 2, or IndexErrors)
        assert refused(r), f"grid.gradient accepted edge_order={kwargs['edge_order']}"
        return
    ref = _numpy(np.gradient, y, *spacing, **kwargs)
    if isinstance(ref, Exception):
        assert refused(r), f"NumPy refuses ({ref!r}), numderiv gives {r!r}"
        return
    assert not refused(r), f"NumPy accepts, numderiv refuses: {r.exc!r}"
    _assert_like(r, ref, y.dtype)


def _record(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
    """Result (or exception) and warning categories of a call."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        try:
            out: Any = fn(*args, **kwargs)
        except Exception as exc:
            out = exc
    return out, sorted({w.category.__name__ for w in caught})


@fuzz_settings(2.0)
@given(call=gradient_call())
def test_compat_numpy_gradient_against_numpy(call: Any) -> None:
    """A drop-in: NumPy's numbers, dtypes and structure, and NumPy's
    exceptions and warnings exactly where NumPy gives them (documented:
    inputs NumPy refuses or makes non-finite are handed to NumPy itself)."""
    y, spacing, kwargs = call
    copies = [y.copy()] + [np.copy(s) for s in spacing]
    ref, ref_warn = _record(np.gradient, y, *spacing, **kwargs)
    COUNTS["compat.numpy.gradient"] += 1
    ours, our_warn = _record(nd.compat.numpy.gradient, y, *spacing, **kwargs)
    for a, b in zip([y, *spacing], copies, strict=True):
        assert np.array_equal(a, b, equal_nan=True), "input modified in place"
    if isinstance(ref, Exception):
        assert type(ours) is type(ref), f"NumPy raises {ref!r}, compat gives {ours!r}"
        return
    assert not isinstance(ours, Exception), f"NumPy accepts, compat raises {ours!r}"
    assert set(our_warn) <= set(ref_warn), (our_warn, ref_warn)
    _assert_like(ours, ref, y.dtype)


# ---------------------------------------------------------------------------
# Higher accuracy, derivative(): exact on polynomials of the stencil's degree.


def _poly(x: np.ndarray, coef: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Values of sum c_k x^k and of its n-th derivative."""
    p = np.polynomial.Polynomial(coef)
    return p(x), p.deriv(n)(x) if n <= len(coef) - 1 else np.zeros_like(x)


@fuzz_settings(1.0)
@given(data=st.data())
def test_derivative_exact_on_polynomials(data: Any) -> None:
    n = data.draw(st.integers(1, 3))
    acc = data.draw(st.sampled_from((2, 4, 6)))
    npts = data.draw(st.integers(1, 14))
    x = data.draw(coordinates(npts))
    deg = n + acc - 1  # what every stencil of this accuracy differentiates exactly
    coef = np.array(
        data.draw(st.lists(st.floats(-2, 2), min_size=deg + 1, max_size=deg + 1))
    )
    y, dy = _poly(x, coef, n)
    axis = -1
    if data.draw(st.booleans()):
        # two scaled copies stacked along a new leading or trailing axis
        lead = data.draw(st.booleans())
        y = np.stack([y, -2.0 * y], axis=0 if lead else 1)
        dy = np.stack([dy, -2.0 * dy], axis=0 if lead else 1)
        axis = -1 if lead else 0
    uniform = npts >= 2 and np.allclose(np.diff(x), x[1] - x[0])
    spacing: Any = x[1] - x[0] if uniform and data.draw(st.booleans()) else x
    r = attempt(
        "grid.derivative",
        nd.grid.derivative,
        y,
        spacing,
        n=n,
        accuracy=acc,
        axis=axis,
        names=("y", "x"),
    )
    if refused(r):
        # too few points for the stencil is the one documented refusal
        assert "point" in str(r.exc) or "accuracy" in str(r.exc) or npts < 2, r.exc
        return
    scale = max(
        1.0,
        float(np.max(np.abs(dy), initial=0.0)),
        float(np.max(np.abs(y), initial=0.0)),
    )
    h = float(np.min(np.diff(x))) if npts > 1 else 1.0
    # rounding of an n-th difference: eps |y| / h^n times the weights' size
    tol = 1e-9 * scale / h**n * 10**acc
    assert r.shape == dy.shape
    assert np.allclose(r, dy, rtol=0, atol=tol), (r, dy)


@fuzz_settings(0.7)
@given(y=arrays(max_dims=2, max_side=8), data=st.data())
def test_derivative_bad_and_odd_input(y: Any, data: Any) -> None:
    """Any array, any option: a result of y's shape, or a named refusal."""
    n = data.draw(st.sampled_from((1, 2, 0, -1, 1.5, True)))
    acc = data.draw(st.sampled_from((2, 4, 3, 0, 60)))
    boundary = data.draw(st.sampled_from(("one-sided", "periodic", "reflect")))
    axis = data.draw(st.integers(-3, 2))
    x = data.draw(st.sampled_from((None, 1.0, 0.0, -1.0, np.nan, "x")))
    r = grid_attempt(
        "grid.derivative",
        nd.grid.derivative,
        y,
        x,
        n=n,
        accuracy=acc,
        boundary=boundary,
        axis=axis,
        names=("y", "x"),
    )
    if refused(r):
        return
    assert r.shape == y.shape
    assert r.dtype == np.result_type(y.dtype, np.float64) or r.dtype.kind in "fc"


@fuzz_settings(0.5)
@given(data=st.data())
def test_periodic_derivative_of_sine(data: Any) -> None:
    acc = data.draw(st.sampled_from((2, 4, 6, 8)))
    npts = data.draw(st.integers(acc + 1, 40))
    n = data.draw(st.integers(1, 2))
    k = data.draw(st.integers(0, 2))
    L = 2 * np.pi
    h = L / npts
    x = h * np.arange(npts)
    y = np.sin(k * x)
    exact = k**n * np.sin(k * x + n * np.pi / 2)
    r = attempt(
        "grid.derivative",
        nd.grid.derivative,
        y,
        h,
        n=n,
        accuracy=acc,
        boundary="periodic",
        names=("y", "x"),
    )
    assert not refused(r), r
    # truncation error of a periodic central stencil: about (k h)^acc k^n
    tol = 2.0 * (k * h) ** acc * max(1, k) ** n + 1e-10 * 10**acc / h**n
    assert np.allclose(r, exact, rtol=0, atol=tol), (r, exact, tol)


@fuzz_settings(0.7)
@given(data=st.data())
def test_laplacian_divergence_curl_on_quadratics(data: Any) -> None:
    ndim = data.draw(st.integers(1, 3))
    if data.draw(st.booleans()):
        ndim = 3
    shape = tuple(data.draw(st.lists(st.integers(3, 6), min_size=ndim, max_size=ndim)))
    coords = [data.draw(coordinates(s)) for s in shape]
    acc = data.draw(st.sampled_from((2, 4)))
    grids = np.meshgrid(*coords, indexing="ij")
    a = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=ndim, max_size=ndim)))
    b = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=ndim, max_size=ndim)))
    y = sum(a[i] * grids[i] ** 2 + b[i] * grids[i] for i in range(ndim))
    spacing = tuple(coords)
    r = attempt(
        "grid.laplacian",
        nd.grid.laplacian,
        y,
        *spacing,
        accuracy=acc,
        names=("y", "spacing"),
    )
    # one-sided stencils of this accuracy need acc + n points (n = 1, 2)
    few = min(shape) < acc + 1
    if refused(r):
        assert min(shape) < acc + 2 and "point" in str(r.exc), r.exc
    else:
        assert np.allclose(r, 2 * a.sum() * np.ones(shape), atol=1e-7), (r, 2 * a.sum())
    # F_i = a_i x_i^2 + b_i x_{i+1}: divergence 2 a_i x_i summed
    F = np.stack(
        [a[i] * grids[i] ** 2 + b[i] * grids[(i + 1) % ndim] for i in range(ndim)]
    )
    r = attempt(
        "grid.divergence",
        nd.grid.divergence,
        F,
        *spacing,
        accuracy=acc,
        names=("F", "spacing"),
    )
    assert refused(r) == few, r
    if not refused(r):
        # (b_i x_{i+1} is b_i x_i itself when ndim = 1)
        exact = sum(
            2 * a[i] * grids[i] + (b[i] if ndim == 1 else 0.0) for i in range(ndim)
        )
        assert np.allclose(r, exact, atol=1e-7), (r, exact)
    if ndim == 3:
        # F = (b0 x1, b1 x2, b2 x0) + a_i x_i^2: curl = (-b1, -b2, -b0)
        r = attempt(
            "grid.curl", nd.grid.curl, F, *spacing, accuracy=acc, names=("F", "spacing")
        )
        assert refused(r) == few, r
        if few:
            return
        exact = np.stack(
            [-b[1] * np.ones(shape), -b[2] * np.ones(shape), -b[0] * np.ones(shape)]
        )
        assert np.allclose(r, exact, atol=1e-7), (r, exact)


@fuzz_settings(0.5)
@given(F=arrays(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_operators_odd_input(F: Any, data: Any) -> None:
    """Any array to the vector operators: a result or a named refusal."""
    acc = data.draw(st.sampled_from((2, 4, 5, -2)))
    boundary = data.draw(st.sampled_from(("one-sided", "periodic", "wrap")))
    for name, fn in (
        ("grid.laplacian", nd.grid.laplacian),
        ("grid.divergence", nd.grid.divergence),
        ("grid.curl", nd.grid.curl),
    ):
        grid_attempt(
            name, fn, F, accuracy=acc, boundary=boundary, names=("F", "y", "spacing")
        )


@fuzz_settings(0.7)
@given(data=st.data())
def test_smooth_derivative(data: Any) -> None:
    method = data.draw(st.sampled_from(("savgol", "spline", "spectral", "lowess")))
    npts = data.draw(st.integers(0, 40))
    n = data.draw(st.integers(1, 3))
    h = data.draw(st.floats(0.05, 1.0))
    x = h * np.arange(npts)
    coef = np.array(
        data.draw(st.lists(st.floats(-1, 1), min_size=n + 1, max_size=n + 1))
    )
    y, dy = _poly(x, coef, n)
    if data.draw(st.booleans()):
        y = y + 1j * y
        dy = dy + 1j * dy
    kw: dict[str, Any] = {}
    bad = data.draw(
        st.sampled_from((None, None, None, "window", "polyorder", "lam", "cutoff"))
    )
    if bad == "window":
        kw["window"] = data.draw(st.sampled_from((0, 2, -3, 4.5, 10**6)))
    elif bad == "polyorder":
        kw["polyorder"] = data.draw(st.sampled_from((-1, 0.5, "2")))
    elif bad == "lam":
        kw["lam"] = data.draw(st.sampled_from((-1.0, np.nan, np.inf, "a")))
    elif bad == "cutoff":
        kw["cutoff"] = data.draw(st.sampled_from((-0.5, 0.0, 2.0, np.nan)))
    r = attempt(
        "grid.smooth_derivative",
        nd.grid.smooth_derivative,
        y,
        x if npts else 1.0,
        n=n,
        method=method,
        names=("y", "x", "n", "method"),
        **kw,
    )
    if refused(r):
        return
    assert method != "lowess"
    assert r.shape == y.shape
    assert np.iscomplexobj(r) == np.iscomplexobj(y), "complex parts dropped"
    if method == "savgol" and not kw:
        # the local fit has degree n + 2 by default: exact on degree n
        scale = max(1.0, float(np.max(np.abs(y), initial=0.0)))
        assert np.allclose(r, dy, atol=1e-8 * scale / h**n), (r, dy)
    assert not np.isinf(r).any()


@fuzz_settings(0.5)
@given(data=st.data())
def test_turning_points(data: Any) -> None:
    npts = data.draw(st.integers(0, 60))
    h = data.draw(st.floats(0.05, 0.3))
    x0 = data.draw(st.floats(-1, 1))
    x = x0 + h * np.arange(npts)
    y = np.sin(x)
    give_x = data.draw(st.booleans())
    r = attempt(
        "grid.turning_points",
        nd.grid.turning_points,
        y,
        x if give_x else None,
        names=("y", "x"),
    )
    if refused(r):
        assert npts < 3, r.exc
        return
    r = np.asarray(r)
    if give_x:
        # the extrema of sin are at pi/2 + k pi; a located one is within a step
        k = np.round((r - np.pi / 2) / np.pi)
        assert np.all(np.abs(r - (np.pi / 2 + k * np.pi)) <= h), r
        inside = np.pi / 2 + np.pi * np.arange(-10, 30)
        inside = (
            inside[(inside > x[0] + h) & (inside < x[-1] - h)] if npts else inside[:0]
        )
        assume(inside.size < 100)
        assert len(r) >= inside.size, (r, inside)
