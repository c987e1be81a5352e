"""numderiv.grid.smooth_derivative and turning_points."""

from __future__ import annotations

import numpy as np
import pytest

from numderiv.grid import smooth_derivative, turning_points


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a**2)))


@pytest.mark.parametrize("method", ["savgol", "spline", "spectral"])
@pytest.mark.parametrize("seed", [0, 1])
def test_noisy_first_derivative_beats_naive_differences(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    y = np.sin(x) + 0.5 * np.cos(2 * x) + 0.02 * rng.standard_normal(x.size)
    exact = np.cos(x) - np.sin(2 * x)
    naive = _rms(np.gradient(y, x) - exact)
    smooth = _rms(smooth_derivative(y, x, method=method) - exact)
    assert smooth < 0.2 * naive, (smooth, naive)


@pytest.mark.parametrize("method", ["savgol", "spline", "spectral"])
def test_noisy_second_derivative_beats_naive_differences(method: str) -> None:
    rng = np.random.default_rng(5)
    x = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    y = np.sin(x) + 0.01 * rng.standard_normal(x.size)
    h = x[1] - x[0]
    naive = _rms(np.gradient(np.gradient(y, h), h) + np.sin(x))
    smooth = _rms(smooth_derivative(y, h, n=2, method=method) + np.sin(x))
    assert smooth < 0.2 * naive, (smooth, naive)


def test_spline_on_nonuniform_grid() -> None:
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(0, 3, 300))
    y = np.exp(-x) + 0.01 * rng.standard_normal(x.size)
    exact = -np.exp(-x)
    naive = _rms(np.gradient(y, x) - exact)
    smooth = _rms(smooth_derivative(y, x, method="spline") - exact)
    assert smooth < 0.1 * naive


def test_spectral_exact_on_trig_polynomials() -> None:
    npts = 32
    x = 2 * np.pi * np.arange(npts) / npts
    y = 1 + np.sin(3 * x) - 0.5 * np.cos(7 * x) + 0.25 * np.sin(15 * x)
    d1 = smooth_derivative(y, x, method="spectral", cutoff=1.0)
    np.testing.assert_allclose(
        d1, 3 * np.cos(3 * x) + 3.5 * np.sin(7 * x) + 3.75 * np.cos(15 * x), atol=1e-12
    )
    d2 = smooth_derivative(y, x, n=2, method="spectral")
    np.testing.assert_allclose(
        d2,
        -9 * np.sin(3 * x) + 24.5 * np.cos(7 * x) - 56.25 * np.sin(15 * x),
        atol=1e-11,
    )
    # complex data and another axis
    z = np.exp(2j * x)[:, None] * np.ones(3)
    dz = smooth_derivative(z, x, method="spectral", axis=0, cutoff=1.0)
    np.testing.assert_allclose(dz, 2j * z, atol=1e-12)


def test_spectral_cutoff_removes_high_modes() -> None:
    x = 2 * np.pi * np.arange(64) / 64
    y = np.sin(x) + np.sin(20 * x)
    d = smooth_derivative(y, x, method="spectral", cutoff=0.5)  # keeps k <= 16
    np.testing.assert_allclose(d, np.cos(x), atol=1e-12)


def test_savgol_exact_on_polynomials_and_axis() -> None:
    x = np.linspace(-1, 1, 41)
    y = 2 * x**3 - x + 1
    d = smooth_derivative(y, x, method="savgol", polyorder=3, window=9)
    np.testing.assert_allclose(d, 6 * x**2 - 1, atol=1e-10)
    Y = np.stack([y, 2 * y])
    D = smooth_derivative(Y.T, x, method="savgol", axis=0)
    np.testing.assert_allclose(D[:, 1], 2 * D[:, 0], atol=1e-12)


def test_spline_shapes_and_default_lam() -> None:
    x = np.linspace(0, 1, 50)
    Y = np.stack([np.sin(x), np.cos(x)], axis=0)
    D = smooth_derivative(Y, x, method="spline")
    assert D.shape == Y.shape
    # natural end conditions bias the ends a little; the interior is close
    np.testing.assert_allclose(D[0, 3:-3], np.cos(x[3:-3]), atol=2e-3)
    np.testing.assert_allclose(D[0], np.cos(x), atol=3e-2)


def test_smooth_bad_input() -> None:
    y = np.sin(np.linspace(0, 1, 50))
    with pytest.raises(
        ValueError, match="method must be 'savgol', 'spline' or 'spectral'"
    ):
        smooth_derivative(y, 0.1, method="lowess")
    with pytest.raises(ValueError, match="needs uniformly spaced x"):
        smooth_derivative(y, np.linspace(0, 1, 50) ** 2, method="savgol")
    with pytest.raises(ValueError, match="needs uniformly spaced x"):
        smooth_derivative(y, np.linspace(0, 1, 50) ** 2, method="spectral")
    with pytest.raises(ValueError, match="window must be odd"):
        smooth_derivative(y, 0.1, window=8)
    with pytest.raises(ValueError, match="window must be odd"):
        smooth_derivative(y, 0.1, window=51)
    with pytest.raises(ValueError, match="polyorder must be at least n=2"):
        smooth_derivative(y, 0.1, n=2, polyorder=1)
    with pytest.raises(ValueError, match=r"cutoff must be in \(0, 1\]"):
        smooth_derivative(y, 0.1, method="spectral", cutoff=1.5)
    with pytest.raises(ValueError, match="n <= 3"):
        smooth_derivative(y, 0.1, n=4, method="spline")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        smooth_derivative(y, 0.1, n=0)
    with pytest.raises(ValueError, match="strictly increasing"):
        smooth_derivative(y, np.linspace(1, 0, 50), method="spline")
    with pytest.raises(TypeError, match="numeric"):
        smooth_derivative(y > 0, 0.1)
    with pytest.raises(ValueError, match="needs at least 5 points"):
        smooth_derivative(y[:4], 0.1, method="spline")
    with pytest.raises(TypeError, match="polyorder must be an integer"):
        smooth_derivative(y, 0.1, polyorder=2.5)
    with pytest.raises(TypeError, match="window must be an integer"):
        smooth_derivative(y, 0.1, window=9.0)


