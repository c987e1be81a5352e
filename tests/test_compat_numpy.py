"""numderiv.compat.numpy.gradient against numpy.gradient itself."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numderiv.compat.numpy import gradient


def _same(got: Any, want: Any, *, exact: bool = True) -> None:
    """Same structure (array or tuple), shapes, dtypes and values."""
    assert type(got) is type(want)
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _same(g, w, exact=exact)
        return
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        finite = np.abs(want[np.isfinite(want)])
        scale = float(np.max(finite, initial=0.0))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)


def _outcome(fn: Any, *args: Any, **kw: Any) -> tuple[str, Any]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            out = fn(*args, **kw)
        except Exception as exc:  # the type is what is compared
            return "raise", type(exc)
    return "ok", (out, sorted({type(w.message).__name__ for w in rec}))


# -- the examples of the NumPy documentation and the Q&A seed ------------------


def test_doc_example_unit_spacing() -> None:
    y = np.array([1, 2, 4, 7, 11, 16], dtype=float)
    got = gradient(y)
    np.testing.assert_array_equal(got, [1.0, 1.5, 2.5, 3.5, 4.5, 5.0])
    _same(got, np.gradient(y))


def test_doc_example_integers() -> None:
    f = np.array([1, 2, 4, 7, 11, 16])
    _same(gradient(f), np.gradient(f))
    _same(gradient(f, 2), np.gradient(f, 2))
    np.testing.assert_array_equal(gradient(f, 2), [0.5, 0.75, 1.25, 1.75, 2.25, 2.5])


def test_qa_example_1_unit_spacing() -> None:
    f = np.array([5, 7, 4, 8])
    np.testing.assert_array_equal(gradient(f), [2.0, -0.5, 0.5, 4.0])
    _same(gradient(f), np.gradient(f))


def test_qa_example_2_spacing_half() -> None:
    f = np.array([5, 7, 4, 8])
    got = gradient(f, 0.5)
    np.testing.assert_array_equal(got, 2 * gradient(f))
    np.testing.assert_array_equal(got, [4.0, -1.0, 1.0, 8.0])
    _same(got, np.gradient(f, 0.5))


def test_qa_example_3_coordinates() -> None:
    f = np.array([5, 7, 4, 8])
    x = np.array([0, 1, 3, 3.5])
    got = gradient(f, x)
    # the interior formula of NumPy's docs, written out: hs, hd the spacings
    # to the left and right
    hs, hd = np.diff(x)[:-1], np.diff(x)[1:]
    inner = (hs**2 * f[2:] + (hd**2 - hs**2) * f[1:-1] - hd**2 * f[:-2]) / (
        hs * hd * (hd + hs)
    )
    np.testing.assert_allclose(got[1:-1], inner, rtol=1e-14)
    np.testing.assert_allclose(got[[0, -1]], [2.0, 8.0], rtol=1e-14)
    _same(got, np.gradient(f, x), exact=False)


def test_qa_example_2d_grid() -> None:
    f = np.array([[1, 2, 6], [3, 4, 5]], dtype=float)
    d0, d1 = gradient(f)
    np.testing.assert_array_equal(d0, [[2.0, 2.0, -1.0], [2.0, 2.0, -1.0]])
    np.testing.assert_array_equal(d1, [[1.0, 2.5, 4.0], [1.0, 1.0, 1.0]])
    _same(gradient(f), np.gradient(f))
    _same(gradient(f, 2.0, [1.0, 1.5, 3.5]), np.gradient(f, 2.0, [1.0, 1.5, 3.5]))
    _same(gradient(f, axis=0), np.gradient(f, axis=0))
    g = np.vstack([f, f**2])
    _same(gradient(g, edge_order=2), np.gradient(g, edge_order=2))


def test_doc_example_meshgrid_partials() -> None:
    # the Q&A's 2-D example: partial derivatives of f(x, y) on a meshgrid
    x = np.linspace(0.0, 1.0, 7)
    y = np.linspace(-1.0, 2.0, 5)
    xx, yy = np.meshgrid(x, y)
    z = xx**2 - 2 * xx * np.sin(yy)
    got = gradient(z, y, x)
    # linspace coordinates are not exactly equally spaced: NumPy's closed-form
    # non-uniform weights against Fornberg's, a few units in the last place
    _same(got, np.gradient(z, y, x), exact=False)
    # interior of d/dx: central differences of a quadratic in x are exact
    np.testing.assert_allclose(
        got[1][:, 1:-1], (2 * xx - 2 * np.sin(yy))[:, 1:-1], atol=1e-12
    )


def test_returns_tuple_like_numpy_for_several_axes() -> None:
    f = np.arange(24.0).reshape(2, 3, 4) ** 2
    out = gradient(f, axis=(0, 2))
    assert isinstance(out, tuple) and len(out) == 2
    _same(out, np.gradient(f, axis=(0, 2)))
    _same(gradient(f, axis=-1), np.gradient(f, axis=-1))


# -- randomised equality with NumPy ---------------------------------------------

_dtypes = st.sampled_from(
    [np.float64, np.float32, np.float16, np.complex128, np.int64, np.int32]
)


@st.composite
def _cases(draw: Any) -> tuple[Any, tuple[Any, ...], Any, int]:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(3, 6), min_size=ndim, max_size=ndim)))
    dt = draw(_dtypes)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    data = rng.normal(size=shape) * 10
    if np.issubdtype(dt, np.complexfloating):
        data = data + 1j * rng.normal(size=shape)
    f = data.astype(dt)
    if draw(st.booleans()):
        axis = None
        axes = list(range(ndim))
    else:
        k = draw(st.integers(0, ndim - 1))
        axis = draw(st.sampled_from([k, k - ndim, (k,)]))
        axes = [k]
    kind = draw(st.sampled_from(["none", "scalar", "per-axis"]))
    spacing: tuple[Any, ...] = ()
    if kind == "scalar":
        spacing = (draw(st.sampled_from([0.5, 2, 3.0, np.float32(0.25), -1.5])),)
    elif kind == "per-axis":
        parts = []
        for ax in axes:
            if draw(st.booleans()):
                parts.append(draw(st.sampled_from([1, 0.1, 2.5, np.float64(3.0)])))
            else:
                steps = rng.uniform(0.2, 2.0, size=shape[ax] - 1)
                coords = np.concatenate([[0.0], np.cumsum(steps)])
                if draw(st.booleans()):
                    coords = np.arange(shape[ax]) * 0.5  # uniform coordinates
                parts.append(coords)
        spacing = tuple(parts)
    edge = draw(st.sampled_from([1, 2]))
    return f, spacing, axis, edge


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_equals_numpy_randomised(case: tuple[Any, tuple[Any, ...], Any, int]) -> None:
    f, spacing, axis, edge = case
    want = np.gradient(f, *spacing, axis=axis, edge_order=edge)
    got = gradient(f, *spacing, axis=axis, edge_order=edge)
    nonuniform = any(np.ndim(s) == 1 and np.ptp(np.diff(s)) > 0 for s in spacing)
    _same(got, want, exact=not nonuniform)


# -- inputs grid refuses but NumPy accepts, and inputs NumPy refuses ------------


_ODD: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((np.array([1.0, 2.0, 4.0, 7.0]), np.array([0.0, 1.0, 1.0, 2.0])), {}),
    ((np.array([1.0, 2.0, 4.0, 7.0]), np.array([0.0, 2.0, 1.0, 3.0])), {}),
    ((np.array([1.0, 2.0, 4.0, 7.0]), np.array([0.0, np.nan, 1.0, 3.0])), {}),
    ((np.array([1.0, 2.0, 4.0, 7.0]), 0.0), {}),
    ((np.array([1.0, 2.0, 4.0, 7.0]), np.inf), {}),
    ((np.array([1.0, 2.0, 4.0, 7.0]), 1 + 1j), {}),
    ((np.array([1.0, 2.0, 4.0, 7.0]),), {"edge_order": 3}),
    ((np.array([1.0, 2.0, 4.0, 7.0]),), {"edge_order": 0}),
    ((np.array([True, False, True]),), {}),
    ((np.array([1.0]),), {}),
    ((np.array([1.0, 2.0]),), {"edge_order": 2}),
    ((np.array([1.0, 2.0, 3.0]), 1.0, 2.0), {}),
    ((np.array([1.0, 2.0, 3.0]), [1.0, 2.0]), {}),
    ((np.array([1.0, 2.0, 3.0]), [[1.0, 2.0, 3.0]]), {}),
    ((np.array([1.0, 2.0, 3.0]),), {"axis": 1}),
    ((np.array([1.0, 2.0, 3.0]),), {"axis": 0.5}),
    ((np.ones((3, 3)),), {"axis": (0, 0)}),
    ((np.array(["a", "b", "c"]),), {}),
    ((np.array([1, 2, 3], dtype=object),), {}),
    ((np.array(["2020-01-01", "2020-01-03", "2020-01-08"], dtype="M8[D]"),), {}),
    ((np.array([1, 4, 9], dtype="m8[s]"), np.array([1, 2, 4], dtype="m8[s]")), {}),
    ((np.ma.masked_array([1.0, 2.0, 4.0, 7.0], mask=[0, 1, 0, 0]),), {}),
    ((np.array(5.0),), {}),
    ((np.array([1.0, 2.0, 4.0]), np.array([0, 1, 3])), {}),
    ((np.array([1.0, 2.0, 4.0]), np.array([3.0, 1.0, 0.0])), {}),
    ((np.array([1, 2, 4], dtype=np.uint8),), {}),
    (
        (np.array([1, 2, 4], dtype=np.uint8), np.array([1, 2, 4], dtype=np.uint8)),
        {},
    ),
    (([[1.0, 2.0], [3.0]],), {}),  # ragged
    ((np.arange(4.0),), {"edge_order": True}),
    ((np.arange(4.0),), {"axis": True}),
    ((np.arange(4.0), np.float64(np.nan)), {}),
    ((np.arange(4.0), np.array([0, 1, 2, 3], dtype=bool)), {}),
]


@pytest.mark.parametrize(("args", "kw"), _ODD)
def test_same_outcome_as_numpy_on_odd_inputs(args: tuple[Any, ...], kw: Any) -> None:
    want = _outcome(np.gradient, *args, **kw)
    got = _outcome(gradient, *args, **kw)
    assert got[0] == want[0]
    if want[0] == "raise":
        assert got[1] is want[1]
        return
    (gv, gw), (wv, ww) = got[1], want[1]
    assert gw == ww  # the same warnings
    if isinstance(wv, np.ma.MaskedArray):
        assert type(gv) is type(wv)
        np.testing.assert_array_equal(np.ma.getdata(gv), np.ma.getdata(wv))
        return
    _same(gv, wv)


def test_refusals_raise_numpy_exception_types() -> None:
    with pytest.raises(ValueError, match="too small"):
        gradient(np.array([1.0]))
    with pytest.raises(TypeError, match="invalid number of arguments"):
        gradient(np.arange(3.0), 1.0, 2.0)
    with pytest.raises(np.exceptions.AxisError):
        gradient(np.arange(3.0), axis=2)
    with pytest.raises(ValueError, match="edge_order"):
        gradient(np.arange(5.0), edge_order=3)


def test_matrix_subclass_is_numpys() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        m = np.matrix([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
        got, want = gradient(m), np.gradient(m)
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w)
        np.testing.assert_array_equal(g, w)


# -- which inputs numderiv computes, which it hands to NumPy ---------------------

_REAL_GRADIENT = np.gradient


class _NumPyCalled(AssertionError):
    pass


def _forbid_numpy(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """numpy.gradient raising: a call that reaches it was not computed here."""
    calls: list[Any] = []

    def refuse(*args: Any, **kw: Any) -> Any:
        calls.append(args)
        raise _NumPyCalled("numpy.gradient was called")

    monkeypatch.setattr(np, "gradient", refuse)
    return calls


_CLAIMED: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((np.array([1, 2, 4, 7, 11, 16]),), {}),
    (([1.0, 2.0, 4.0],), {}),  # a list
    ((np.arange(12.0).reshape(3, 4) ** 2,), {"axis": (1, -2)}),
    ((np.arange(12.0).reshape(3, 4) ** 2, 0.5, [0.0, 1.0, 3.0, 3.5]), {}),
    ((np.arange(5.0) ** 3, np.array([4.0, 3.0, 1.0, 0.5, 0.0])), {}),  # decreasing
    ((np.arange(5.0) ** 3, np.array([0, 1, 3, 4, 6])), {"edge_order": 2}),
    ((np.arange(5, dtype=np.float32) ** 2, np.float32(0.25)), {}),
    ((np.arange(5.0) + 1j * np.arange(5.0) ** 2, -1.5), {"edge_order": 2}),
    ((np.arange(4, dtype=np.uint8),), {"axis": np.int64(0)}),
    ((np.arange(3.0), np.array(2.0)), {}),  # a 0-d array spacing
    ((np.arange(2.0),), {}),  # the fewest points
]


@pytest.mark.parametrize(("args", "kw"), _CLAIMED)
def test_claimed_inputs_are_computed_here(
    args: tuple[Any, ...], kw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from numderiv.compat.numpy import _computed_here

    want = _REAL_GRADIENT(*args, **kw)
    assert _computed_here(args[0], args[1:], kw.get("axis"), kw.get("edge_order", 1))
    calls = _forbid_numpy(monkeypatch)
    got = gradient(*args, **kw)
    assert not calls
    nonuniform = any(np.ndim(a) == 1 and np.ptp(np.diff(a)) > 0 for a in args[1:])
    _same(got, want, exact=not nonuniform)


@settings(max_examples=60, deadline=None)
@given(_cases())
def test_randomised_inputs_never_reach_numpy(
    case: tuple[Any, tuple[Any, ...], Any, int],
) -> None:
    f, spacing, axis, edge = case
    want = _REAL_GRADIENT(f, *spacing, axis=axis, edge_order=edge)
    with pytest.MonkeyPatch.context() as mp:
        calls = _forbid_numpy(mp)
        got = gradient(f, *spacing, axis=axis, edge_order=edge)
    assert not calls
    nonuniform = any(np.ndim(s) == 1 and np.ptp(np.diff(s)) > 0 for s in spacing)
    _same(got, want, exact=not nonuniform)


@pytest.mark.parametrize(("args", "kw"), _ODD)
def test_odd_inputs_computed_exactly_where_claimed(
    args: tuple[Any, ...], kw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from numderiv.compat.numpy import _computed_here

    claimed = _computed_here(args[0], args[1:], kw.get("axis"), kw.get("edge_order", 1))
    calls = _forbid_numpy(monkeypatch)
    if claimed:
        gradient(*args, **kw)  # no call of numpy.gradient, no error
        assert not calls
    else:
        with pytest.raises(_NumPyCalled):
            gradient(*args, **kw)
        assert len(calls) == 1
