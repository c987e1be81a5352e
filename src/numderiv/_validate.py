"""Argument checking shared by the entry points.

Each entry point calls :func:`check_common` once, up front; it returns the
cleaned arguments or raises ``ValueError``/``TypeError`` naming the argument,
the value received and what was expected.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

METHODS = ("central", "forward", "backward", "complex", "adaptive")
MAX_ORDER = 20
# The highest derivative order worth computing by differences, per precision.
# The round-off of an n-th difference grows like eps / h^n: measured on exp at
# 1 and sin at 0.5 with the default steps, central order 2 keeps a digit or
# two up to n = 10 in float64 (relative error 4e-2 and 3e-2; at n = 12 to 20
# it is 2e-2 to 8e1, by luck rather than design) and up to n = 4 in float32
# (4e-2; at n = 5, 3e-1); method="adaptive" is documented for n = 1..10.
# Beyond, a stencil of dozens of points is built for nothing (n = 1000 took
# minutes of exact rational weights): refused up front.
MAX_DERIV = {np.dtype(np.float64): 10, np.dtype(np.float32): 4}


@dataclass(frozen=True)
class Common:
    """Cleaned options of a call."""

    x: NDArray[Any]
    method: str
    order: int
    rel_step: NDArray[Any] | None
    abs_step: NDArray[Any] | None
    lb: NDArray[Any] | None
    ub: NDArray[Any] | None
    f0: NDArray[Any] | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    vectorized: bool
    workers: Any
    chunk_size: int | None
    progress: bool
    full_output: bool
    eps: float
    adaptive: Any = None  # AdaptiveOptions with method="adaptive"
    timeout: float | None = None  # seconds to wait for the workers' next result

    @property
    def bounded(self) -> bool:
        return self.lb is not None


def _short(v: Any) -> str:
    """``repr(v)`` on one line (an array's rows joined), at most 120 characters."""
    s = " ".join(repr(v).split())
    return s if len(s) <= 120 else s[:117] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(
        v, (bool, np.bool_)
    )


def check_callable(f: Any) -> None:
    if not callable(f):
        raise TypeError(
            f"f must be callable, got {_short(f)} of type {type(f).__name__}"
        )


def check_x(
    x: Any, *, name: str = "x", allow_complex: bool = False, vector: bool = True
) -> NDArray[Any]:
    """``x`` as a float array: integers become float64, float32 stays float32."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged input and the like
        raise TypeError(
            f"{name} must be array_like of numbers, got {_short(x)}"
        ) from exc
    kind = arr.dtype.kind
    if kind in "biu":
        arr = arr.astype(np.float64)
    elif kind == "f":
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
    elif kind == "c":
        if not allow_complex:
            raise TypeError(
                f"{name} must be real here, got complex values {_short(x)}; complex x is "
                "accepted by derivative() (holomorphic f) with real-step methods"
            )
    else:
        raise TypeError(
            f"{name} must be array_like of numbers, got dtype {arr.dtype}: {_short(x)}"
        )
    if vector:
        if arr.ndim > 1:
            raise ValueError(
                f"{name} must be a scalar or 1-D array, got shape {arr.shape}"
            )
        arr = np.atleast_1d(arr)
        if arr.size == 0:
            raise ValueError(
                f"{name} must have at least one component, got shape {arr.shape}"
            )
    bad = ~np.isfinite(arr)
    if bad.any():
        i = np.argwhere(bad)[0]
        where = tuple(int(k) for k in i)
        raise ValueError(
            f"{name} must be finite, got {arr[where].item()!r} at index {where if len(where) != 1 else where[0]}"
        )
    return np.array(arr, copy=True)


def check_method_order(method: Any, order: Any, deriv: int) -> tuple[str, int]:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {_short(method)}")
    if method == "adaptive":
        if order is not None:
            raise ValueError(
                f"method='adaptive' chooses its order by extrapolation; leave order "
                f"unset, got order={_short(order)}"
            )
        # the order of the base stencil the extrapolation starts from
        return method, 2
    if order is None:
        order = 1 if method in ("forward", "backward") else 2
    if not _is_int(order):
        raise TypeError(f"order must be an integer, got {_short(order)}")
    order = int(order)
    if order < 1 or order > MAX_ORDER:
        raise ValueError(f"order must be between 1 and {MAX_ORDER}, got order={order}")
    if method in ("central", "complex") and order % 2:
        raise ValueError(
            f"order must be even for method={method!r} (symmetric stencils gain "
            f"orders two at a time), got order={order}"
        )
    return method, order


def check_step(step: Any, name: str, shape: tuple[int, ...]) -> NDArray[Any] | None:
    if step is None:
        return None
    try:
        arr = np.asarray(step, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a positive number or array, got {_short(step)}"
        ) from exc
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(
            f"{name} must be a scalar or have one value per component (shape {shape}), "
            f"got shape {arr.shape}"
        ) from None
    if not (np.all(np.isfinite(arr)) and np.all(arr > 0)):
        raise ValueError(f"{name} must be positive and finite, got {_short(step)}")
    return arr


def check_bounds(
    bounds: Any, x: NDArray[Any]
) -> tuple[NDArray[Any] | None, NDArray[Any] | None]:
    if bounds is None:
        return None, None
    try:
        lb_in, ub_in = bounds
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds must be a pair (lb, ub), got {_short(bounds)}"
        ) from None
    try:
        lb = np.broadcast_to(np.asarray(lb_in, dtype=float), x.shape).astype(float)
        ub = np.broadcast_to(np.asarray(ub_in, dtype=float), x.shape).astype(float)
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds must be scalars or arrays of the shape of x {x.shape}, got {_short(bounds)}"
        ) from None
    if np.isnan(lb).any() or np.isnan(ub).any():
        raise ValueError(f"bounds must not contain NaN, got {_short(bounds)}")
    if np.any(lb > ub):
        i = int(np.flatnonzero((lb > ub).reshape(-1))[0])
        raise ValueError(
            f"bounds are inverted: lb > ub at index {i} "
            f"(lb={lb.reshape(-1)[i]!r}, ub={ub.reshape(-1)[i]!r})"
        )
    if np.any(lb == ub):
        i = int(np.flatnonzero((lb == ub).reshape(-1))[0])
        raise ValueError(
            f"bounds leave no room to differentiate: lb == ub == {lb.reshape(-1)[i]!r} at index {i}"
        )
    xr = x.real
    out = (xr < lb) | (xr > ub)
    if np.any(out):
        i = int(np.flatnonzero(out.reshape(-1))[0])
        raise ValueError(
            f"x is outside the bounds at index {i}: x={xr.reshape(-1)[i]!r} not in "
            f"[{lb.reshape(-1)[i]!r}, {ub.reshape(-1)[i]!r}]"
        )
    if np.all(np.isinf(lb)) and np.all(np.isinf(ub)):
        return None, None
    return lb, ub


def check_directions(q: Any, n: int, dtype: Any = np.float64) -> NDArray[Any] | None:
    """``directions`` as an orthogonal matrix of `dtype` (that of ``x``).

    Orthogonal to ``1e-8``, or to ``64 eps`` of its own dtype when that is
    coarser (a float32 ``Q`` is orthogonal to about ``1e-7``).
    """
    if q is None:
        return None
    try:
        given = np.asarray(q)
    except (TypeError, ValueError):  # ragged
        given = np.asarray(None)
    if given.dtype.kind not in "iuf":
        raise TypeError(
            f"directions must be an orthogonal ({n}, {n}) matrix of real numbers, got "
            f"{_short(q)}"
        )
    arr = given.astype(np.float64)
    if arr.shape != (n, n):
        raise ValueError(
            f"directions must be an orthogonal ({n}, {n}) matrix, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("directions must be finite")
    dev = float(np.max(np.abs(arr.T @ arr - np.eye(n))))
    tol = 1e-8
    if given.dtype.kind == "f":
        tol = max(tol, 64.0 * float(np.finfo(given.dtype).eps))
    if dev > tol:
        raise ValueError(
            f"directions must be orthogonal (Q.T @ Q == I), but max|Q.T @ Q - I| = {dev:.3g}"
        )
    return arr.astype(dtype)


def check_workers(workers: Any, *, threads: bool = False) -> Any:
    """``workers``: None, -1 (all cores) or a positive int, or a pool of some kind.

    The one check of `workers` (the functions of callables and
    :mod:`numderiv.grid`).  With `threads` (the grid functions, which
    run their own threads) only None and ints are accepted.

    >>> check_workers(-1), check_workers(None)
    (-1, None)
    """
    if workers is None:
        return None
    if _is_int(workers):
        if workers == -1 or workers >= 1:
            return int(workers)
        raise ValueError(
            f"workers must be -1 (all cores) or a positive int, got {workers}"
        )
    if threads:
        raise TypeError(
            "workers must be None, -1 (all cores) or a positive int (a number of "
            f"threads), got {_short(workers)} of type {type(workers).__name__}"
        )
    if isinstance(workers, Executor) or callable(workers) or hasattr(workers, "gather"):
        return workers
    raise TypeError(
        "workers must be None, an int, a map-like callable, a concurrent.futures.Executor "
        f"or a dask.distributed.Client, got {_short(workers)}"
    )


def check_timeout(timeout: Any, workers: Any) -> float | None:
    """``timeout``: seconds, positive and finite, with workers that can be stopped."""
    if timeout is None:
        return None
    if isinstance(timeout, (bool, np.bool_)) or not isinstance(
        timeout, (numbers.Real, np.floating, np.integer)
    ):
        raise TypeError(
            f"timeout must be a number of seconds or None, got {_short(timeout)}"
        )
    t = float(timeout)
    if not (math.isfinite(t) and t > 0):
        raise ValueError(
            f"timeout must be a positive, finite number of seconds, got timeout={t!r}"
        )
    if workers is None or not (
        _is_int(workers) or isinstance(workers, Executor) or hasattr(workers, "gather")
    ):
        raise ValueError(
            f"timeout={timeout!r} needs workers that can be stopped: an int (a process "
            "pool), a concurrent.futures.Executor or a dask.distributed.Client; got "
            f"workers={_short(workers)} (a serial or map-like call cannot be "
            "interrupted cleanly)"
        )
    return t


def check_common(
    x: Any,
    *,
    deriv: int,
    method: Any,
    order: Any,
    rel_step: Any,
    abs_step: Any,
    bounds: Any,
    f0: Any,
    args: Any,
    kwargs: Any,
    vectorized: Any,
    workers: Any,
    chunk_size: Any,
    progress: Any,
    full_output: Any,
    vector: bool = True,
    tolerances: Any = None,
    maxiter: Any = None,
    initial_step: Any = None,
    step_factor: Any = None,
    noise: Any = None,
    timeout: Any = None,
) -> Common:
    """Check every shared option; see the module docstring."""
    method, order = check_method_order(method, order, deriv)
    if method == "adaptive" and (rel_step is not None or abs_step is not None):
        name = "rel_step" if rel_step is not None else "abs_step"
        raise ValueError(
            f"method='adaptive' searches its steps; {name} is not used (give "
            f"initial_step, the first step relative to max(1, |x|)), got {name}="
            f"{_short(rel_step if rel_step is not None else abs_step)}"
        )
    xa = check_x(x, allow_complex=not vector and method != "complex", vector=vector)
    if rel_step is not None and abs_step is not None:
        raise ValueError(
            f"give rel_step or abs_step, not both (got rel_step={_short(rel_step)}, "
            f"abs_step={_short(abs_step)})"
        )
    rel = check_step(rel_step, "rel_step", xa.shape)
    absl = check_step(abs_step, "abs_step", xa.shape)
    lb, ub = check_bounds(bounds, xa)
    if lb is not None and np.iscomplexobj(xa):
        raise ValueError("bounds cannot be used with complex x")
    f0a = None
    if f0 is not None:
        f0a = np.asarray(f0)
        if f0a.dtype.kind not in "biufc":
            raise TypeError(f"f0 must be numeric, got {_short(f0)}")
    if (
        isinstance(args, (str, bytes, Mapping))
        or not hasattr(args, "__iter__")
        or isinstance(args, (set, frozenset))
    ):
        raise TypeError(
            f"args must be a tuple of extra positional arguments, got {_short(args)} "
            f"of type {type(args).__name__} (keyword arguments go in kwargs)"
        )
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(f"kwargs must be a dict, got {_short(kwargs)}")
    for name, val in (
        ("vectorized", vectorized),
        ("full_output", full_output),
        ("progress", progress),
    ):
        check_flag(val, name)
    if chunk_size is not None and (not _is_int(chunk_size) or chunk_size < 1):
        raise ValueError(
            f"chunk_size must be a positive integer or None, got {_short(chunk_size)}"
        )
    if progress:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            raise ImportError(
                "progress=True needs tqdm: pip install 'numderiv[progress]'"
            ) from None
    dtype = xa.real.dtype
    eps = float(np.finfo(dtype).eps)
    top = MAX_DERIV.get(np.dtype(dtype), MAX_DERIV[np.dtype(np.float64)])
    if deriv > top:
        raise ValueError(
            f"n={deriv} is beyond what finite differences can do in {dtype}: the "
            f"round-off of an n-th difference grows like eps / h^n, and no step "
            f"leaves a correct digit above n = {top}; for high derivatives of an "
            "analytic f use numderiv.taylor (Cauchy's integral, no cancellation)"
        )
    adaptive = check_adaptive(
        method,
        deriv,
        eps,
        tolerances=tolerances,
        maxiter=maxiter,
        initial_step=initial_step,
        step_factor=step_factor,
        noise=noise,
    )
    return Common(
        x=xa,
        method=method,
        order=order,
        rel_step=rel,
        abs_step=absl,
        lb=lb,
        ub=ub,
        f0=f0a,
        args=tuple(args),
        kwargs=dict(kwargs or {}),
        vectorized=bool(vectorized),
        workers=check_workers(workers),
        timeout=check_timeout(timeout, workers),
        chunk_size=None if chunk_size is None else int(chunk_size),
        progress=bool(progress),
        full_output=bool(full_output),
        eps=eps,
        adaptive=adaptive,
    )


def check_flag(val: Any, name: str) -> bool:
    """A True/False option (``as_linear_operator``): a bool, nothing else."""
    if not isinstance(val, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_short(val)}")
    return bool(val)


def _positive(v: Any, name: str) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(
        v, (numbers.Real, np.floating)
    ):
        raise TypeError(f"{name} must be a positive number, got {_short(v)}")
    val = float(v)
    if not (np.isfinite(val) and val > 0):
        raise ValueError(f"{name} must be positive and finite, got {name}={_short(v)}")
    return val


def check_adaptive(
    method: str,
    deriv: int,
    eps: float,
    *,
    tolerances: Any,
    maxiter: Any,
    initial_step: Any,
    step_factor: Any,
    noise: Any,
) -> Any:
    """The options of ``method="adaptive"``, or None for the other methods.

    Given with another method, they are an error: nothing would use them.
    """
    given = {
        "tolerances": tolerances,
        "maxiter": maxiter,
        "initial_step": initial_step,
        "step_factor": step_factor,
        "noise": noise,
    }
    if method != "adaptive":
        for name, val in given.items():
            if val is not None:
                raise ValueError(
                    f"{name} is an option of method='adaptive', but method={method!r} "
                    f"(got {name}={_short(val)})"
                )
        return None
    from ._adaptive import AdaptiveOptions, default_ladder  # imports this module

    h0, q = default_ladder(deriv)
    atol, rtol = 0.0, eps**0.75
    if tolerances is not None:
        if not isinstance(tolerances, Mapping):
            raise TypeError(
                "tolerances must be a dict with keys 'atol' and/or 'rtol', got "
                f"{_short(tolerances)}"
            )
        extra = set(tolerances) - {"atol", "rtol"}
        if extra:
            raise ValueError(
                f"tolerances takes the keys 'atol' and 'rtol', got {sorted(extra)!r}"
            )
        for key in ("atol", "rtol"):
            if key in tolerances:
                v = tolerances[key]
                if isinstance(v, (bool, np.bool_)) or not isinstance(
                    v, (numbers.Real, np.floating)
                ):
                    raise TypeError(
                        f"tolerances[{key!r}] must be a number, got {_short(v)}"
                    )
                if not (math.isfinite(float(v)) and float(v) >= 0):
                    raise ValueError(
                        f"tolerances[{key!r}] must be >= 0 and finite, got {_short(v)}"
                    )
        atol = float(tolerances.get("atol", atol))
        rtol = float(tolerances.get("rtol", rtol))
    mi = 30
    if maxiter is not None:
        if not _is_int(maxiter) or maxiter < 1:
            raise ValueError(
                f"maxiter must be a positive integer, got {_short(maxiter)}"
            )
        mi = int(maxiter)
    if initial_step is not None:
        h0 = _positive(initial_step, "initial_step")
    if step_factor is not None:
        q = _positive(step_factor, "step_factor")
        if not 1.1 <= q <= 16:
            raise ValueError(
                f"step_factor must be between 1.1 and 16 (the ratio of successive "
                f"steps), got step_factor={_short(step_factor)}"
            )
    nz = None
    estimate = isinstance(noise, str) and noise == "estimate"
    if noise is not None and not estimate:
        if isinstance(noise, str):
            raise ValueError(
                f"noise must be a number, an array or 'estimate', got {_short(noise)}"
            )
        try:
            nz = np.asarray(noise, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(
                f"noise must be a number or an array of numbers, got {_short(noise)}"
            ) from None
        if nz.size == 0 or not (np.all(np.isfinite(nz)) and np.all(nz >= 0)):
            raise ValueError(
                f"noise must be >= 0 and finite (the absolute noise of f), got {_short(noise)}"
            )
    return AdaptiveOptions(
        initial_step=h0,
        step_factor=q,
        maxiter=mi,
        atol=atol,
        rtol=rtol,
        noise=nz,
        estimate_noise=estimate,
    )


def check_vector_v(v: Any, n: int, dtype: Any = np.float64) -> NDArray[Any]:
    """``v`` of :func:`jvp`/:func:`hvp` as float64, within the range of `dtype`.

    `dtype` is that of ``x``: the result ``J v`` is computed and returned in
    it, so a ``v`` beyond its range (``1e200`` with a float32 ``x``) cannot
    be honoured and is refused by name.
    """
    va = check_x(v, name="v")
    if va.shape != (n,):
        raise ValueError(f"v must have shape ({n},) like x, got shape {va.shape}")
    va = va.astype(float)
    top = float(np.finfo(dtype).max)
    big = np.abs(va) > top
    if big.any():
        i = int(np.argmax(big))
        raise ValueError(
            f"v must be within the range of {np.dtype(dtype)} (the dtype of x, in "
            f"which J v is returned), got {va[i]!r} at index {i}"
        )
    return va


__all__ = [
    "Callable",
    "Common",
    "check_callable",
    "check_common",
    "check_directions",
    "check_flag",
    "check_vector_v",
]
