"""nd.grid on xarray DataArrays: named dimensions, coordinates, attributes.

Oracles: xarray's own ``DataArray.differentiate`` (accuracy 2, first
derivative: it calls numpy.gradient), exact derivatives of polynomials and
of sin, and the NumPy path of numderiv on the same values.
"""

from __future__ import annotations

import numpy as np
import pytest

xr = pytest.importorskip("xarray")

import numderiv as nd  # noqa: E402

RNG = np.random.default_rng(12)
EPS = np.finfo(float).eps


X_NONUNIFORM = np.cumsum(RNG.uniform(0.05, 0.15, 23))


def field(uniform=True, chunks=None):
    # exactly uniform coordinates (binary fractions), or non-uniform ones
    x = np.arange(23) * 0.125 if uniform else X_NONUNIFORM
    t = np.arange(7.0) * 0.5
    data = np.sin(3 * x)[:, None] * np.cos(t)[None, :] + x[:, None] ** 3
    a = xr.DataArray(
        data,
        dims=("x", "t"),
        coords={"x": x, "t": t, "label": ("t", list("abcdefg"))},
        attrs={"units": "K", "long_name": "temperature"},
        name="T",
    )
    return a if chunks is None else a.chunk(chunks)


@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("d", ["x", "t"])
def test_gradient_agrees_with_differentiate(uniform, edge_order, d):
    a = field(uniform)
    got = nd.grid.gradient(a, dim=d, edge_order=edge_order)
    ref = a.differentiate(d, edge_order=edge_order)
    scale = float(np.max(np.abs(ref.values)))
    np.testing.assert_allclose(got.values, ref.values, rtol=0, atol=16 * EPS * scale)
    assert got.dims == ref.dims
    xr.testing.assert_identical(got.coords.to_dataset(), ref.coords.to_dataset())
    if uniform:  # numpy.gradient's formulas, bit for bit
        np.testing.assert_array_equal(got.values, ref.values)


def test_derivative_default_is_differentiate_edge_order_2():
    a = field(uniform=False)
    got = nd.grid.derivative(a, dim="x")
    ref = a.differentiate("x", edge_order=2)
    scale = float(np.max(np.abs(ref.values)))
    np.testing.assert_allclose(got.values, ref.values, rtol=0, atol=16 * EPS * scale)


@pytest.mark.parametrize("uniform", [True, False])
def test_beyond_differentiate_exact_polynomials(uniform):
    # accuracy p, n-th derivative: exact for degree n + p - 1, ends included
    a = field(uniform)
    x = a["x"].values[:, None]
    poly = a.copy(data=x**5 - 2 * x**3 + np.zeros((1, 7)))
    d1 = nd.grid.derivative(poly, dim="x", accuracy=6)
    d3 = nd.grid.derivative(poly, dim="x", n=3, accuracy=4)
    np.testing.assert_allclose(
        d1.values, 5 * x**4 - 6 * x**2 + 0 * d1.values, atol=1e-9
    )
    np.testing.assert_allclose(d3.values, 60 * x**2 - 12 + 0 * d3.values, atol=1e-5)


def test_periodic_by_the_coordinate():
    # linspace is uniform up to rounding only: the period is n times the mean
    # spacing, the coordinates used as they are
    n = 32
    x = np.linspace(0, 2 * np.pi, n, endpoint=False)
    assert not (np.diff(x) == np.diff(x)[0]).all()
    a = xr.DataArray(np.sin(x), dims="x", coords={"x": x})
    d = nd.grid.derivative(a, dim="x", accuracy=8, boundary="periodic")
    period = n * (x[-1] - x[0]) / (n - 1)
    ref = nd.grid.derivative(
        np.sin(x), np.append(x, x[0] + period), accuracy=8, boundary="periodic"
    )
    np.testing.assert_array_equal(d.values, ref)
    assert float(np.max(np.abs(d.values - np.cos(x)))) < 1e-7
    assert "periodic boundaries" in d.attrs["numderiv"]


def test_periodic_non_uniform_needs_the_period():
    x = np.cumsum(RNG.uniform(0.1, 0.3, 20))
    a = xr.DataArray(np.cos(x), dims="x", coords={"x": x})
    with pytest.raises(ValueError, match=r"coordinate 'x' is not uniform.*21"):
        nd.grid.derivative(a, dim="x", boundary="periodic")
    xp = np.append(x, x[0] + 5.0)
    d = nd.grid.derivative(a, xp, dim="x", boundary="periodic")
    ref = nd.grid.derivative(np.cos(x), xp, boundary="periodic")
    np.testing.assert_array_equal(d.values, ref)


def test_coordinates_attributes_name_kept_and_operation_named():
    a = field()
    d = nd.grid.derivative(a, dim="x", n=2, accuracy=4)
    assert d.name == "T"
    assert d.dims == a.dims
    xr.testing.assert_identical(d.coords.to_dataset(), a.coords.to_dataset())
    assert d.attrs["units"] == "K"  # left alone
    assert d.attrs["long_name"] == "temperature"
    assert d.attrs["numderiv"] == (
        "derivative n=2 along 'x', accuracy 4, one-sided boundaries"
    )
    assert "numderiv" not in a.attrs  # the input is not touched
    dd = nd.grid.derivative(d, dim="t")
    assert dd.attrs["numderiv"].endswith(
        "; then derivative n=1 along 't', accuracy 2, one-sided boundaries"
    )