@pytest.mark.parametrize("method", ["savgol", "spline", "spectral"])
@pytest.mark.parametrize("shape", [(0,), (3, 0)])
def test_smooth_empty_axis_named(method: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"y has no points along axis=-1 \(shape"):
        smooth_derivative(np.zeros(shape), method=method)


@pytest.mark.parametrize("lam", [-1, -1e-9, np.nan, np.inf])
def test_smooth_spline_bad_lam_named(lam: float) -> None:
    x = np.linspace(0, 1, 50)
    with pytest.raises(ValueError, match=r"lam must be a finite non-negative.*lam="):
        smooth_derivative(np.sin(x), x, method="spline", lam=lam)


def test_smooth_spline_lam_type_and_zero() -> None:
    x = np.linspace(0, 1, 50)
    with pytest.raises(TypeError, match=r"lam must be a number \(.*lam='a'"):
        smooth_derivative(np.sin(x), x, method="spline", lam="a")
    with pytest.raises(TypeError, match="lam=True"):
        smooth_derivative(np.sin(x), x, method="spline", lam=True)
    d = smooth_derivative(np.sin(x), x, method="spline", lam=0)  # interpolates
    assert np.max(np.abs(d - np.cos(x))) < 1e-2


@pytest.mark.parametrize("method", ["savgol", "spline", "spectral"])
def test_smooth_complex_is_real_and_imaginary_parts(method: str) -> None:
    rng = np.random.default_rng(3)
    x = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    re = np.sin(x) + 0.01 * rng.standard_normal(x.size)
    im = np.cos(2 * x) + 0.01 * rng.standard_normal(x.size)
    z = np.stack([re + 1j * im, im - 1j * re])  # along axis -1, two rows
    # (spectral with a fixed cut-off: the automatic one is not linear)
    kw = {"savgol": {}, "spline": {"lam": 1e-4}, "spectral": {"cutoff": 0.3}}[method]
    d = smooth_derivative(z, x, method=method, **kw)
    assert np.iscomplexobj(d)
    for row, (a, b) in zip(d, [(re, im), (im, -re)], strict=True):
        da = smooth_derivative(a, x, method=method, **kw)
        db = smooth_derivative(b, x, method=method, **kw)
        np.testing.assert_allclose(row.real, da, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(row.imag, db, rtol=1e-12, atol=1e-12)
    if method == "savgol":
        # the imaginary part is differentiated, not dropped
        assert np.max(np.abs(d[0].imag + 2 * np.sin(2 * x))) < 0.3


# -- turning points ------------------------------------------------------------


def test_turning_points_indices_and_locations() -> None:
    x = np.linspace(0, 4 * np.pi, 200)
    y = np.sin(x)
    idx = turning_points(y)
    assert idx.dtype.kind == "i"
    # local extrema of the samples themselves
    for i in idx:
        assert (y[i] >= y[i - 1] and y[i] >= y[i + 1]) or (
            y[i] <= y[i - 1] and y[i] <= y[i + 1]
        )
    loc = turning_points(y, x)
    np.testing.assert_allclose(loc, np.pi / 2 + np.pi * np.arange(4), atol=1e-3)


def test_turning_points_exact_on_parabolas_any_grid() -> None:
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-1, 2, 30))
    for c in (-0.3, 0.1, 1.234):
        loc = turning_points(-((x - c) ** 2) + 4, x)
        np.testing.assert_allclose(loc, [c], atol=1e-12)


def test_turning_points_on_shifted_uniform_coordinates() -> None:
    x = 5.0 + 0.25 * np.arange(20)  # equal steps: reduced to a spacing internally
    np.testing.assert_allclose(turning_points(-((x - 7.1) ** 2), x), [7.1], atol=1e-12)
    np.testing.assert_allclose(
        turning_points(-((x - 7.1) ** 2), 0.25), [2.1], atol=1e-12
    )


def test_turning_points_flat_top_and_monotone() -> None:
    y = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 1.0, 0.0])
    assert turning_points(y).tolist() == [3]
    x = np.arange(7.0) * 0.5
    np.testing.assert_allclose(turning_points(y, x), [1.5])
    assert turning_points(np.arange(10.0)).size == 0
    assert turning_points(np.array([1.0, 2.0])).size == 0


def test_turning_points_bad_input() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        turning_points(np.ones((3, 3)))
    with pytest.raises(TypeError, match="complex"):
        turning_points(np.ones(5) * 1j)
    with pytest.raises(ValueError, match="has 4 coordinates"):
        turning_points(np.ones(5), np.arange(4.0))
