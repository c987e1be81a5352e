"""xarray ``DataArray`` in :mod:`numderiv.grid`: derivatives along named dimensions.

A dimension is differentiated by its coordinate (uniform or not; unit
spacing when the dimension has no coordinate), through the NumPy or Dask
path on ``DataArray.data``, so a Dask-backed array stays lazy.  The result is
a ``DataArray`` with the dimensions, coordinates, name and attributes of the
input; ``attrs["numderiv"]`` says which operation made it (appended to what
an earlier numderiv operation wrote there).  Units and other attributes are
left as they are: numderiv does not know what they mean.

xarray is imported by nobody here: the functions receive objects that are
DataArrays already.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from ._validate import check_boundary, index, normalize_axis_index

__all__ = ["curl", "derivative", "divergence", "gradient", "laplacian"]

#: The attribute that names the operation on a result.
ATTR = "numderiv"


def _dims(y: Any, dim: Any, *, many: bool) -> tuple[Hashable, ...]:
    """`dim` as a tuple of dimension names of `y`, each checked."""
    names = tuple(dim) if many and isinstance(dim, (list, tuple)) else (dim,)
    for d in names:
        if d not in y.dims:
            raise ValueError(
                f"dim={d!r} is not a dimension of y; its dimensions are {y.dims}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"dim={dim!r} names a dimension more than once")
    return names


def _coordinate(y: Any, d: Hashable, *, periodic: bool = False) -> Any:
    """The values of the coordinate of dimension `d`; ``None`` without one."""
    if d not in y.coords:
        return None
    values = np.asarray(y.coords[d].values)
    if values.ndim != 1:  # pragma: no cover - xarray's dimension coords are 1-D
        return None
    if values.dtype.kind in "mMOUS":
        raise TypeError(
            f"coordinate {d!r} has dtype {values.dtype}; derivatives are taken along "
            "numeric coordinates only: pass them (e.g. seconds) as x= or spacing"
        )
    if periodic and values.size > 1:
        steps = np.diff(values)
        if (steps == steps[0]).all():
            return values
        # uniform up to the rounding of the coordinates (linspace, arange of
        # a decimal step): the period is n times the mean spacing
        h = (values[-1] - values[0]) / (values.size - 1)
        if np.issubdtype(values.dtype, np.floating):
            slack = 64 * np.finfo(values.dtype).eps * float(np.max(np.abs(values)))
            if np.max(np.abs(steps - h)) <= slack:
                return np.append(values, values[0] + values.size * h)
        raise ValueError(
            f"coordinate {d!r} is not uniform; a periodic derivative on a "
            f"non-uniform grid needs the period: pass x= with {values.size + 1} "
            "coordinates (the last is the first plus the period)"
        )
    return values


def _wrap(y: Any, data: Any, note: str) -> Any:
    """`data` as a DataArray like `y`, with the operation named in its attrs."""
    out = y.copy(deep=False, data=data)
    attrs = dict(y.attrs)
    old = attrs.get(ATTR)
    attrs[ATTR] = note if old is None else f"{old}; then {note}"
    out.attrs = attrs
    return out


def _boundaries(boundary: str) -> str:
    return f"{boundary} boundaries"


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
    """:func:`numderiv.grid.derivative` of a DataArray along dimension `dim`."""
    from ._derivative import derivative as engine

    boundary = check_boundary(boundary)
    if dim is None:
        ax = normalize_axis_index(index(axis, "axis"), y.ndim) if y.ndim else -1
        d: Hashable = y.dims[ax] if y.ndim else None
    else:
        if axis != -1:
            raise TypeError(
                f"give dim or axis, not both: got dim={dim!r} and axis={axis!r}"
            )
        (d,) = _dims(y, dim, many=False)
        ax = y.get_axis_num(d)
    if x is None and y.ndim:
        x = _coordinate(y, d, periodic=boundary == "periodic")
    data = engine(
        y.data,
        x,
        n=n,
        axis=ax,
        accuracy=accuracy,
        boundary=boundary,
        workers=workers,
    )
    note = f"derivative n={n} along {d!r}, accuracy {accuracy}, {_boundaries(boundary)}"
    return _wrap(y, data, note)


def gradient(
    y: Any,
    *spacing: Any,
    axis: int | tuple[int, ...] | None = None,
    edge_order: int = 1,
    accuracy: int = 2,
    workers: int | None = None,
    dim: Any = None,
) -> Any:
    """:func:`numderiv.grid.gradient` of a DataArray along dimensions `dim`."""
    from ._gradient import gradient as engine
    from ._validate import normalize_axis_tuple

    if dim is None:
        axes = (
            tuple(range(y.ndim)) if axis is None else normalize_axis_tuple(axis, y.ndim)
        )
        names = tuple(y.dims[a] for a in axes)
    else:
        if axis is not None:
            raise TypeError(
                f"give dim or axis, not both: got dim={dim!r} and axis={axis!r}"
            )
        names = _dims(y, dim, many=True)
        axes = tuple(y.get_axis_num(d) for d in names)
    if not spacing:
        coords = [_coordinate(y, d) for d in names]
        spacing = tuple(1.0 if c is None else c for c in coords)
    data = engine(
        y.data,
        *spacing,
        axis=axes,
        edge_order=edge_order,
        accuracy=accuracy,
        workers=workers,
    )
    edge = f", edge_order {edge_order}" if accuracy == 2 else ""
    parts = data if isinstance(data, tuple) else (data,)
    outs = tuple(
        _wrap(y, p, f"gradient along {d!r}, accuracy {accuracy}{edge}")
        for d, p in zip(names, parts, strict=True)
    )
    return outs if isinstance(data, tuple) else outs[0]


def laplacian(
    y: Any,
    *spacing: Any,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
    dim: Any = None,
) -> Any:
    """:func:`numderiv.grid.laplacian` of a DataArray over dimensions `dim`.

    Over all dimensions this is the N-D Laplacian of the data; over some of
    them, the sum of their second derivatives in the order given (the same
    arithmetic, term by term, as the N-D one).
    """
    from ._derivative import derivative as second
    from ._operators import laplacian as engine

    boundary = check_boundary(boundary)
    names = tuple(y.dims) if dim is None else _dims(y, dim, many=True)
    periodic = boundary == "periodic"
    if spacing:
        if len(spacing) == 1 and np.ndim(spacing[0]) == 0:
            per_dim = list(spacing) * len(names)
        elif len(spacing) == len(names):
            per_dim = list(spacing)
        else:
            raise TypeError(
                f"spacing takes no value, one scalar, or one scalar or 1-D array per "
                f"dimension ({len(names)} here: {names}), got {len(spacing)} values"
            )
    else:
        coords = [_coordinate(y, d, periodic=periodic) for d in names]
        per_dim = [1.0 if c is None else c for c in coords]
    note = f"laplacian over {names!r}, accuracy {accuracy}, {_boundaries(boundary)}"
    if names == tuple(y.dims):
        data = engine(
            y.data, *per_dim, accuracy=accuracy, boundary=boundary, workers=workers
        )
        return _wrap(y, data, note)
    total = None
    for d, s in zip(names, per_dim, strict=True):
        term = second(
            y.data,
            s,
            n=2,
            axis=y.get_axis_num(d),
            accuracy=accuracy,
            boundary=boundary,
            workers=workers,
        )
        total = term if total is None else total + term
    return _wrap(y, total, note)


def _vector_field(name: str, F: Any) -> Any:
    raise TypeError(
        f"{name} of an xarray DataArray is not supported (which dimension holds "
        f"the components is not defined); pass F.data, a NumPy or Dask array of "
        f"shape (ndim, *grid_shape), got F with dims {F.dims}"
    )


def divergence(F: Any, *spacing: Any, **options: Any) -> Any:
    """Refused: a DataArray's component dimension is not defined."""
    return _vector_field("divergence", F)


def curl(F: Any, *spacing: Any, **options: Any) -> Any:
    """Refused: a DataArray's component dimension is not defined."""
    return _vector_field("curl", F)