def test_gradient_several_dims_and_axis():
    a = field(uniform=False)
    gx, gt = nd.grid.gradient(a, accuracy=4)
    ref = nd.grid.gradient(a.values, a["x"].values, a["t"].values, accuracy=4)
    np.testing.assert_array_equal(gx.values, ref[0])
    np.testing.assert_array_equal(gt.values, ref[1])
    assert gx.attrs["numderiv"] == "gradient along 'x', accuracy 4"
    assert gt.attrs["numderiv"] == "gradient along 't', accuracy 4"
    (only_t,) = (nd.grid.gradient(a, dim=["t"], accuracy=4),)
    np.testing.assert_array_equal(only_t.values, gt.values)
    by_axis = nd.grid.gradient(a, axis=1, accuracy=4)
    np.testing.assert_array_equal(by_axis.values, gt.values)
    # an explicit spacing replaces the coordinate
    g2 = nd.grid.gradient(a, 2.0, dim="t")
    np.testing.assert_array_equal(g2.values, np.gradient(a.values, 2.0, axis=1))


def test_dimension_without_coordinate_has_unit_spacing():
    a = xr.DataArray(np.arange(10.0) ** 2, dims="i")
    np.testing.assert_allclose(
        nd.grid.derivative(a, n=2, accuracy=4).values, np.full(10, 2.0), rtol=1e-12
    )


def test_laplacian_all_and_some_dims():
    a = field(uniform=False)
    lap = nd.grid.laplacian(a, accuracy=4)
    ref = nd.grid.laplacian(a.values, a["x"].values, a["t"].values, accuracy=4)
    np.testing.assert_array_equal(lap.values, ref)
    assert lap.attrs["numderiv"] == (
        "laplacian over ('x', 't'), accuracy 4, one-sided boundaries"
    )
    lx = nd.grid.laplacian(a, dim="x", accuracy=4)
    d2 = nd.grid.derivative(a.values, a["x"].values, n=2, axis=0, accuracy=4)
    np.testing.assert_array_equal(lx.values, d2)
    # the sum over some dims equals the N-D Laplacian when they are all of them
    both = nd.grid.laplacian(a, dim=("t", "x"), accuracy=4)
    np.testing.assert_allclose(both.values, ref, rtol=0, atol=1e-12)


def test_dask_backed_stays_lazy_and_equal():
    da = pytest.importorskip("dask.array")
    eager = field(uniform=False)
    lazy = field(uniform=False, chunks={"x": 6, "t": 2})
    for fn in (
        lambda a: nd.grid.derivative(a, dim="x", n=2, accuracy=4),
        lambda a: nd.grid.gradient(a, dim="t"),
        lambda a: nd.grid.laplacian(a, boundary="one-sided"),
        lambda a: nd.grid.laplacian(a, dim="x"),
    ):
        got = fn(lazy)
        assert isinstance(got.data, da.Array)
        ref = fn(eager)
        np.testing.assert_array_equal(got.compute(scheduler="sync").values, ref.values)
        assert got.attrs == ref.attrs


def test_errors_name_the_argument():
    a = field()
    with pytest.raises(
        ValueError, match=r"dim='y' is not a dimension of y.*\('x', 't'\)"
    ):
        nd.grid.derivative(a, dim="y")
    with pytest.raises(TypeError, match="give dim or axis, not both"):
        nd.grid.derivative(a, dim="x", axis=0)
    with pytest.raises(TypeError, match="give dim or axis, not both"):
        nd.grid.gradient(a, dim="x", axis=0)
    with pytest.raises(ValueError, match="names a dimension more than once"):
        nd.grid.gradient(a, dim=("x", "x"))
    with pytest.raises(ValueError, match="accuracy must be a positive even integer"):
        nd.grid.derivative(a, dim="x", accuracy=5)
    with pytest.raises(ValueError, match="boundary must be"):
        nd.grid.laplacian(a, boundary="none")
    times = np.arange("2026-01-01", "2026-01-06", dtype="datetime64[D]")
    b = xr.DataArray(np.arange(5.0), dims="time", coords={"time": times})
    with pytest.raises(TypeError, match=r"coordinate 'time' has dtype datetime64"):
        nd.grid.derivative(b, dim="time")
    # an explicit numeric spacing works where the coordinate is not numeric
    np.testing.assert_allclose(
        nd.grid.derivative(b, 86400.0, dim="time").values,
        np.full(5, 1 / 86400),
        rtol=1e-14,
    )


def test_periodic_integer_coordinate_not_uniform():
    a = xr.DataArray(np.ones(6), dims="k", coords={"k": [0, 1, 3, 4, 6, 7]})
    with pytest.raises(ValueError, match=r"coordinate 'k' is not uniform.*7"):
        nd.grid.laplacian(a, boundary="periodic")
    b = xr.DataArray(np.arange(6.0), dims="k", coords={"k": np.arange(6) * 2})
    got = nd.grid.derivative(b, dim="k", boundary="periodic")
    np.testing.assert_array_equal(
        got.values, nd.grid.derivative(np.arange(6.0), 2, boundary="periodic")
    )


def test_vector_operators_refused_not_silently_unlabelled():
    F = xr.DataArray(np.ones((2, 5, 5)), dims=("c", "x", "y"))
    for fn in (nd.grid.divergence, nd.grid.curl):
        with pytest.raises(TypeError, match=r"of an xarray DataArray is not supported"):
            fn(F)
    np.testing.assert_array_equal(nd.grid.divergence(F.data), np.zeros((5, 5)))
