"""Arrays of other libraries (PyTorch, CuPy, JAX, array-api-strict): detection.

One place decides whether a value is an array of an array-API library other
than NumPy, which namespace it has, and how a small array (coordinates,
steps, bounds) is copied to the host.  :mod:`numderiv.grid` differentiates
such data in its own namespace (see :mod:`numderiv.grid._xp`); the function
API hands ``f`` points of the namespace and device of ``x``
(:func:`on_device`).  `array-api-compat` is imported only when such an
array arrives (the ``arrays`` extra).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np

from ._validate import _short

__all__ = ["DeviceCall", "foreign_namespace", "host_array", "on_device", "refuse"]

# Libraries whose arrays are array-API arrays without (always) carrying
# ``__array_namespace__`` themselves (PyTorch tensors do not).
_KNOWN = frozenset({"torch", "cupy", "jax", "jaxlib", "dpnp", "ndonnx", "sparse"})
_PLAIN = (np.ndarray, np.generic, list, tuple, int, float, complex)


def _is_foreign(value: Any) -> bool:
    """Whether `value` looks like an array of an array-API library other than NumPy.

    Decided without importing anything: by the ``__array_namespace__``
    protocol or the top-level module of the type.
    """
    if value is None or isinstance(value, _PLAIN):
        return False
    root = type(value).__module__.partition(".")[0]
    return root in _KNOWN or hasattr(value, "__array_namespace__")


def _compat(what: str, value: Any) -> Any:
    try:
        import array_api_compat
    except ImportError:  # pragma: no cover - the arrays extra is not installed
        raise TypeError(
            f"{what} is a {_kind(value)}; arrays other than NumPy's are handled "
            "through array-api-compat, which is not installed (pip install "
            "'numderiv[arrays]')"
        ) from None
    return array_api_compat


def _kind(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}"


def foreign_namespace(y: Any, name: str = "y") -> Any | None:
    """The array-API namespace of `y`, or ``None`` when NumPy handles it.

    ``None`` for NumPy arrays, scalars, lists and other array-likes (the
    NumPy path converts those, as always); the namespace (wrapped by
    array-api-compat where the library needs it) for arrays of PyTorch,
    CuPy, JAX, array-api-strict and other array-API libraries.
    """
    if not _is_foreign(y):
        return None
    compat = _compat(name, y)
    try:
        xp = compat.array_namespace(y)
    except TypeError as e:
        raise TypeError(
            f"{name} is a {_kind(y)}, which is neither a NumPy array nor an "
            f"array-API array ({e})"
        ) from None
    if compat.is_numpy_namespace(xp):
        return None
    return xp


def host_array(value: Any, name: str) -> Any:
    """`value` itself, or a NumPy copy when it is an array of another library.

    Coordinates and spacings are small (1-D or scalars) and are checked and
    turned into weights on the host, so they may come from any library; the
    data array is never passed here.
    """
    if not _is_foreign(value):
        return value
    compat = _compat(name, value)
    try:
        if compat.is_cupy_array(value):
            return value.get()
        if compat.is_torch_array(value):
            return value.detach().cpu().resolve_conj().numpy()
        if compat.is_jax_array(value):
            return np.asarray(value)
        return np.from_dlpack(value)
    except (BufferError, TypeError, ValueError, RuntimeError) as e:
        raise TypeError(
            f"{name} is a {_kind(value)} that could not be copied to the host "
            f"({e}); pass the coordinates or spacing as a NumPy array or a number"
        ) from None


def refuse(xp: Any, y: Any, path: str, reason: str, name: str = "y") -> TypeError:
    """The error for a path that needs NumPy arrays (no silent conversion)."""
    return TypeError(
        f"{path} needs NumPy arrays ({reason}), got {name} of type {_kind(y)} "
        f"(namespace {xp.__name__}); numderiv does not convert the data silently: "
        f"copy it to NumPy yourself, or use a method with an array-API path"
    )


# --- the function API: f gets points of the namespace and device of x --------

# options of the entry points that are f's own objects, handed over as given
_OWN = frozenset({"args", "kwargs"})
# options whose paths need NumPy arrays, and why
_NUMPY_ONLY = {
    "workers": "the points go to other threads or processes as NumPy arrays",
    "sparsity": "the column colouring and compressed differences are NumPy code",
    "as_linear_operator": "scipy.sparse.linalg.LinearOperator works on NumPy arrays",
}

P = ParamSpec("P")
R = TypeVar("R")


class DeviceCall:
    """``f`` seen by the engine: points in, as arrays of ``xp`` on ``device``.

    The engine builds the points on the host (the steps and weights are
    exact there); each batch goes to the device in one copy (a copy, so
    that ``f`` may keep it while the engine reuses its own buffer), and
    what ``f`` returns comes back to the host for the differences.
    """

    def __init__(self, fun: Callable[..., Any], xp: Any, device: Any) -> None:
        self.fun, self.xp, self.device = fun, xp, device
        self.__name__ = getattr(fun, "__name__", type(fun).__name__)

    def __call__(self, X: Any, *args: Any, **kwargs: Any) -> Any:
        pts = self.xp.asarray(np.asarray(X), device=self.device, copy=True)
        y = self.fun(pts, *args, **kwargs)
        if isinstance(y, list | tuple):
            return np.asarray([host_array(v, "the output of f") for v in y])
        return host_array(y, "the output of f")


def _host_option(name: str, value: Any) -> Any:
    if name in _OWN:
        return value
    if isinstance(value, list | tuple):
        return type(value)(_host_option(name, v) for v in value)
    return host_array(value, name)


def on_device(fn: Callable[P, R]) -> Callable[P, R]:
    """Let entry point `fn` (``fn(f, x, ...)``) take `x` of any array-API library.

    NumPy input goes straight through (one type check).  For an array of
    another library (PyTorch, CuPy, JAX, array-api-strict), `f` is called
    on points of that namespace and device (:class:`DeviceCall`), the other
    array options (`v`, `f0`, bounds, steps, `directions`, `noise`) are
    copied to the host, and the derivative is returned as an array of that
    namespace on that device, in the dtype the NumPy path gives; `info`
    keeps NumPy arrays.  The paths that need NumPy (`workers`, `sparsity`,
    `as_linear_operator`) raise a TypeError naming them.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        x = args[1] if len(args) > 1 else kwargs.get("x")
        if not _is_foreign(x):
            return fn(*args, **kwargs)
        xp = foreign_namespace(x, "x")
        if xp is None:
            return fn(*args, **kwargs)
        for opt, why in _NUMPY_ONLY.items():
            val = kwargs.get(opt)
            if val is not None and val is not False:
                raise TypeError(
                    f"{opt}={_short(val)} needs NumPy arrays ({why}), got x of type "
                    f"{_kind(x)} (namespace {xp.__name__}); numderiv does not "
                    "convert silently: pass x as a NumPy array, or leave out "
                    f"{opt}"
                )
        device = _compat("x", x).device(x)
        pos = list(args)
        f = pos[0] if pos else kwargs.pop("f")
        g = DeviceCall(f, xp, device)  # type: ignore[arg-type]
        rest = [host_array(v, f"argument {i + 2}") for i, v in enumerate(pos[2:])]
        host_x = host_array(x, "x")
        opts = {k: _host_option(k, v) for k, v in kwargs.items() if k != "x"}
        out: Any = fn(g, host_x, *rest, **opts)  # type: ignore[arg-type]

        def back(value: Any) -> Any:
            return xp.asarray(np.ascontiguousarray(value), device=device)

        if isinstance(out, tuple):
            return (back(out[0]), *out[1:])  # type: ignore[return-value]
        return back(out)

    return wrapper
