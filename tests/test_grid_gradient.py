"""numderiv.grid.gradient: NumPy as the oracle, exactness, convergence, errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numderiv as nd
from numderiv.grid import gradient

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

DTYPES = [
    np.float64,
    np.float32,
    np.float16,
    np.complex128,
    np.int64,
    np.int32,
    np.uint8,
]


@st.composite
def spacing_value(draw: Any, npts: int) -> Any:
    """A scalar spacing of some type, or monotonic coordinates of some dtype."""
    kind = draw(st.sampled_from(["float", "int", "f64", "f32", "coords", "icoords"]))
    if kind == "float":
        return draw(st.sampled_from([0.5, 1.0, -0.25, 3.0, 0.1]))
    if kind == "int":
        return draw(st.sampled_from([1, 2, -3]))
    if kind == "f64":
        return np.float64(draw(st.sampled_from([0.3, 2.0, -1.5])))
    if kind == "f32":
        return np.float32(draw(st.sampled_from([0.3, 2.0, 0.7])))
    steps = draw(
        st.lists(
            st.integers(1, 9), min_size=max(npts - 1, 0), max_size=max(npts - 1, 0)
        )
    )
    start = draw(st.integers(-5, 5))
    c = start + np.concatenate([[0], np.cumsum(steps, dtype=np.int64)])[:npts]
    if draw(st.booleans()):
        c = c[::-1].copy()
    if kind == "icoords":
        return c
    scale = draw(st.sampled_from([0.1, 1.0, 0.37]))
    return (c * scale).astype(draw(st.sampled_from([np.float64, np.float32])))


@st.composite
def gradient_case(draw: Any) -> tuple[Any, ...]:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(shape) * 10
    if np.issubdtype(dtype, np.complexfloating):
        y = y + 1j * rng.standard_normal(shape)
    if np.issubdtype(dtype, np.integer):
        y = np.abs(y)
    y = y.astype(dtype)
    axis_kind = draw(st.sampled_from(["none", "int", "neg", "tuple"]))
    if axis_kind == "none":
        axis: Any = None
        axes = list(range(ndim))
    elif axis_kind == "int":
        axis = draw(st.integers(0, ndim - 1))
        axes = [axis]
    elif axis_kind == "neg":
        axis = draw(st.integers(-ndim, -1))
        axes = [axis % ndim]
    else:
        axes = draw(st.permutations(list(range(ndim))))[: draw(st.integers(1, ndim))]
        axis = tuple(a - ndim if draw(st.booleans()) else a for a in axes)
    form = draw(st.sampled_from(["none", "scalar", "per-axis"]))
    if form == "none":
        spacing: tuple[Any, ...] = ()
    elif form == "scalar":
        spacing = (draw(st.sampled_from([0.5, 2, np.float64(0.3), np.float32(1.5)])),)
    else:
        spacing = tuple(draw(spacing_value(shape[a])) for a in axes)
    edge_order = draw(st.sampled_from([1, 2]))
    return y, spacing, axis, edge_order


def _np_gradient(y: Any, *spacing: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.gradient(y, *spacing, **kw)


def _nonuniform(spacing: Any) -> bool:
    a = np.asarray(spacing)
    if a.ndim == 0:
        return False
    d = np.diff(a.astype(np.float64) if a.dtype.kind in "iu" else a)
    return not bool((d == d[0]).all())


@SETTINGS
@given(gradient_case())
def test_matches_numpy(case: tuple[Any, ...]) -> None:
    y, spacing, axis, edge_order = case
    try:
        expected = _np_gradient(y, *spacing, axis=axis, edge_order=edge_order)
    except Exception as exc:
        with pytest.raises(type(exc)):
            gradient(y, *spacing, axis=axis, edge_order=edge_order)
        return
    got = gradient(y, *spacing, axis=axis, edge_order=edge_order)
    assert type(got) is type(expected)
    if isinstance(expected, np.ndarray):
        got, expected = (got,), (expected,)
    axes = (
        list(range(y.ndim))
        if axis is None
        else [a % y.ndim for a in np.atleast_1d(axis).tolist()]
    )
    per_axis = list(spacing) if len(spacing) == len(axes) else [1.0] * len(axes)
    for g, e, sp in zip(got, expected, per_axis, strict=True):
        assert g.dtype == e.dtype
        assert g.shape == e.shape
        if not _nonuniform(sp):
            # same formula: the same bits
            np.testing.assert_array_equal(g, e)
        else:
            # Fornberg weights against NumPy's closed form: a few ulps (of the
            # data or of the coordinates, whichever is coarser) of the size
            # of the terms summed
            x = np.asarray(sp, dtype=np.float64)
            hmin = np.min(np.abs(np.diff(x)))
            xdt = np.asarray(sp).dtype
            coarse = (
                xdt if xdt.kind == "f" and xdt.itemsize < e.real.itemsize else e.dtype
            )
            eps = np.finfo(coarse).eps
            scale = 8 * np.max(np.abs(y.astype(np.complex128))) / hmin
            np.testing.assert_allclose(g, e, rtol=0, atol=64 * eps * scale + 1e-300)


def test_documentation_example() -> None:
    y = np.array([1, 2, 4, 7, 11, 16])
    np.testing.assert_array_equal(gradient(y), [1.0, 1.5, 2.5, 3.5, 4.5, 5.0])
    np.testing.assert_array_equal(gradient(y, 2), [0.5, 0.75, 1.25, 1.75, 2.25, 2.5])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64])
def test_float_and_complex_dtypes_kept(dtype: Any) -> None:
    y = np.arange(10, dtype=dtype) ** 2
    for acc in (2, 4):
        g = gradient(y, accuracy=acc)
        assert g.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16])
def test_integers_become_float64_without_wraparound(dtype: Any) -> None:
    y = np.array([0, 200, 3, 250, 0], dtype=np.int64).astype(dtype)
    g = gradient(y)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, np.gradient(y.astype(np.float64)))


def test_bool_refused_like_numpy() -> None:
    y = np.array([True, False, True])
    with pytest.raises(TypeError):
        np.gradient(y)
    with pytest.raises(TypeError, match="boolean"):
        gradient(y)


def test_return_forms() -> None:
    y = np.random.default_rng(0).standard_normal((4, 5, 6))
    assert isinstance(gradient(y), tuple)
    assert len(gradient(y)) == 3
    assert isinstance(gradient(y, axis=1), np.ndarray)
    assert isinstance(gradient(y, axis=(1,)), np.ndarray)
    assert len(gradient(y, axis=(2, 0))) == 2
    assert gradient(np.float64(3.0)) == ()


def _grid(kind: str, npts: int) -> np.ndarray:
    """Points on [0, 1]: uniform, or with a period-3 pattern of unequal steps
    (non-uniform at every resolution; with ``npts = 1 (mod 3)`` the pattern
    is the same at both ends for every resolution)."""
    i = np.arange(npts, dtype=float)
    if kind == "uniform":
        return i / (npts - 1)
    pattern = np.array([0.0, 0.3, -0.2])
    x = i + pattern[np.arange(npts) % 3]
    return (x - x[0]) / (x[-1] - x[0])


@pytest.mark.parametrize("kind", ["uniform", "nonuniform"])
@pytest.mark.parametrize("accuracy", [2, 4, 6, 8])
def test_exact_on_polynomials(kind: str, accuracy: int) -> None:
    x = _grid(kind, 3 * accuracy + 4)
    rng = np.random.default_rng(accuracy)
    c = rng.standard_normal(accuracy + 1)
    y = np.polynomial.polynomial.polyval(x, c)
    exact = np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyder(c))
    spacing = x[1] - x[0] if kind == "uniform" else x
    scale = float(np.max(np.abs(exact)))
    g = gradient(y, spacing, accuracy=accuracy, edge_order=2)
    err = float(np.max(np.abs(g - exact)))
    assert err < 1e-9 * scale
    # one degree more is not exact: the test can fail
    y2 = y + x ** (accuracy + 1)
    g2 = gradient(y2, spacing, accuracy=accuracy, edge_order=2)
    exact2 = exact + (accuracy + 1) * x**accuracy
    assert np.max(np.abs(g2 - exact2)) > 100 * max(err, 1e-12 * scale)


def _slope(ns: list[int], errs: list[float]) -> float:
    h = 1.0 / (np.array(ns) - 1)
    return float(np.polyfit(np.log(h), np.log(errs), 1)[0])


@pytest.mark.parametrize("kind", ["uniform", "nonuniform"])
@pytest.mark.parametrize(
    ("accuracy", "ns"),
    [
        (2, [40, 79, 160, 319]),
        (4, [40, 79, 160, 319]),
        (6, [31, 46, 61, 91]),
        (8, [31, 40, 49, 61]),
    ],
)
def test_convergence_slope(kind: str, accuracy: int, ns: list[int]) -> None:
    errs = []
    for npts in ns:
        x = _grid(kind, npts)
        y = np.sin(4 * x) + np.exp(x)
        spacing = x[1] - x[0] if kind == "uniform" else x
        g = gradient(y, spacing, accuracy=accuracy, edge_order=2)
        errs.append(float(np.max(np.abs(g - 4 * np.cos(4 * x) - np.exp(x)))))
    assert abs(_slope(ns, errs) - accuracy) < 0.2, errs


def test_edge_order_one_is_first_order_at_the_ends() -> None:
    errs = []
    ns = [50, 100, 200, 400]
    for npts in ns:
        x = np.linspace(0, 1, npts)
        g = gradient(np.exp(x), x[1] - x[0], edge_order=1)
        errs.append(abs(g[0] - 1.0))
    assert abs(_slope(ns, errs) - 1) < 0.2


def test_decreasing_coordinates_like_numpy() -> None:
    x = np.array([3.0, 2.5, 1.0, 0.5, 0.0])
    y = x**2
    np.testing.assert_allclose(gradient(y, x, edge_order=2), 2 * x, atol=1e-12)
    np.testing.assert_allclose(
        gradient(y, x, edge_order=2), np.gradient(y, x, edge_order=2)
    )


def test_threads_give_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    import numderiv.grid._engine as engine

    monkeypatch.setattr(engine, "_BLOCK", 64)
    y = np.random.default_rng(3).standard_normal((50, 40))
    x = np.cumsum(np.random.default_rng(4).uniform(0.5, 1.5, 50))
    for kw in ({}, {"accuracy": 6}):
        serial = gradient(y, x, 0.5, workers=1, **kw)
        threaded = gradient(y, x, 0.5, workers=3, **kw)
        for a, b in zip(serial, threaded, strict=True):
            np.testing.assert_array_equal(a, b)


def test_errstate_reaches_worker_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import numderiv.grid._engine as engine

    monkeypatch.setattr(engine, "_BLOCK", 16)
    y = np.full((40, 8), np.finfo(np.float64).max)
    y[::2] *= -1
    with pytest.raises(FloatingPointError), np.errstate(over="raise"):
        gradient(y, axis=0, workers=2)


# -- bad input ---------------------------------------------------------------


@pytest.mark.parametrize("accuracy", [0, 3, -2, 2.0, True, "2"])
def test_bad_accuracy(accuracy: Any) -> None:
    with pytest.raises(ValueError, match="accuracy must be a positive even integer"):
        gradient(np.arange(10.0), accuracy=accuracy)


@pytest.mark.parametrize("edge_order", [0, 3, -1])
def test_bad_edge_order(edge_order: int) -> None:
    with pytest.raises(ValueError, match="edge_order must be 1 or 2"):
        gradient(np.arange(10.0), edge_order=edge_order)


def test_too_few_points() -> None:
    with pytest.raises(ValueError, match=r"needs at least 2"):
        gradient(np.array([1.0]))
    with pytest.raises(ValueError, match=r"needs at least 3"):
        gradient(np.array([1.0, 2.0]), edge_order=2)
    with pytest.raises(ValueError, match=r"accuracy=6 .* needs at least 7"):
        gradient(np.arange(6.0), accuracy=6)


def test_bad_spacing() -> None:
    y = np.arange(5.0)
    with pytest.raises(TypeError, match="invalid number of arguments"):
        gradient(y, 1.0, 2.0)
    with pytest.raises(ValueError, match=r"spacing\[0\] must be a scalar or 1-D"):
        gradient(np.ones((3, 3)), np.ones((3, 3)), 1.0)
    with pytest.raises(ValueError, match="has 4 coordinates but axis 0 of y has 5"):
        gradient(y, np.arange(4.0))
    with pytest.raises(ValueError, match="strictly monotonic"):
        gradient(y, np.array([0.0, 1.0, 1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="strictly monotonic"):
        gradient(y, np.array([0.0, 1.0, 0.5, 2.0, 3.0]))
    with pytest.raises(ValueError, match="finite"):
        gradient(y, np.array([0.0, 1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(ValueError, match="non-zero"):
        gradient(y, 0.0)
    with pytest.raises(IndexError, match="at least 2"):
        gradient(np.ones(1), np.ones(1))
    with pytest.raises(TypeError, match="must be real coordinates"):
        gradient(y, np.arange(5.0) * 1j)
    with pytest.raises(TypeError, match="spacing must be a number"):
        gradient(y, "a")
    with pytest.raises(ValueError, match="finite non-zero real spacing"):
        gradient(y, np.inf)


def test_bad_axis() -> None:
    with pytest.raises(np.exceptions.AxisError):
        gradient(np.ones((3, 3)), axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        gradient(np.ones((3, 3)), axis=(0, 0))


def test_bad_workers() -> None:
    with pytest.raises(ValueError, match="workers must be"):
        gradient(np.arange(5.0), workers=0)


def test_non_numeric_refused() -> None:
    with pytest.raises(TypeError, match="numeric"):
        gradient(np.array(["a", "b", "c"]))
    with pytest.raises(TypeError, match="masked array"):
        gradient(np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]))


def test_public_namespace() -> None:
    assert nd.grid.gradient is gradient


def test_timedelta_and_datetime_refused():
    with pytest.raises(TypeError, match="timedelta"):
        nd.grid.gradient(np.array([1, 4, 9], dtype="m8[s]"))
    with pytest.raises(TypeError, match="datetime"):
        nd.grid.gradient(np.array(["2020-01-01", "2020-01-02"], dtype="M8[D]"))


# -- orders float64 cannot carry to the boundary ------------------------------


@pytest.mark.parametrize("accuracy", [26, 30, 60, 10**6])
def test_gradient_refuses_orders_float64_cannot_carry(accuracy: int) -> None:
    y = np.exp(np.linspace(0, 1, 200))
    with pytest.raises(
        ValueError, match=rf"accuracy={accuracy} is more than float64.*accuracy=24"
    ):
        nd.grid.gradient(y, accuracy=accuracy)


@pytest.mark.parametrize("uniform", [True, False])
def test_gradient_at_the_accuracy_limit_is_accurate_at_the_boundary(
    uniform: bool,
) -> None:
    # the measurements behind the limit: accuracy 24 on 200 points keeps
    # the boundary to 1e-8 (and 8 or 10 to 1e-12), where 60 was off by 2e2
    rng = np.random.default_rng(24)
    if uniform:
        x = np.linspace(0, 1, 200)
    else:
        x = np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 1.5, 199))])
        x /= x[-1]
    for f, df in [
        (np.exp, np.exp),
        (lambda t: np.sin(5 * t), lambda t: 5 * np.cos(5 * t)),
    ]:
        spacing = x[1] - x[0] if uniform else x
        for accuracy, tol in [(8, 1e-10), (24, 1e-7)]:
            g = nd.grid.gradient(f(x), spacing, accuracy=accuracy)
            err = np.abs(g - df(x)) / np.max(np.abs(df(x)))
            assert err[:accuracy].max() < tol
            assert err[-accuracy:].max() < tol
