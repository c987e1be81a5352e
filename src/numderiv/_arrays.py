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

from typing import Any

import numpy as np

__all__ = ["foreign_namespace", "host_array", "refuse"]

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
