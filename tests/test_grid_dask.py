"""nd.grid on Dask arrays: lazy, and equal to the in-memory result bit for bit.

The oracle is the in-memory NumPy path of the same function on the same data
(itself tested against exact derivatives and numpy.gradient in
test_grid_gradient.py / test_grid_derivative.py); chunkings include uneven
ones and chunks narrower than the stencils' reach, which are merged.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import numderiv as nd  # noqa: E402
from numderiv.grid._dask import merged_chunks  # noqa: E402

RNG = np.random.default_rng(20261201)
Y2 = RNG.standard_normal((29, 41))
X41 = np.cumsum(RNG.uniform(0.5, 1.5, 41))  # non-uniform coordinates
X42 = np.cumsum(RNG.uniform(0.5, 1.5, 42))  # periodic: one more (the period)

CHUNKINGS = [
    (29, 41),  # one chunk
    (10, 11),  # even
    (29, (1, 2, 3, 25, 7, 3)),  # uneven, some narrower than any halo
    ((20, 9), (40, 1)),  # a last chunk of one sample
    (7, 3),  # everywhere narrow
]


def compute(a):
    assert isinstance(a, da.Array)
    return a.compute(scheduler="sync")


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize(
    ("boundary", "x"),
    [
        ("one-sided", 0.3),
        ("one-sided", X41),
        ("periodic", 0.3),
        ("periodic", X42),
    ],
    ids=["uniform", "nonuniform", "periodic", "periodic-nonuniform"],
)
def test_derivative_equals_in_memory(chunks, accuracy, n, boundary, x):
    yd = da.from_array(Y2, chunks=chunks)
    got = nd.grid.derivative(yd, x, n=n, accuracy=accuracy, boundary=boundary)
    ref = nd.grid.derivative(Y2, x, n=n, accuracy=accuracy, boundary=boundary)
    np.testing.assert_array_equal(compute(got), ref)


@pytest.mark.parametrize("chunks", CHUNKINGS[1:4])
@pytest.mark.parametrize("boundary", ["one-sided", "periodic"])
def test_derivative_along_axis_0(chunks, boundary):
    yd = da.from_array(Y2, chunks=chunks)
    got = nd.grid.derivative(yd, 0.5, n=3, axis=0, accuracy=4, boundary=boundary)
    ref = nd.grid.derivative(Y2, 0.5, n=3, axis=0, accuracy=4, boundary=boundary)
    np.testing.assert_array_equal(compute(got), ref)


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize(("accuracy", "edge_order"), [(2, 1), (2, 2), (4, 1), (8, 1)])
def test_gradient_equals_in_memory(chunks, accuracy, edge_order):
    yd = da.from_array(Y2, chunks=chunks)
    got = nd.grid.gradient(yd, 0.25, X41, edge_order=edge_order, accuracy=accuracy)
    ref = nd.grid.gradient(Y2, 0.25, X41, edge_order=edge_order, accuracy=accuracy)
    assert isinstance(got, tuple) and len(got) == 2
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_array_equal(compute(g), r)


def test_gradient_equals_numpy_gradient():
    # NumPy's own gradient is the oracle of the defaults, ends included
    yd = da.from_array(Y2, chunks=(5, (13, 1, 27)))
    for edge_order in (1, 2):
        got = nd.grid.gradient(yd, X41, axis=1, edge_order=edge_order)
        ref = np.gradient(Y2, X41, axis=1, edge_order=edge_order)
        np.testing.assert_allclose(compute(got), ref, rtol=0, atol=1e-14)


@pytest.mark.parametrize("boundary", ["one-sided", "periodic"])
@pytest.mark.parametrize("accuracy", [2, 4])
def test_laplacian_3d_equals_in_memory(boundary, accuracy):
    y = RNG.standard_normal((12, 15, 10))
    yd = da.from_array(y, chunks=(5, (7, 8), 3))
    spacing = (0.5, 0.25, 2.0)
    got = nd.grid.laplacian(yd, *spacing, accuracy=accuracy, boundary=boundary)
    ref = nd.grid.laplacian(y, *spacing, accuracy=accuracy, boundary=boundary)
    np.testing.assert_array_equal(compute(got), ref)


def test_exact_on_polynomials_at_the_ends():
    # the one-sided stencils at the array's true ends: x**5 is differentiated
    # exactly by accuracy 6 (n + p - 1 = 6 >= 5), ends included
    x = np.linspace(-1.0, 2.0, 61)
    yd = da.from_array(x**5, chunks=7)
    d1 = compute(nd.grid.derivative(yd, x, accuracy=6))
    d2 = compute(nd.grid.derivative(yd, x, n=2, accuracy=6))
    np.testing.assert_allclose(d1, 5 * x**4, rtol=0, atol=1e-10)
    np.testing.assert_allclose(d2, 20 * x**3, rtol=0, atol=1e-8)


@settings(max_examples=20, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 46), max_size=6, unique=True),
    accuracy=st.sampled_from([2, 4, 6, 10]),
    n=st.integers(1, 3),
    periodic=st.booleans(),
    uniform=st.booleans(),
)
def test_random_chunkings(cuts, accuracy, n, periodic, uniform):
    npts = 47
    bounds = [0, *sorted(cuts), npts]
    chunks = tuple(b - a for a, b in itertools.pairwise(bounds))
    y = RNG.standard_normal(npts)
    x = np.cumsum(RNG.uniform(0.5, 1.5, npts + periodic))
    spacing = 0.7 if uniform else x
    boundary = "periodic" if periodic else "one-sided"
    yd = da.from_array(y, chunks=(chunks,))
    got = nd.grid.derivative(yd, spacing, n=n, accuracy=accuracy, boundary=boundary)
    ref = nd.grid.derivative(y, spacing, n=n, accuracy=accuracy, boundary=boundary)
    np.testing.assert_array_equal(compute(got), ref)


# ---------------------------------------------------------------------------
# Lazy, dtypes, chunks
# ---------------------------------------------------------------------------


def test_lazy_nothing_computed_until_asked():
    calls = []

    def source(block):
        calls.append(block.shape)
        return block

    yd = da.from_array(Y2, chunks=(10, 10)).map_blocks(source, meta=Y2[:0, :0])
    calls.clear()
    results = [
        nd.grid.derivative(yd, 0.1, n=2, accuracy=4),
        *nd.grid.gradient(yd),
        nd.grid.laplacian(yd, boundary="periodic"),
    ]
    assert calls == []
    assert all(isinstance(r, da.Array) for r in results)
    compute(results[0])
    assert calls


@pytest.mark.parametrize(
    ("dtype", "out"),
    [
        (np.int32, np.float64),
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.complex128, np.complex128),
    ],
)
def test_dtypes_as_in_memory(dtype, out):
    y = (RNG.standard_normal(30) * 50).astype(dtype)
    yd = da.from_array(y, chunks=7)
    got = nd.grid.derivative(yd, accuracy=4)
    assert got.dtype == out
    np.testing.assert_array_equal(compute(got), nd.grid.derivative(y, accuracy=4))


def test_narrow_chunks_are_merged_and_said_so_by_the_chunks():
    yd = da.from_array(np.arange(40.0) ** 2, chunks=1)
    d = nd.grid.derivative(yd, accuracy=6)  # half-width 3, one-sided reach 7
    assert min(d.chunks[0]) >= 3
    assert d.chunks[0][0] >= 4 and d.chunks[0][-1] >= 4
    assert sum(d.chunks[0]) == 40
    np.testing.assert_allclose(compute(d), 2 * np.arange(40.0), atol=1e-10)
    # chunks that are wide enough are kept as they are
    yd = da.from_array(np.arange(40.0), chunks=10)
    assert nd.grid.derivative(yd, accuracy=6).chunks == yd.chunks


@pytest.mark.parametrize(
    ("chunks", "inner", "end", "expected"),
    [
        ((10, 10, 10), 3, 4, (10, 10, 10)),
        ((1, 1, 1, 1, 1, 1, 1), 2, 3, (3, 4)),
        ((5, 1, 5), 2, 2, (5, 6)),
        ((2, 10, 2), 1, 3, (14,)),
        ((0, 10, 0, 5), 2, 2, (10, 5)),
        ((2,), 5, 5, (2,)),
    ],
)
def test_merged_chunks(chunks, inner, end, expected):
    got = merged_chunks(chunks, inner, end)
    assert got == expected
    assert sum(got) == sum(chunks)


# ---------------------------------------------------------------------------
# Bad input: the in-memory path's errors, raised up front
# ---------------------------------------------------------------------------


def test_errors_up_front():
    yd = da.from_array(Y2, chunks=10)
    with pytest.raises(ValueError, match="accuracy must be a positive even integer"):
        nd.grid.derivative(yd, accuracy=3)
    with pytest.raises(ValueError, match="boundary must be"):
        nd.grid.laplacian(yd, boundary="wrap")
    with pytest.raises(ValueError, match=r"x has 5 coordinates but the axis has 41"):
        nd.grid.derivative(yd, np.arange(5.0))
    with pytest.raises(ValueError, match="needs at least"):
        nd.grid.derivative(da.ones(3, chunks=1), accuracy=4)
    with pytest.raises(TypeError, match="boolean dtype"):
        nd.grid.gradient(da.ones(5, dtype=bool, chunks=2))
    with pytest.raises(TypeError, match=r"dim='x' names dimensions of an xarray"):
        nd.grid.gradient(yd, dim="x")
    with pytest.raises(ValueError, match="edge_order must be 1 or 2, got 3"):
        nd.grid.gradient(yd, edge_order=3)


def test_numderiv_import_does_not_import_dask():
    import subprocess

    code = "import sys, numderiv; print('dask' in sys.modules, 'xarray' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_chunks_of_unknown_size_or_not_numpy_refused():
    y = da.from_array(np.arange(20.0), chunks=5)
    unknown = y[y > 3]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        nd.grid.derivative(unknown)
    masked = y.map_blocks(np.ma.masked_less, 2.0)
    with pytest.raises(TypeError, match="masked array"):
        nd.grid.gradient(masked)
    # after compute_chunk_sizes the derivative is that of the known array
    known = unknown.compute_chunk_sizes()
    np.testing.assert_array_equal(
        compute(nd.grid.derivative(known)), nd.grid.derivative(np.arange(4.0, 20.0))
    )


@pytest.mark.parametrize("boundary", ["one-sided", "periodic"])
def test_divergence_and_curl_equal_in_memory(boundary):
    F2 = RNG.standard_normal((2, 17, 13))
    F3 = RNG.standard_normal((3, 9, 11, 10))
    x13 = np.cumsum(RNG.uniform(0.5, 1.5, 13 + (boundary == "periodic")))
    for F, spacing in ((F2, (0.5, x13)), (F3, (0.5, 0.25, 2.0))):
        Fd = da.from_array(F, chunks=(1, *[4] * (F.ndim - 1)))
        for fn in (nd.grid.divergence, nd.grid.curl):
            got = fn(Fd, *spacing, accuracy=4, boundary=boundary)
            ref = fn(F, *spacing, accuracy=4, boundary=boundary)
            np.testing.assert_array_equal(compute(got), ref)
    with pytest.raises(ValueError, match=r"F must have shape \(ndim, \*grid_shape\)"):
        nd.grid.divergence(da.ones((3, 4, 4), chunks=2))
    with pytest.raises(ValueError, match="curl needs a 2-D field"):
        nd.grid.curl(da.ones((1, 4), chunks=2))


@pytest.mark.parametrize("fn", ["smooth_derivative", "turning_points"])
def test_in_memory_only_functions_refuse_dask_and_dataarrays_by_name(fn):
    import xarray as xr

    y = np.sin(np.linspace(0, 3, 40))
    f = getattr(nd.grid, fn)
    with pytest.raises(TypeError, match=f"{fn} does not take a Dask array"):
        f(da.from_array(y, chunks=10))
    with pytest.raises(TypeError, match=f"{fn} does not take an xarray DataArray"):
        f(xr.DataArray(y, dims="x"))
    # the NumPy path is unchanged
    assert np.asarray(f(y)).size > 0
