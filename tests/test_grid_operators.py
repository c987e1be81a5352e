"""numderiv.grid.laplacian, divergence and curl: identities, exactness, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from numderiv.grid import curl, derivative, divergence, gradient, laplacian


def _axes3(kind: str) -> list[Any]:
    """Coordinates of a 3-D grid: uniform spacings or non-uniform coordinates."""
    rng = np.random.default_rng(7)
    if kind == "uniform":
        return [0.25, 0.5, 0.2]
    return [np.cumsum(rng.uniform(0.5, 1.5, m)) / 5 for m in (9, 10, 11)]


def _mesh(spacing: list[Any], shape: tuple[int, ...]) -> list[np.ndarray]:
    coords = [
        s if np.ndim(s) else s * np.arange(m)
        for s, m in zip(spacing, shape, strict=True)
    ]
    return list(np.meshgrid(*coords, indexing="ij"))


@pytest.mark.parametrize("kind", ["uniform", "nonuniform"])
@pytest.mark.parametrize("accuracy", [2, 4])
def test_div_curl_is_zero(kind: str, accuracy: int) -> None:
    sp = _axes3(kind)
    shape = (9, 10, 11)
    x, y, z = _mesh(sp, shape)
    F = np.stack([np.sin(x * y) + z**3, x**2 * np.cos(z), np.exp(y * z / 3) * x])
    div_curl = divergence(curl(F, *sp, accuracy=accuracy), *sp, accuracy=accuracy)
    # discrete derivatives along different axes commute: zero to round-off
    scale = (
        np.max(np.abs(F))
        / min(np.min(np.diff(s)) if np.ndim(s) else s for s in sp) ** 2
    )
    assert np.max(np.abs(div_curl)) < 1e-12 * scale


@pytest.mark.parametrize("kind", ["uniform", "nonuniform"])
@pytest.mark.parametrize("accuracy", [2, 4])
def test_curl_grad_is_zero(kind: str, accuracy: int) -> None:
    sp = _axes3(kind)
    x, y, z = _mesh(sp, (9, 10, 11))
    phi = np.sin(x) * y**2 + np.exp(z * x)
    g = np.stack(gradient(phi, *sp, accuracy=accuracy, edge_order=2))
    c = curl(g, *sp, accuracy=accuracy)
    assert c.shape == (3, 9, 10, 11)
    assert np.max(np.abs(c)) < 1e-10 * np.max(np.abs(phi)) * 100


@pytest.mark.parametrize("kind", ["uniform", "nonuniform"])
@pytest.mark.parametrize("accuracy", [2, 4])
def test_laplacian_is_div_grad_on_polynomials(kind: str, accuracy: int) -> None:
    # degree <= accuracy in each variable: every stencil is exact, so both
    # sides equal the exact Laplacian
    sp = _axes3(kind)
    x, y, z = _mesh(sp, (9, 10, 11))
    deg = accuracy
    phi = x**deg * y + y**deg * z - 2 * z**deg * x + x * y * z
    exact = (
        deg
        * (deg - 1)
        * (x ** (deg - 2) * y + y ** (deg - 2) * z - 2 * z ** (deg - 2) * x)
    )
    lap = laplacian(phi, *sp, accuracy=accuracy)
    divgrad = divergence(
        np.stack(gradient(phi, *sp, accuracy=accuracy, edge_order=2)),
        *sp,
        accuracy=accuracy,
    )
    tol = 1e-9 * np.max(np.abs(exact))
    np.testing.assert_allclose(lap, exact, rtol=0, atol=tol)
    np.testing.assert_allclose(divgrad, exact, rtol=0, atol=tol)


def test_laplacian_convergence_and_periodic() -> None:
    errs = []
    ns = [16, 32, 64]
    for npts in ns:
        h = 2 * np.pi / npts
        t = h * np.arange(npts)
        x, y = np.meshgrid(t, t, indexing="ij")
        u = np.sin(x) * np.cos(2 * y)
        lap = laplacian(u, h, accuracy=4, boundary="periodic")
        errs.append(np.max(np.abs(lap + 5 * u)))
    slope = np.polyfit(np.log(2 * np.pi / np.array(ns)), np.log(errs), 1)[0]
    assert abs(slope - 4) < 0.2


def test_laplacian_equals_sum_of_second_derivatives() -> None:
    rng = np.random.default_rng(1)
    u = rng.standard_normal((12, 13, 14))
    xs = np.cumsum(rng.uniform(0.5, 1, 13))
    lap = laplacian(u, 0.5, xs, 2.0, accuracy=6)
    ref = (
        derivative(u, 0.5, n=2, axis=0, accuracy=6)
        + derivative(u, xs, n=2, axis=1, accuracy=6)
        + derivative(u, 2.0, n=2, axis=2, accuracy=6)
    )
    np.testing.assert_allclose(lap, ref, rtol=1e-12, atol=1e-12 * np.max(np.abs(ref)))


def test_laplacian_matches_five_point_stencil() -> None:
    u = np.random.default_rng(2).standard_normal((20, 30))
    lap = laplacian(u, 0.5)
    five = (
        u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]
    ) / 0.25
    np.testing.assert_allclose(lap[1:-1, 1:-1], five, rtol=1e-13, atol=1e-12)


def test_curl_2d_scalar_and_divergence_1d() -> None:
    x, y = np.meshgrid(np.linspace(0, 1, 7), np.linspace(0, 2, 9), indexing="ij")
    c = curl(np.stack([-(y**2), x**2]), 1 / 6, 0.25)
    np.testing.assert_allclose(c, 2 * x + 2 * y, atol=1e-12)
    t = np.linspace(0, 1, 11)
    np.testing.assert_allclose(
        divergence(t[None] ** 2, t, accuracy=2), 2 * t, atol=1e-12
    )


def test_dtypes() -> None:
    F = np.random.default_rng(3).standard_normal((2, 8, 8)).astype(np.float32)
    assert divergence(F).dtype == np.float32
    assert curl(F).dtype == np.float32
    assert laplacian(F[0]).dtype == np.float32
    assert laplacian(np.arange(16).reshape(4, 4)).dtype == np.float64


# -- bad input ---------------------------------------------------------------


def test_bad_fields() -> None:
    with pytest.raises(ValueError, match=r"F must have shape \(ndim, \*grid_shape\)"):
        divergence(np.ones((3, 5, 5)))
    with pytest.raises(ValueError, match=r"F must have shape \(ndim, \*grid_shape\)"):
        curl(np.ones(5))
    with pytest.raises(ValueError, match="curl needs a 2-D field"):
        curl(np.ones((4, 3, 3, 3, 3)))
    with pytest.raises(TypeError, match="one scalar or 1-D array per grid axis"):
        laplacian(np.ones((5, 5)), 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="accuracy must be a positive even integer"):
        laplacian(np.ones((5, 5)), accuracy=5)
    with pytest.raises(ValueError, match="boundary must be"):
        divergence(np.ones((2, 5, 5)), boundary="reflect")
    with pytest.raises(ValueError, match=r"needs at least 4"):
        laplacian(np.ones((3, 5)))
    with pytest.raises(ValueError, match="at least one dimension"):
        laplacian(1.0)
    with pytest.raises(ValueError, match=r"spacing\[1\] has 4 coordinates"):
        laplacian(np.ones((5, 5)), 1.0, np.arange(4.0))
