"""Dask arrays in :mod:`numderiv.grid`: lazy derivatives, chunk by chunk.

A derivative along one axis needs, at each point, the samples within the
stencil's half-width ``r``.  Each chunk therefore receives a halo of ``r``
samples from its neighbours (:func:`dask.array.map_overlap`): the wrapped
samples from the other end with periodic boundaries (Dask's
``boundary="periodic"``), nothing beyond the array's ends otherwise
(``boundary="none"``).  The chunk is then differentiated by the in-memory
engine with the plan of the *whole* axis, shifted to the chunk's position: the
centred stencils, the one-sided boundary stencils at the array's true ends,
the wrapped stencils and the non-uniform weights are the very rows the
in-memory path uses, applied in the same order, so the result equals the
in-memory result bit for bit.

The one-sided stencils at the ends reach ``m = n + edge`` samples into the
array, further than the halo: the first and last chunks along a
differentiated axis must hold at least ``max(r, m - r)`` samples, and every
other chunk at least ``r`` (Dask's own condition for a halo from the nearest
neighbour).  Narrower chunks are merged with their neighbours (a
``rechunk``) before the halos are exchanged; the result has the merged
chunks.

Dask and xarray are imported only when such an array is passed: their
types are recognised through :data:`sys.modules`, so ``import numderiv``
never imports them.
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import replace
from types import ModuleType
from typing import Any

import numpy as np

from ._engine import AxisPlan, Term, execute, make_plan
from ._validate import (
    check_accuracy,
    check_boundary,
    check_deriv,
    check_one_sided,
    check_workers,
    data_array,
    index,
    normalize_axis_index,
    spacing_for_axis,
)

__all__ = ["backend_for", "curl", "derivative", "divergence", "gradient", "laplacian"]


def backend_for(y: Any, dim: Any = None) -> ModuleType | None:
    """The module that handles `y` when it is an xarray DataArray or a Dask
    array, else ``None`` (and then `dim`, which names DataArray dimensions,
    must be ``None``).

    Neither library is imported here: an object can only be one of their
    arrays when the library is already in :data:`sys.modules`.
    """
    xr = sys.modules.get("xarray")
    if xr is not None and isinstance(y, xr.DataArray):
        from . import _xarray as labelled

        return labelled
    if dim is not None:
        raise TypeError(
            f"dim={dim!r} names dimensions of an xarray DataArray, but y is a "
            f"{type(y).__module__}.{type(y).__name__}; use axis= for its axes"
        )
    dask_array = sys.modules.get("dask.array")
    if dask_array is not None and isinstance(y, dask_array.Array):
        return sys.modules[__name__]
    return None


def refuse_labelled_or_lazy(y: Any, where: str, why: str) -> None:
    """A DataArray or Dask array where only in-memory arrays are handled.

    Converting either silently would drop the labels or load the whole
    array; the error names the function and says what to do instead.
    """
    other = backend_for(y)
    if other is None:
        return
    if other is not sys.modules[__name__]:
        raise TypeError(
            f"{where} does not take an xarray DataArray ({why}); pass its "
            "values (y.values) and coordinates, or use gradient, derivative or "
            "laplacian, which keep the labels"
        )
    raise TypeError(
        f"{where} does not take a Dask array ({why}); compute it first "
        "(y.compute()) if it fits in memory, or use gradient, derivative or "
        "laplacian, which are lazy"
    )


# ---------------------------------------------------------------------------
# Chunks and the plan of one chunk
# ---------------------------------------------------------------------------


def _reach(plan: AxisPlan, periodic: bool) -> tuple[int, int]:
    """The halo depth and the fewest samples of an end chunk for `plan`."""
    r = plan.r
    if periodic:
        return r, r
    # one-sided rows at the left end reach from index 0 to the highest node
    # used by any left row; symmetrically at the right end
    m = 1 + max(
        [max(row.nodes) for row in plan.rows if row.index < plan.lo]
        + [plan.npts - 1 - min(row.nodes) for row in plan.rows if row.index >= plan.lo]
        + [0]
    )
    return r, max(r, m - r)


def merged_chunks(chunks: tuple[int, ...], inner: int, end: int) -> tuple[int, ...]:
    """`chunks` with narrow chunks merged into neighbours, so that every chunk
    holds at least `inner` samples and the first and the last at least `end`.

    Returned unchanged when they already do.
    """
    inner, end = max(inner, 1), max(end, 1)
    nonempty = [c for c in chunks if c > 0]

    def fine(cs: list[int]) -> bool:
        return all(c >= inner for c in cs) and cs[0] >= end and cs[-1] >= end

    if not nonempty or (fine(nonempty) and len(nonempty) == len(chunks)):
        return tuple(chunks)
    out: list[int] = []
    acc = 0
    for c in nonempty:
        acc += c
        if acc >= (inner if out else max(inner, end)):
            out.append(acc)
            acc = 0
    if acc:
        if out:
            out[-1] += acc
        else:
            out.append(acc)
    while len(out) > 1 and out[-1] < end:
        last = out.pop()
        out[-1] += last
    return tuple(out)


def _rows_fit(plan: AxisPlan, chunks: tuple[int, ...]) -> bool:
    """Whether every one-sided row finds its nodes in its chunk and the halo."""
    starts = np.cumsum((0, *chunks))
    for row in plan.rows:
        k = int(np.searchsorted(starts, row.index, side="right")) - 1
        s0 = max(0, int(starts[k]) - plan.r)
        s1 = min(plan.npts, int(starts[k + 1]) + plan.r)
        if min(row.nodes) < s0 or max(row.nodes) >= s1:
            return False
    return True


def _local_plan(
    plan: AxisPlan, g0: int, g1: int, s0: int, length: int, periodic: bool
) -> AxisPlan:
    """The rows of `plan` for global points ``g0..g1-1``, on a chunk whose
    first sample (halo included) is the global sample `s0` and which holds
    `length` samples.

    Interior points keep their centred stencil (and, on non-uniform grids,
    their column of weights); boundary rows keep their coefficients, their
    nodes moved to where those samples lie in the chunk.  With periodic
    boundaries a node ``(i + o) % npts`` of a wrapped row is found at
    ``i + o - s0``, in the halo Dask copied from the other end.
    """
    npts = plan.npts
    rows = []
    for row in plan.rows:
        i = row.index
        if not g0 <= i < g1:
            continue
        offsets = []
        for j in row.nodes:
            o = j - i
            if periodic:
                # the row's stencil spans at most r <= (npts - 1) / 2 either
                # side, so the wrapped offset is unique
                o %= npts
                if o > plan.r:
                    o -= npts
            offsets.append(o)
        rows.append(
            replace(row, index=i - s0, nodes=tuple(i - s0 + o for o in offsets))
        )
    lo, hi = max(plan.lo, g0), min(plan.hi, g1)
    hi = max(hi, lo)
    weights = plan.weights
    if weights is not None:
        weights = weights[:, lo - plan.lo : hi - plan.lo]
    return replace(
        plan,
        npts=length,
        lo=lo - s0,
        hi=hi - s0,
        rows=tuple(rows),
        weights=weights,
    )


def _differentiate_block(
    block: Any,
    *,
    axis: int,
    plan: AxisPlan,
    starts: tuple[int, ...],
    periodic: bool,
    otype: np.dtype[Any],
    block_info: Any = None,
) -> np.ndarray[Any, Any]:
    """The derivative on one chunk (received with its halo along `axis`)."""
    f = np.asarray(block)
    if f.dtype != otype:
        f = f.astype(otype)
    k = block_info[0]["chunk-location"][axis]
    g0, g1 = starts[k], starts[k + 1]
    r = plan.r
    s0 = g0 - r if periodic else max(0, g0 - r)
    length = f.shape[axis]
    local = _local_plan(plan, g0, g1, s0, length, periodic)
    out = np.empty(f.shape, dtype=otype)
    # Dask's threads supply the parallelism; the engine runs one per chunk
    execute([(out, [Term(f, axis, local)])], 1)
    idx: list[Any] = [slice(None)] * f.ndim
    idx[axis] = slice(g0 - s0, g1 - s0)
    return out[tuple(idx)]


def _lazy(y: Any, axis: int, plan: AxisPlan, periodic: bool, otype: Any) -> Any:
    """The derivative described by `plan` along `axis` of the Dask array `y`."""
    import dask.array as da

    depth, end = _reach(plan, periodic)
    chunks = merged_chunks(y.chunks[axis], depth, end)
    if not periodic and not _rows_fit(plan, chunks):
        chunks = (plan.npts,)  # an axis too short for separate ends: one chunk
    if chunks != y.chunks[axis]:
        y = y.rechunk({axis: chunks})
    starts = tuple(int(s) for s in np.cumsum((0, *chunks)))
    func = functools.partial(
        _differentiate_block,
        axis=axis,
        plan=plan,
        starts=starts,
        periodic=periodic,
        otype=otype,
    )
    return da.map_overlap(
        func,
        y,
        depth={axis: depth},
        boundary={axis: "periodic" if periodic else "none"},
        trim=False,
        allow_rechunk=False,
        chunks=y.chunks,
        dtype=otype,
        meta=np.empty((0,) * y.ndim, dtype=otype),
        token="numderiv-grid",
    )


def _otype(y: Any) -> np.dtype[Any]:
    """The result dtype (and the dtype checks) of the in-memory path.

    The chunks must be NumPy arrays (masked ones are refused, as in memory)
    and their sizes known: the plan of an axis needs its length.
    """
    meta = getattr(y, "_meta", None)
    if not isinstance(meta, np.ndarray):
        raise TypeError(
            f"y is a Dask array of {type(meta).__module__}.{type(meta).__name__} "
            "chunks; numderiv differentiates Dask arrays of NumPy chunks"
        )
    if any(math.isnan(s) for s in y.shape):
        raise ValueError(
            f"y has unknown chunk sizes (shape {y.shape}); call "
            "y.compute_chunk_sizes() first: the stencils at the ends need the "
            "length of each axis"
        )
    return data_array(meta)[1]


# ---------------------------------------------------------------------------
# The public functions on Dask arrays (validated as the in-memory ones)
# ---------------------------------------------------------------------------


def derivative(
    y: Any,
    x: Any = None,
    *,
    n: int = 1,
    axis: int = -1,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
    dim: Any = None,
) -> Any:
    """:func:`numderiv.grid.derivative` of a Dask array, lazily."""
    from ._derivative import check_points

    n = check_deriv(n)
    accuracy = check_accuracy(accuracy)
    boundary = check_boundary(boundary)
    periodic = boundary == "periodic"
    if not periodic:
        check_one_sided(n, accuracy)
    check_workers(workers)
    otype = _otype(y)
    if y.ndim == 0:
        raise ValueError("y must have at least one dimension, got a scalar")
    ax = normalize_axis_index(index(axis, "axis"), y.ndim)
    npts = int(y.shape[ax])
    info = spacing_for_axis(1.0 if x is None else x, npts, name="x", periodic=periodic)
    check_points(npts, ax, n, accuracy, info, periodic)
    plan = make_plan(info, npts, n, accuracy, accuracy, periodic=periodic)
    return _lazy(y, ax, plan, periodic, otype)


def gradient(
    y: Any,
    *spacing: Any,
    axis: int | tuple[int, ...] | None = None,
    edge_order: int = 1,
    accuracy: int = 2,
    workers: int | None = None,
    dim: Any = None,
) -> Any:
    """:func:`numderiv.grid.gradient` of a Dask array, lazily."""
    from ._gradient import gradient_axes

    accuracy = check_accuracy(accuracy)
    check_one_sided(1, accuracy)
    check_workers(workers)
    otype = _otype(y)
    shape = tuple(int(s) for s in y.shape)
    axes, infos, edge = gradient_axes(shape, spacing, axis, edge_order, accuracy)
    outs = [
        _lazy(
            y,
            ax,
            make_plan(info, shape[ax], 1, accuracy, edge, periodic=False),
            False,
            otype,
        )
        for ax, info in zip(axes, infos, strict=True)
    ]
    if len(axes) == 1:
        return outs[0]
    return tuple(outs)


def laplacian(
    y: Any,
    *spacing: Any,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
    dim: Any = None,
) -> Any:
    """:func:`numderiv.grid.laplacian` of a Dask array, lazily.

    One halo exchange per axis; the second derivatives are summed in axis
    order, as the in-memory path sums them.
    """
    from ._operators import _plans

    accuracy = check_accuracy(accuracy)
    boundary = check_boundary(boundary)
    check_workers(workers)
    otype = _otype(y)
    if y.ndim == 0:
        raise ValueError("y must have at least one dimension, got a scalar")
    shape = tuple(int(s) for s in y.shape)
    plans = _plans(spacing, shape, 2, accuracy, boundary, None)
    periodic = boundary == "periodic"
    total = None
    for ax, plan in enumerate(plans):
        term = _lazy(y, ax, plan, periodic, otype)
        total = term if total is None else total + term
    return total


def _field_plans(
    F: Any, spacing: tuple[Any, ...], accuracy: int, boundary: str
) -> tuple[list[AxisPlan], bool, np.dtype[Any]]:
    """The checks of the in-memory ``divergence``/``curl``, and one plan per axis."""
    from ._operators import _plans

    otype = _otype(F)
    if F.ndim < 2 or F.shape[0] != F.ndim - 1:
        raise ValueError(
            f"F must have shape (ndim, *grid_shape) with one component per "
            f"grid axis, got shape {tuple(F.shape)}"
        )
    shape = tuple(int(s) for s in F.shape[1:])
    plans = _plans(spacing, shape, 1, accuracy, boundary, None)
    return plans, boundary == "periodic", otype


def divergence(
    F: Any,
    *spacing: Any,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
) -> Any:
    """:func:`numderiv.grid.divergence` of a Dask array, lazily (terms in axis order)."""
    accuracy = check_accuracy(accuracy)
    boundary = check_boundary(boundary)
    check_workers(workers)
    plans, periodic, otype = _field_plans(F, spacing, accuracy, boundary)
    total = None
    for i, plan in enumerate(plans):
        term = _lazy(F[i], i, plan, periodic, otype)
        total = term if total is None else total + term
    return total


def curl(
    F: Any,
    *spacing: Any,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
) -> Any:
    """:func:`numderiv.grid.curl` of a Dask array, lazily (each component
    ``d_a F_b - d_b F_a``, as in memory)."""
    import dask.array as da

    accuracy = check_accuracy(accuracy)
    boundary = check_boundary(boundary)
    check_workers(workers)
    p, periodic, otype = _field_plans(F, spacing, accuracy, boundary)
    if F.shape[0] not in (2, 3):
        raise ValueError(
            f"curl needs a 2-D field of shape (2, nx, ny) or a 3-D field of shape "
            f"(3, nx, ny, nz), got F with shape {tuple(F.shape)}"
        )

    def d(c: int, a: int) -> Any:
        return _lazy(F[c], a, p[a], periodic, otype)

    if F.shape[0] == 2:
        return d(1, 0) - d(0, 1)
    return da.stack([d(2, 1) - d(1, 2), d(0, 2) - d(2, 0), d(1, 0) - d(0, 1)])
