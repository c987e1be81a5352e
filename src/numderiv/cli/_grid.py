"""``numderiv grid FILE``: derivatives of the columns of a CSV or NPY file.

Finite differences stream: the file is read in blocks of rows, each block
with a halo of its neighbours' rows, ``r = (n + accuracy) // 2`` after it
(the half-width of the widest interior stencil) and ``n + accuracy`` before
it (so that a short last block still holds its one-sided window), and only
the block's own rows are written.  A row's derivative depends on the ``2 r + 1`` rows
around it (interior) or on the ``n + accuracy`` rows at the end of the file
(one-sided boundary rows), all of which lie in its block and halo, and the
weights at a row depend only on those rows' coordinates, so the output is
the whole-file result bit for bit.  Two things need the whole file and are
found in a first pass that keeps only a few rows: whether the grid is
uniform (``nd.grid`` reduces coordinates whose differences are all equal to
a spacing, and a block that happens to be uniform must not be treated
differently from the file) and, for ``--periodic``, the rows that wrap
around.  Memory is a few blocks, whatever the size of the file.

With ``--periodic`` the rows within ``r`` of either end are computed from
the wrapped halo by the same interior formula; on a uniform grid
:func:`numderiv.grid.derivative` sums its wrapped stencils in another order,
so those ``2 r`` rows agree with it to rounding (not bit for bit); every
other row is identical.

The smoothing methods do not stream: ``spline`` chooses its penalty by
cross-validation over all the samples and ``spectral`` is a Fourier
transform of the whole column, so a block's result depends on every row of
the file; ``savgol``'s default window is a tenth of the number of rows.
They read the whole file into memory.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections import deque
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from .. import grid
from ..grid._engine import Term, execute, make_plan
from ..grid._validate import Axis, check_accuracy, check_deriv, check_one_sided

__all__ = ["DEFAULT_CHUNK_ROWS", "GridInput", "run_grid"]

#: Rows per block when streaming (the hidden option ``--chunk-rows`` sets it
#: for tests).
DEFAULT_CHUNK_ROWS = 1 << 16


class GridError(ValueError):
    """Bad input to ``numderiv grid`` (one line, exit status 2)."""


class GridInput:
    """The columns of a CSV (with a header) or NPY file, read in blocks."""

    def __init__(self, path: str) -> None:
        if not os.path.isfile(path):
            raise GridError(f"FILE {path!r} does not exist or is not a file")
        self.path = path
        self.npy = path.lower().endswith(".npy")
        if self.npy:
            self._open_npy()
        else:
            self._open_csv()

    # -- NPY -------------------------------------------------------------------
    def _open_npy(self) -> None:
        try:
            a = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise GridError(
                f"FILE {self.path!r} is not a readable .npy file: {exc}"
            ) from None
        if a.dtype.names:
            self.names = list(a.dtype.names)
            if a.ndim != 1:
                raise GridError(
                    f"FILE {self.path!r}: a structured array must be 1-D, got shape {a.shape}"
                )
        elif a.ndim == 1:
            self.names = ["y"]
        elif a.ndim == 2:
            self.names = [f"c{j}" for j in range(a.shape[1])]
        else:
            raise GridError(
                f"FILE {self.path!r}: expected a 1-D or 2-D array (rows of columns), "
                f"got shape {a.shape}"
            )
        kinds = [a.dtype[k] for k in a.dtype.names] if a.dtype.names else [a.dtype]
        for k in kinds:
            if (
                k == np.bool_
                or not np.issubdtype(k, np.number)
                or np.issubdtype(k, np.complexfloating)
            ):
                raise GridError(
                    f"FILE {self.path!r}: columns must be real numbers, got dtype {k}"
                )
        self._npy = a
        self.nrows = a.shape[0]

    def _npy_rows(self, lo: int, hi: int) -> NDArray[np.float64]:
        a = self._npy[lo:hi]
        if a.dtype.names:
            return np.stack(
                [np.asarray(a[k], dtype=np.float64) for k in a.dtype.names], axis=1
            )
        b = np.asarray(a, dtype=np.float64)
        return b.reshape(-1, 1) if b.ndim == 1 else b

    # -- CSV -------------------------------------------------------------------
    def _open_csv(self) -> None:
        with open(self.path, newline="", encoding="utf-8-sig") as fh:
            first = fh.readline()
        if not first.strip():
            raise GridError(
                f"FILE {self.path!r} is empty; a CSV file needs a header line"
            )
        names = [s.strip() for s in next(csv.reader([first]))]
        if any(not s for s in names):
            raise GridError(
                f"FILE {self.path!r}: the header has an empty column name: {first.strip()!r}"
            )
        if len(set(names)) != len(names):
            raise GridError(
                f"FILE {self.path!r}: the header repeats a column name: {first.strip()!r}"
            )
        try:
            [float(s) for s in names]
        except ValueError:
            pass
        else:
            raise GridError(
                f"FILE {self.path!r}: the first line {first.strip()!r} is numbers, "
                f"not a header; add a line of column names"
            )
        self.names = names
        self.nrows = -1  # known after the first pass

    def _csv_blocks(self, size: int) -> Iterator[NDArray[np.float64]]:
        ncol = len(self.names)
        with open(self.path, newline="", encoding="utf-8-sig") as fh:
            fh.readline()
            lineno = 1
            while True:
                lines = list(itertools.islice(fh, size))
                if not lines:
                    return
                start = lineno + 1
                lineno += len(lines)
                rows = [ln for ln in lines if ln.strip()]
                if not rows:
                    continue
                try:
                    block = np.loadtxt(rows, delimiter=",", ndmin=2, dtype=np.float64)
                except ValueError:
                    block = None
                if block is None or block.shape[1] != ncol:
                    raise GridError(self._bad_line(lines, start, ncol))
                yield block

    def _bad_line(self, lines: list[str], start: int, ncol: int) -> str:
        for k, ln in enumerate(lines):
            if not ln.strip():
                continue
            fields = ln.rstrip("\r\n").split(",")
            where = f"FILE {self.path!r} line {start + k}"
            if len(fields) != ncol:
                return f"{where} has {len(fields)} fields, the header {ncol}"
            for fld in fields:
                try:
                    float(fld)
                except ValueError:
                    return f"{where}: {fld.strip()!r} is not a number"
        return f"FILE {self.path!r} near line {start}: cannot read the numbers"

    # -- both --------------------------------------------------------------------
    def blocks(self, size: int) -> Iterator[NDArray[np.float64]]:
        """Blocks of `size` rows (the last may be shorter), all columns as float64."""
        if self.npy:
            for lo in range(0, self.nrows, size):
                yield self._npy_rows(lo, min(self.nrows, lo + size))
        else:
            yield from _rechunk(self._csv_blocks(size), size)

    def column(self, name: str | None) -> int | None:
        """The index of the x column `name` (a header name, or an index)."""
        if name is None:
            return None
        if name in self.names:
            return self.names.index(name)
        try:
            j = int(name)
        except ValueError:
            j = -1
        if 0 <= j < len(self.names):
            return j
        raise GridError(
            f"--x {name!r} is not a column of {self.path!r}; the columns are "
            + ", ".join(self.names)
        )


def _rechunk(
    blocks: Iterator[NDArray[np.float64]], size: int
) -> Iterator[NDArray[np.float64]]:
    # blank lines can make a CSV block short: every block but the last has `size` rows
    buf: list[NDArray[np.float64]] = []
    have = 0
    for b in blocks:
        buf.append(b)
        have += b.shape[0]
        while have >= size:
            a = np.concatenate(buf) if len(buf) > 1 else buf[0]
            yield a[:size]
            rest = a[size:]
            buf, have = ([rest], rest.shape[0]) if rest.shape[0] else ([], 0)
    if have:
        yield np.concatenate(buf) if len(buf) > 1 else buf[0]


class _Scan:
    """What the first pass learns: rows, uniformity, the rows that wrap."""

    def __init__(self, data: GridInput, xcol: int | None, halo: int, size: int) -> None:
        self.nrows = 0
        self.uniform = True
        self.h: Any = 1.0
        head: list[NDArray[np.float64]] = []
        tail: deque[NDArray[np.float64]] = deque()
        nhead = ntail = 0
        last_x: float | None = None
        d0: float | None = None
        for b in data.blocks(size):
            if nhead < halo:
                head.append(b[: halo - nhead])
                nhead += head[-1].shape[0]
            tail.append(b)
            ntail += b.shape[0]
            while ntail - tail[0].shape[0] >= halo:
                ntail -= tail.popleft().shape[0]
            if xcol is not None:
                x = b[:, xcol]
                bad = ~np.isfinite(x)
                if bad.any():
                    i = int(np.argmax(bad))
                    raise GridError(
                        f"--x column {data.names[xcol]!r} is not finite at data row "
                        f"{self.nrows + i + 1}: {x[i]!r}"
                    )
                xs = x if last_x is None else np.concatenate([[last_x], x])
                dx = np.diff(xs)
                if (dx <= 0).any():
                    i = int(np.argmax(dx <= 0))
                    row = self.nrows + i + (1 if last_x is None else 0)
                    raise GridError(
                        f"--x column {data.names[xcol]!r} must be strictly increasing; "
                        f"data row {row + 1} has {xs[i + 1]!r} after {xs[i]!r}"
                    )
                if dx.size:
                    if d0 is None:
                        d0 = dx[0]
                    if self.uniform and not (dx == d0).all():
                        self.uniform = False
                last_x = float(x[-1])
            self.nrows += b.shape[0]
        if xcol is not None and d0 is not None:
            self.h = d0
        self.head = np.concatenate(head) if head else np.zeros((0, len(data.names)))
        t = np.concatenate(list(tail)) if tail else np.zeros((0, len(data.names)))
        self.tail = t[t.shape[0] - min(halo, t.shape[0]) :]


def _names(data: GridInput, xcol: int | None, n: int) -> list[str]:
    xname = "i" if xcol is None else data.names[xcol]
    ys = [nm for j, nm in enumerate(data.names) if j != xcol]
    if n == 1:
        return [xname, *(f"d{nm}/d{xname}" for nm in ys)]
    return [xname, *(f"d{n}{nm}/d{xname}{n}" for nm in ys)]


def _write(out: IO[str], xs: NDArray[Any], d: NDArray[Any], fmt: Any) -> None:
    cols = [xs, *(d[:, j] for j in range(d.shape[1]))]
    rows = zip(*(c.tolist() for c in cols), strict=True)
    out.write("".join(",".join(map(fmt, r)) + "\n" for r in rows))


def _formatter(precision: int | None) -> Any:
    if precision is None:
        return repr  # the shortest string that reads back as the same float
    return lambda v: v if isinstance(v, int) else f"{v:.{precision}g}"


def run_grid(
    out: IO[str],
    path: str,
    *,
    x: str | None,
    n: int,
    accuracy: int,
    periodic: bool,
    period: float | None,
    smooth: str | None,
    window: int | None,
    polyorder: int | None,
    lam: float | None,
    cutoff: float | None,
    precision: int | None,
    chunk_rows: int | None,
) -> None:
    """Differentiate every column of `path` but the x column; write CSV to `out`."""
    data = GridInput(path)
    xcol = data.column(x)
    if len(data.names) - (xcol is not None) == 0:
        raise GridError(f"FILE {path!r} has no column to differentiate besides --x")
    n = check_deriv(n, "--n")
    if smooth is None:
        accuracy = check_accuracy(accuracy)
        if not periodic:
            check_one_sided(n, accuracy)
        for name, v in (
            ("--window", window),
            ("--polyorder", polyorder),
            ("--lam", lam),
            ("--cutoff", cutoff),
        ):
            if v is not None:
                raise GridError(f"{name} is an option of --smooth, which was not given")
    elif periodic and smooth != "spectral":
        raise GridError(
            f"--periodic applies to finite differences and --smooth spectral (which "
            f"is periodic by nature), not to --smooth {smooth}"
        )
    if period is not None and not periodic:
        raise GridError("--period needs --periodic")
    fmt = _formatter(precision)
    ys = [j for j in range(len(data.names)) if j != xcol]
    # the csv module quotes a name with a comma or a quote in it
    csv.writer(out, lineterminator="\n").writerow(_names(data, xcol, n))
    if smooth is not None:
        _smooth(out, data, xcol, ys, n, smooth, window, polyorder, lam, cutoff, fmt)
        return
    halo = (n + accuracy) // 2
    size = max(chunk_rows or DEFAULT_CHUNK_ROWS, 2 * (n + accuracy) + 2)
    scan = _Scan(data, xcol, halo, size)
    if scan.nrows == 0:
        raise GridError(f"FILE {path!r} has no data rows")
    need = n + accuracy if not periodic else 2 * halo + 1
    if scan.nrows < need:
        raise GridError(
            f"FILE {path!r} has {scan.nrows} rows; n={n} at accuracy={accuracy} "
            f"{'(periodic) ' if periodic else ''}needs at least {need}"
        )
    head, tail = scan.head, scan.tail
    if periodic and xcol is not None and not scan.uniform:
        if period is None:
            raise GridError(
                f"--periodic on the non-uniform x column {data.names[xcol]!r} needs "
                f"--period T (the first x shifted by T follows the last)"
            )
        span = float(tail[-1, xcol] - head[0, xcol])
        if not (np.isfinite(period) and period > span):
            raise GridError(
                f"--period must be larger than the span of x ({span!r}), got {period!r}"
            )
        # the rows that wrap around, at their coordinates beyond the ends
        head, tail = head.copy(), tail.copy()
        head[:, xcol] += period
        tail[:, xcol] -= period
    elif periodic and period is not None:
        raise GridError(
            "--period is for a non-uniform x column; on a uniform grid the period "
            "is the number of rows times the spacing"
        )
    left = tail if periodic else None
    start = 0
    pending: NDArray[np.float64] | None = None
    for blk in data.blocks(size):
        if pending is not None:
            right = blk[:halo]
            if periodic and right.shape[0] < halo:  # a short last block: wrap on
                right = np.concatenate([right, head])[:halo]
            _emit(out, pending, left, right, start, scan, xcol, ys, n, accuracy, fmt)
            both = pending if left is None else np.concatenate([left, pending])
            # n + accuracy rows: a short last block still holds its one-sided window
            keep = n + accuracy
            left = both[both.shape[0] - min(keep, both.shape[0]) :]
            start += pending.shape[0]
        pending = blk
    assert pending is not None
    _emit(
        out,
        pending,
        left,
        head if periodic else None,
        start,
        scan,
        xcol,
        ys,
        n,
        accuracy,
        fmt,
    )


def _emit(
    out: IO[str],
    rows: NDArray[np.float64],
    left: NDArray[np.float64] | None,
    right: NDArray[np.float64] | None,
    start: int,
    scan: _Scan,
    xcol: int | None,
    ys: list[int],
    n: int,
    accuracy: int,
    fmt: Any,
) -> None:
    """Write the derivatives of `rows`, computed over them and their halos."""
    parts = [p for p in (left, rows, right) if p is not None]
    block = np.concatenate(parts) if len(parts) > 1 else rows
    nl = 0 if left is None else left.shape[0]
    y = block[:, ys]
    if xcol is None or scan.uniform:
        d = grid.derivative(y, scan.h, n=n, axis=0, accuracy=accuracy)
    else:
        d = _nonuniform(y, block[:, xcol], n, accuracy)
    d = d[nl : nl + rows.shape[0]]
    if xcol is None:
        xs: NDArray[Any] = np.arange(start, start + rows.shape[0])
    else:
        xs = rows[:, xcol]
    _write(out, xs, d, fmt)


def _nonuniform(
    y: NDArray[Any], x: NDArray[Any], n: int, accuracy: int
) -> NDArray[Any]:
    # what numderiv.grid.derivative(y, x, axis=0) does for coordinates that are
    # not all equally spaced, also for a block that happens to be uniform in a
    # file that is not (the first pass decided for the whole file)
    if x.shape[0] > 1 and not (np.diff(x) > 0).all():
        raise GridError(
            "--period is too small: the wrapped x values overlap the others"
        )
    plan = make_plan(
        Axis(h=None, x=x, dx=np.diff(x)),
        x.shape[0],
        n,
        accuracy,
        accuracy,
        periodic=False,
    )
    d = np.empty(y.shape, dtype=np.float64)
    execute([(d, [Term(y, 0, plan)])])
    return d


def _smooth(
    out: IO[str],
    data: GridInput,
    xcol: int | None,
    ys: list[int],
    n: int,
    method: str,
    window: int | None,
    polyorder: int | None,
    lam: float | None,
    cutoff: float | None,
    fmt: Any,
) -> None:
    # global fits (see the module docstring): the whole file in memory
    blocks = list(data.blocks(DEFAULT_CHUNK_ROWS))
    if not blocks:
        raise GridError(f"FILE {data.path!r} has no data rows")
    a = np.concatenate(blocks)
    xs: Any = 1.0 if xcol is None else a[:, xcol]
    d = grid.smooth_derivative(
        a[:, ys],
        xs,
        n=n,
        method=method,
        axis=0,
        window=window,
        polyorder=polyorder,
        lam=lam,
        cutoff=cutoff,
    )
    first = np.arange(a.shape[0]) if xcol is None else a[:, xcol]
    _write(out, first, np.asarray(d), fmt)
