"""The function API on arrays of other libraries (Issue 12, point 1).

With `x` an array of an array-API library, `f` is called on points of that
namespace and device, and the derivative comes back as such an array.  The
steps, weights and differences are the NumPy path's, so the results equal
the NumPy results exactly where `f` computes the same values: checked with
array-api-strict (which wraps NumPy) always, and with PyTorch when it is
installed (``make test-arrays``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import numderiv as nd

xps = pytest.importorskip("array_api_strict")

X0 = np.array([0.3, -0.7, 1.1])
V0 = np.array([1.0, -2.0, 0.5])


def _strict_f(seen: list[Any]) -> Any:
    """f: R^3 -> R^2 in array-api-strict functions, recording what it gets."""

    def f(v: Any) -> Any:
        seen.append(v)
        return xps.stack([xps.sin(v[0]) * v[1], xps.exp(v[2]) + v[0] ** 2])

    return f


def _numpy_f(v: Any) -> Any:
    return np.stack([np.sin(v[0]) * v[1], np.exp(v[2]) + v[0] ** 2])


def _strict_scalar(v: Any) -> Any:
    return xps.sum(xps.sin(v) * v**2, axis=0)


def _numpy_scalar(v: Any) -> Any:
    return np.sum(np.sin(v) * v**2, axis=0)


CALLS = [
    ("jacobian", {}),
    ("jacobian", {"method": "forward", "order": 2}),
    ("jacobian", {"method": "adaptive"}),
    ("jacobian", {"method": "complex"}),
    ("jacobian", {"bounds": ([0.3, -1.0, 0.0], [1.0, 1.0, 1.1])}),
    ("jacobian", {"vectorized": True}),
]


@pytest.mark.parametrize(("name", "opts"), CALLS, ids=str)
@pytest.mark.parametrize("device", ["CPU_DEVICE", "device1"])
def test_jacobian_on_strict_arrays_equals_numpy_path(name, opts, device):
    dev = xps.Device(device)
    x = xps.asarray(X0, device=dev)
    seen: list[Any] = []
    f = _strict_f(seen)
    if opts.get("vectorized"):

        def f(v: Any) -> Any:  # points as columns
            seen.append(v)
            return xps.stack(
                [xps.sin(v[0, ...]) * v[1, ...], xps.exp(v[2, ...]) + v[0, ...] ** 2]
            )

    J, info = getattr(nd, name)(f, x, full_output=True, **opts)
    Jn, infon = getattr(nd, name)(_numpy_f, X0, full_output=True, **opts)
    # f saw points of the namespace, on the device of x
    assert seen and all(type(p) is type(x) and p.device == dev for p in seen)
    # and the result is of that kind, equal to the NumPy path bit for bit
    assert type(J) is type(x) and J.device == dev and J.dtype == xps.float64
    np.testing.assert_array_equal(
        np.asarray(xps.asarray(J, device=xps.Device("CPU_DEVICE"))), Jn
    )
    assert info.nfev == infon.nfev and info.status == infon.status


@pytest.mark.parametrize(
    ("name", "extra"),
    [("gradient", ()), ("hessian", ()), ("jvp", (V0,)), ("hvp", (V0,))],
)
def test_other_entry_points_on_strict_arrays(name, extra):
    x = xps.asarray(X0)
    ex = tuple(xps.asarray(e) for e in extra)
    fx = _strict_f([]) if name == "jvp" else _strict_scalar
    fn = _numpy_f if name == "jvp" else _numpy_scalar
    out = getattr(nd, name)(fx, x, *ex)
    ref = getattr(nd, name)(fn, X0, *extra)
    assert type(out) is type(x)
    np.testing.assert_array_equal(np.asarray(out), ref)


def test_derivative_elementwise_on_strict_arrays_and_float32():
    x = xps.asarray(np.linspace(0.1, 2.0, 7), dtype=xps.float32)
    d, info = nd.derivative(xps.sin, x, full_output=True)
    ref = nd.derivative(np.sin, np.linspace(0.1, 2.0, 7).astype(np.float32))
    assert d.dtype == xps.float32 and d.shape == x.shape
    np.testing.assert_array_equal(np.asarray(d), ref)
    exact = np.cos(np.linspace(0.1, 2.0, 7))
    assert np.all(np.abs(np.asarray(d) - exact) <= info.error)


def test_other_array_options_may_be_arrays_of_the_library():
    x = xps.asarray(X0)
    lb, ub = xps.asarray([0.3, -1.0, 0.0]), xps.asarray([1.0, 1.0, 1.1])
    J = nd.jacobian(_strict_f([]), x, bounds=(lb, ub), abs_step=xps.asarray(1e-6))
    ref = nd.jacobian(
        _numpy_f, X0, bounds=([0.3, -1.0, 0.0], [1.0, 1.0, 1.1]), abs_step=1e-6
    )
    np.testing.assert_array_equal(np.asarray(J), ref)


@pytest.mark.parametrize(
    ("opt", "value"),
    [("workers", 2), ("sparsity", np.ones((2, 3))), ("as_linear_operator", True)],
)
def test_numpy_only_paths_are_refused_by_name(opt, value):
    with pytest.raises(
        TypeError, match=rf"{opt}=.* needs NumPy arrays .*array_api_strict"
    ):
        nd.jacobian(_strict_f([]), xps.asarray(X0), **{opt: value})


def test_numpy_input_untouched_by_the_wrapper():
    # plain lists and NumPy arrays take the NumPy path; f gets NumPy points
    seen: list[Any] = []

    def f(v: Any) -> Any:
        seen.append(type(v))
        return _numpy_f(v)

    nd.jacobian(f, list(X0))
    assert set(seen) == {np.ndarray}


def test_torch_f_written_with_torch_functions():
    torch = pytest.importorskip("torch")
    x = torch.tensor(X0, dtype=torch.float64)

    def f(v: Any) -> Any:
        assert isinstance(v, torch.Tensor)
        return torch.stack([torch.sin(v[0]) * v[1], torch.exp(v[2]) + v[0] ** 2])

    J, info = nd.jacobian(f, x, full_output=True)
    exact = np.array(
        [
            [np.cos(X0[0]) * X0[1], np.sin(X0[0]), 0.0],
            [2 * X0[0], 0.0, np.exp(X0[2])],
        ]
    )
    assert isinstance(J, torch.Tensor) and J.dtype == torch.float64
    assert np.all(np.abs(J.numpy() - exact) <= info.error)
    # vectorized, and the complex step through torch's complex arithmetic
    g = nd.gradient(lambda X: torch.sum(torch.sin(X), dim=0), x, vectorized=True)
    assert isinstance(g, torch.Tensor)
    np.testing.assert_allclose(g.numpy(), np.cos(X0), rtol=1e-9)
    d = nd.derivative(torch.sin, x, method="complex")
    np.testing.assert_allclose(d.numpy(), np.cos(X0), rtol=1e-15)
    # float32 stays float32
    h = nd.hessian(lambda v: torch.sum(v**3), x.float())
    assert h.dtype == torch.float32
