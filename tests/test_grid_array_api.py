"""``numderiv.grid`` on array-API arrays: array-api-strict always, PyTorch when installed.

Every result is compared with the NumPy path on the same data (itself
tested against ``numpy.gradient``, exact polynomials and convergence in
``test_grid_*.py``) to the last few ulps, and with ``numpy.gradient`` itself
where the formulas are NumPy's; the result must be an array of the input's
library, on the input's device, with NumPy's dtype rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import numderiv as nd
from numderiv._arrays import foreign_namespace, host_array

array_api_strict = pytest.importorskip("array_api_strict")
compat = pytest.importorskip("array_api_compat")

LIBS = ["array_api_strict", "torch"]


class Lib:
    """How a test builds and reads arrays of one library."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mod = pytest.importorskip(name)

    def asarray(self, a: Any, device: Any = None) -> Any:
        a = np.asarray(a)
        if self.name == "torch":
            return self.mod.asarray(a.copy())
        return self.mod.asarray(a, device=device)

    def to_numpy(self, u: Any) -> np.ndarray:
        if self.name == "torch":
            return u.numpy()
        return np.from_dlpack(u)

    def dtype_name(self, u: Any) -> str:
        return str(u.dtype).rsplit(".", 1)[-1]


@pytest.fixture(params=LIBS)
def lib(request: pytest.FixtureRequest) -> Lib:
    return Lib(request.param)


def check(lib: Lib, got: Any, ref: np.ndarray, like: Any, ulps: float = 4) -> None:
    """`got` is `ref` to a few ulps (of the array's scale), of `like`'s kind."""
    assert type(got) is type(like)
    assert compat.device(got) == compat.device(like)
    assert lib.dtype_name(got) == ref.dtype.name
    g = lib.to_numpy(got)
    assert g.shape == ref.shape
    eps = np.finfo(ref.dtype).eps
    scale = np.max(np.abs(ref)) if ref.size else 0.0
    np.testing.assert_allclose(g, ref, rtol=ulps * eps, atol=ulps * eps * scale)


def check_all(lib: Lib, got: Any, ref: Any, like: Any) -> None:
    if isinstance(ref, tuple):
        assert isinstance(got, tuple) and len(got) == len(ref)
        for g, r in zip(got, ref, strict=True):
            check(lib, g, r, like)
    else:
        check(lib, got, ref, like)


def field(shape: tuple[int, ...], dtype: Any = np.float64, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def coords(npts: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.uniform(0.5, 1.5, npts))


# ---------------------------------------------------------------------------
# gradient
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("spacing", ["none", "scalar", "per-axis", "coords"])
def test_gradient_matches_numpy_path(
    lib: Lib, accuracy: int, edge_order: int, spacing: str
) -> None:
    a = field((9, 11))
    args: tuple[Any, ...] = {
        "none": (),
        "scalar": (0.3,),
        "per-axis": (0.5, 2.0),
        "coords": (0.5, coords(11)),
    }[spacing]
    y = lib.asarray(a)
    got = nd.grid.gradient(y, *args, accuracy=accuracy, edge_order=edge_order)
    ref = nd.grid.gradient(a, *args, accuracy=accuracy, edge_order=edge_order)
    check_all(lib, got, ref, y)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_equals_numpy_gradient(lib: Lib, edge_order: int) -> None:
    # numpy.gradient's own numbers: uniform and non-uniform, both edge orders
    a = field((6, 8))
    x = coords(8)
    got = nd.grid.gradient(lib.asarray(a), 0.25, x, edge_order=edge_order)
    ref = np.gradient(a, 0.25, x, edge_order=edge_order)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(lib.to_numpy(g), r, rtol=4e-16, atol=1e-15)


@pytest.mark.parametrize("axis", [0, 1, -1, (1, 0), (2,)])
def test_gradient_axes(lib: Lib, axis: Any) -> None:
    a = field((5, 6, 7))
    y = lib.asarray(a)
    check_all(lib, nd.grid.gradient(y, axis=axis), nd.grid.gradient(a, axis=axis), y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_gradient_dtypes_kept(lib: Lib, dtype: Any) -> None:
    a = field((7, 8), dtype)
    y = lib.asarray(a)
    # a float64 spacing and float64 coordinates: NumPy computes the float32
    # boundaries in float64 and rounds; the array path must do the same
    for args in [(), (np.float64(0.1),), (0.5, coords(8))]:
        got = nd.grid.gradient(y, *args, accuracy=4)
        ref = nd.grid.gradient(a, *args, accuracy=4)
        check_all(lib, got, ref, y)


def test_gradient_integers_become_float64(lib: Lib) -> None:
    a = np.arange(24, dtype=np.int32).reshape(4, 6) ** 2
    y = lib.asarray(a)
    got = nd.grid.gradient(y, 2.0, axis=1)
    ref = np.gradient(a, 2.0, axis=1)
    assert ref.dtype == np.float64
    check(lib, got, ref, y)


def test_gradient_coordinates_of_the_library(lib: Lib) -> None:
    # coordinates are small and 1-D: they may be the data's kind, or NumPy
    a = field((6, 9))
    x = coords(9)
    y = lib.asarray(a)
    ref = nd.grid.gradient(a, 0.5, x, accuracy=4)
    check_all(lib, nd.grid.gradient(y, 0.5, lib.asarray(x), accuracy=4), ref, y)
    check_all(lib, nd.grid.gradient(y, lib.asarray(0.5), x, accuracy=4), ref, y)


def test_numpy_data_with_coordinates_of_another_library(lib: Lib) -> None:
    a = field((5, 9))
    x = coords(9)
    got = nd.grid.derivative(a, lib.asarray(x), n=2, accuracy=4)
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, nd.grid.derivative(a, x, n=2, accuracy=4))


# ---------------------------------------------------------------------------
# derivative
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("boundary", ["one-sided", "periodic"])
@pytest.mark.parametrize("uniform", [True, False])
def test_derivative_matches_numpy_path(
    lib: Lib, n: int, accuracy: int, boundary: str, uniform: bool
) -> None:
    a = field((4, 23))
    if uniform:
        x: Any = 0.2
    elif boundary == "periodic":
        x = coords(24)  # the last coordinate closes the period
    else:
        x = coords(23)
    y = lib.asarray(a)
    kw = {"n": n, "accuracy": accuracy, "boundary": boundary}
    check(lib, nd.grid.derivative(y, x, **kw), nd.grid.derivative(a, x, **kw), y)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_derivative_axis_and_dtype(lib: Lib, axis: int, dtype: Any) -> None:
    a = field((13, 12, 11), dtype)
    y = lib.asarray(a)
    x = coords(a.shape[axis])
    for spacing in (0.1, x):
        kw = {"n": 2, "axis": axis, "accuracy": 4}
        ref = nd.grid.derivative(a, spacing, **kw)
        check(lib, nd.grid.derivative(y, spacing, **kw), ref, y)


def test_derivative_exact_on_a_cubic(lib: Lib) -> None:
    # an oracle independent of the NumPy path: d2/dx2 x**3 = 6 x
    x = np.linspace(0.0, 2.0, 17)
    got = lib.to_numpy(nd.grid.derivative(lib.asarray(x**3), x[1], n=2, accuracy=2))
    np.testing.assert_allclose(got, 6 * x, rtol=0, atol=1e-11)


def test_derivative_axis_too_short_is_refused(lib: Lib) -> None:
    with pytest.raises(ValueError, match="needs at least"):
        nd.grid.derivative(lib.asarray(np.ones(3)), n=2, accuracy=4)
    with pytest.raises(ValueError, match="x has 4 coordinates"):
        nd.grid.derivative(lib.asarray(np.ones(5)), lib.asarray(np.arange(4.0)))


def test_boolean_data_is_refused(lib: Lib) -> None:
    y = lib.asarray(np.array([True, False, True, True]))
    with pytest.raises(TypeError, match="y has boolean dtype"):
        nd.grid.gradient(y)
    with pytest.raises(TypeError, match="y has boolean dtype"):
        nd.grid.derivative(y)


# ---------------------------------------------------------------------------
# laplacian, divergence, curl
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("accuracy", [2, 4])
@pytest.mark.parametrize("boundary", ["one-sided", "periodic"])
def test_operators_match_numpy_path(lib: Lib, accuracy: int, boundary: str) -> None:
    kw = {"accuracy": accuracy, "boundary": boundary}
    u = field((11, 12, 13))
    y = lib.asarray(u)
    sp = (0.5, 1.0, 0.25)
    check(lib, nd.grid.laplacian(y, *sp, **kw), nd.grid.laplacian(u, *sp, **kw), y)
    F3 = field((3, 11, 12, 13), seed=3)
    f3 = lib.asarray(F3)
    check(lib, nd.grid.divergence(f3, *sp, **kw), nd.grid.divergence(F3, *sp, **kw), f3)
    check(lib, nd.grid.curl(f3, *sp, **kw), nd.grid.curl(F3, *sp, **kw), f3)
    F2 = field((2, 11, 12), seed=4)
    f2 = lib.asarray(F2)
    check(lib, nd.grid.curl(f2, 0.5, **kw), nd.grid.curl(F2, 0.5, **kw), f2)


def test_operators_on_non_uniform_coordinates(lib: Lib) -> None:
    u = field((10, 12), np.float32)
    x0, x1 = coords(10), coords(12, seed=2)
    y = lib.asarray(u)
    check(lib, nd.grid.laplacian(y, x0, x1), nd.grid.laplacian(u, x0, x1), y)
    F = field((2, 10, 12), np.float32)
    f = lib.asarray(F)
    check(lib, nd.grid.divergence(f, x0, x1), nd.grid.divergence(F, x0, x1), f)
    check(lib, nd.grid.curl(f, x0, x1), nd.grid.curl(F, x0, x1), f)


def test_operators_shape_errors_name_the_field(lib: Lib) -> None:
    with pytest.raises(ValueError, match=r"F must have shape .* got shape \(3, 4, 5\)"):
        nd.grid.divergence(lib.asarray(np.ones((3, 4, 5))))


def test_empty_axis_gives_an_empty_result(lib: Lib) -> None:
    a = np.ones((0, 5))
    y = lib.asarray(a)
    check(lib, nd.grid.derivative(y, axis=1), nd.grid.derivative(a, axis=1), y)


# ---------------------------------------------------------------------------
# smooth_derivative
# ---------------------------------------------------------------------------


def _noisy(dtype: Any, shape: tuple[int, ...] = (3, 120)) -> np.ndarray:
    t = np.linspace(0, 6, shape[-1])
    rng = np.random.default_rng(7)
    a = np.sin(t) * np.arange(1, shape[0] + 1)[:, None]
    a = a + 0.01 * rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * a[::-1]
    return a.astype(dtype)


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("window", [None, 7, 119])
def test_savgol_matches_numpy_path(lib: Lib, n: int, dtype: Any, window: Any) -> None:
    from scipy.signal import savgol_coeffs

    a = _noisy(dtype)
    h = 0.05
    y = lib.asarray(a.T)
    kw = {"n": n, "axis": 0, "window": window}
    got = nd.grid.smooth_derivative(y, h, **kw)
    ref = nd.grid.smooth_derivative(a.T, h, **kw)
    # the same linear filter summed in another order (SciPy rounds float32
    # edges through float32 polynomial fits): within the filter's rounding
    # gain, sum |c| max |y| eps / h**n
    w = window or 2 * (a.shape[1] // 20) + 1
    gain = np.abs(savgol_coeffs(w, n + 2, deriv=n, delta=h)).sum()
    tol = 64 * np.finfo(ref.dtype).eps * gain * np.max(np.abs(a))
    assert type(got) is type(y)
    assert lib.dtype_name(got) == ref.dtype.name
    np.testing.assert_allclose(lib.to_numpy(got), ref, rtol=0, atol=tol)


def test_savgol_float64_to_the_last_ulps(lib: Lib) -> None:
    a = _noisy(np.float64)
    y = lib.asarray(a)
    got = nd.grid.smooth_derivative(y, 0.05, n=1)
    check(lib, got, nd.grid.smooth_derivative(a, 0.05, n=1), y, ulps=64)


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("cutoff", [None, 0.5])
@pytest.mark.parametrize("npts", [128, 75])
def test_spectral_matches_numpy_path(
    lib: Lib, n: int, dtype: Any, cutoff: Any, npts: int
) -> None:
    t = np.linspace(0, 2 * np.pi, npts, endpoint=False)
    rng = np.random.default_rng(5)
    a = np.sin(3 * t) * np.arange(1, 4)[:, None] + 0.01 * rng.standard_normal((3, npts))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * a[::-1]
    a = a.astype(dtype)
    h = t[1]
    y = lib.asarray(a.T)
    kw = {"n": n, "axis": 0, "method": "spectral", "cutoff": cutoff}
    got = nd.grid.smooth_derivative(y, h, **kw)
    ref = nd.grid.smooth_derivative(a.T, h, **kw)
    # NumPy's dtypes (complex128 multipliers: float64 or complex128 out); the
    # FFTs of two libraries differ by about eps log2(N) of the data, and the
    # derivative amplifies mode k by k**n (k up to the cut-off)
    assert type(got) is type(y)
    assert lib.dtype_name(got) == ref.dtype.name
    kmax = (cutoff or 1.0) * np.pi / h
    eps = np.finfo(a.dtype).eps
    tol = 16 * eps * np.log2(npts) * np.max(np.abs(a)) * kmax**n
    np.testing.assert_allclose(lib.to_numpy(got), ref, rtol=0, atol=tol)


def test_spectral_on_strict_is_bit_for_bit() -> None:
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    a = np.cos(2 * t) + 0.01 * np.random.default_rng(2).standard_normal(64)
    got = nd.grid.smooth_derivative(
        array_api_strict.asarray(a), t[1], method="spectral"
    )
    ref = nd.grid.smooth_derivative(a, t[1], method="spectral")
    np.testing.assert_array_equal(np.from_dlpack(got), ref)
    np.testing.assert_allclose(ref, -2 * np.sin(2 * t), atol=0.02)


def test_spline_is_refused(lib: Lib) -> None:
    y = lib.asarray(_noisy(np.float64))
    with pytest.raises(TypeError, match=r"method='spline'\) needs NumPy arrays"):
        nd.grid.smooth_derivative(y, 0.05, method="spline")


def test_turning_points_refuses_other_arrays(lib: Lib) -> None:
    y = lib.asarray(np.array([0.0, 1.0, 0.0]))
    with pytest.raises(TypeError, match="turning_points needs NumPy arrays"):
        nd.grid.turning_points(y)


# ---------------------------------------------------------------------------
# Devices: array-api-strict's virtual devices catch arrays left on another one
# ---------------------------------------------------------------------------


def test_result_on_the_device_of_the_data() -> None:
    dev = array_api_strict.Device("device1")
    lib = Lib("array_api_strict")
    a = field((9, 10))
    x = coords(10)
    y = lib.asarray(a, device=dev)
    assert compat.device(y) == dev
    check_all(
        lib,
        nd.grid.gradient(y, 0.5, x, accuracy=4),
        nd.grid.gradient(a, 0.5, x, accuracy=4),
        y,
    )
    kw = {"n": 2, "accuracy": 4, "boundary": "periodic"}
    check(lib, nd.grid.derivative(y, 0.1, **kw), nd.grid.derivative(a, 0.1, **kw), y)
    check(lib, nd.grid.laplacian(y, x[:9], x), nd.grid.laplacian(a, x[:9], x), y)
    got = nd.grid.smooth_derivative(y, 0.1, window=5)
    assert compat.device(got) == dev
    np.testing.assert_allclose(
        np.from_dlpack(got), nd.grid.smooth_derivative(a, 0.1, window=5), atol=1e-12
    )


# ---------------------------------------------------------------------------
# PyTorch specifics
# ---------------------------------------------------------------------------


def test_torch_float16_kept() -> None:
    torch = pytest.importorskip("torch")
    a = field((6, 40), np.float16)
    got = nd.grid.derivative(torch.asarray(a), 0.25, accuracy=4)
    ref = nd.grid.derivative(a, 0.25, accuracy=4)
    assert got.dtype == torch.float16
    # PyTorch rounds a Python scalar to float32, not float16, before a
    # float16 product: a few float16 ulps of the scale
    scale = float(np.max(np.abs(ref)))
    np.testing.assert_allclose(got.numpy(), ref, rtol=0, atol=8e-3 * scale)


def test_torch_autograd_flows_through() -> None:
    # only slices, products and sums of the tensor: autograd sees a linear map
    torch = pytest.importorskip("torch")
    x = torch.linspace(0, 1, 21, dtype=torch.float64, requires_grad=True)
    d = nd.grid.derivative(x**2, 0.05, accuracy=2)  # = 2 x, exactly
    d.sum().backward()
    # d(sum 2x)/dx = 2 everywhere: check against the exact transpose of the
    # stencil matrix applied to the derivative of x**2
    eye = np.eye(21)
    mat = nd.grid.derivative(eye, 0.05, axis=0)
    want = mat.sum(axis=0) * 2 * x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12, atol=1e-9)


# ---------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------


def test_numpy_and_array_likes_take_the_numpy_path() -> None:
    for y in (np.ones(3), [1.0, 2.0], (1, 2), 1.0, np.float64(1.0), np.ma.ones(3)):
        assert foreign_namespace(y) is None
    assert host_array(np.ones(2), "x") is not None
    assert type(nd.grid.gradient([1.0, 4.0, 9.0])) is np.ndarray


def test_objects_without_a_namespace_are_not_arrays() -> None:
    class Fake:
        def __array_namespace__(self, api_version: Any = None) -> Any:
            raise TypeError("no namespace here")

    with pytest.raises(TypeError, match=r"y is a .*Fake, which is neither"):
        nd.grid.gradient(Fake())


# ---------------------------------------------------------------------------
# Bit for bit: array-api-strict computes with NumPy underneath, so the same
# operations in the same order at the same precision give the same bits
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize(
    "spacing", [(), (np.float64(0.1),), (np.float32(0.5), 2.0), (0.5, "coords")]
)
@pytest.mark.parametrize("accuracy", [2, 6])
def test_strict_equals_the_numpy_path_bit_for_bit(
    dtype: Any, spacing: tuple[Any, ...], accuracy: int
) -> None:
    a = field((8, 14), dtype)
    sp = tuple(coords(14).astype(np.float32) if s == "coords" else s for s in spacing)
    y = array_api_strict.asarray(a)
    for got, ref in zip(
        nd.grid.gradient(y, *sp, accuracy=accuracy),
        nd.grid.gradient(a, *sp, accuracy=accuracy),
        strict=True,
    ):
        assert np.from_dlpack(got).dtype == ref.dtype
        np.testing.assert_array_equal(np.from_dlpack(got), ref)
    kw = {"n": 2, "accuracy": accuracy}
    got = nd.grid.derivative(y, sp[-1] if sp else None, axis=-1 if sp else 0, **kw)
    ref = nd.grid.derivative(a, sp[-1] if sp else None, axis=-1 if sp else 0, **kw)
    np.testing.assert_array_equal(np.from_dlpack(got), ref)


def test_non_contiguous_input(lib: Lib) -> None:
    a = field((12, 10))
    y = lib.asarray(a)
    yt = y.T if lib.name == "torch" else array_api_strict.permute_dims(y, (1, 0))
    kw = {"n": 2, "accuracy": 4, "axis": 0}
    check(lib, nd.grid.derivative(yt, 0.3, **kw), nd.grid.derivative(a.T, 0.3, **kw), y)
