"""Sparse Jacobians and Hessians, and derivatives as linear operators.

Both run on the engine of :mod:`numderiv._core`:

* a sparse Jacobian differences along one direction per group of columns,
  ``u_g = sum_{j in g} h_j e_j``; each row sees one column of the group, so
  ``J[i, j] = D_g[i] / h_j`` for the structure's non-zeros;
* a sparse Hessian differences along ``e_i`` and along ``h_i e_i + h_j e_j``
  for the structure's off-diagonal non-zeros only;
* a linear operator's ``matvec`` is :func:`~numderiv.jvp` (or
  :func:`~numderiv.hvp`), sharing its code; a Jacobian operator's
  ``rmatvec`` forms ``J`` once, by the columns of :func:`~numderiv.jacobian`,
  and keeps it (``x`` is fixed for the operator).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import LinearOperator

from ._adaptive import run_directions, sensitivity_gain, steps
from ._core import Directions, Outcome, Points
from ._evaluate import Evaluator
from ._sparse import as_structure, check_groups, color_columns
from ._steps import _pref, choose_kinds
from ._validate import Common

_KIND_CODE = {"central": 0, "forward": 1, "backward": 2}
_KIND_NAME = ("central", "forward", "backward")


def parse_sparsity(
    sparsity: Any, n: int
) -> tuple[sp.csc_array, NDArray[np.intp] | None]:
    """``sparsity`` as (structure, groups or None), checked against ``n`` columns."""
    groups = None
    if isinstance(sparsity, tuple):
        if len(sparsity) != 2:
            raise ValueError(
                f"sparsity must be a structure or a pair (structure, groups), got a tuple of {len(sparsity)}"
            )
        structure, groups = sparsity
    else:
        structure = sparsity
    S = as_structure(structure)
    if S.shape[1] != n:
        raise ValueError(
            f"sparsity has {S.shape[1]} columns, but x has {n} components (shape {S.shape})"
        )
    g = None if groups is None else check_groups(S, groups)
    return S, g


def _group_directions(
    groups: NDArray[np.intp], kinds: NDArray[Any], h: NDArray[Any], n: int
) -> tuple[Directions, NDArray[np.intp], NDArray[Any]]:
    """One direction per (group, kind): ``u = sum h_j e_j`` over its columns."""
    code = np.array([_KIND_CODE[k] for k in kinds.tolist()], dtype=np.intp)
    key = groups.astype(np.intp) * 3 + code
    uniq, dir_of = np.unique(key, return_inverse=True)
    D = uniq.size
    counts = np.bincount(dir_of, minlength=D)
    width = int(counts.max())
    order = np.argsort(dir_of, kind="stable")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(n) - start[dir_of[order]]
    idx = np.zeros((D, width), dtype=np.intp)
    val = np.zeros((D, width), dtype=h.dtype)
    idx[dir_of[order], slot] = order
    val[dir_of[order], slot] = h[order]
    dkinds = np.array([_KIND_NAME[k % 3] for k in uniq.tolist()], dtype=object)
    return Directions(n, idx, val), dir_of.astype(np.intp), dkinds


def sparse_jacobian(
    ev: Evaluator, c: Common, S: sp.csc_array, groups: NDArray[np.intp] | None
) -> tuple[sp.csr_array, Outcome, sp.csr_array | None, NDArray[Any], int]:
    """Compressed Jacobian: one direction per group of structurally orthogonal columns.

    Returns the Jacobian as a CSR array holding exactly the structure's
    non-zeros, the engine's outcome, the error (same structure) or None, the
    steps and the number of groups.  Memory is O(nnz + n groups).
    """
    x = c.x
    n = x.size
    g = color_columns(S) if groups is None else groups
    pref = _pref(c.method)
    h = steps(c, x, 1)
    if c.bounded and c.adaptive is None:
        assert c.lb is not None
        assert c.ub is not None
        kinds, h = choose_kinds(c.method, 1, c.order, h, c.lb - x, c.ub - x)
    else:
        # the adaptive ladder turns one-sided by itself, per group direction
        kinds = np.full(n, pref, dtype=object)
    dirs, dir_of, dkinds = _group_directions(g, kinds, h, n)
    tr = None
    if c.bounded and c.adaptive is not None:
        tr = dirs.trange(x, c.lb, c.ub)  # type: ignore[arg-type]
    out = run_directions(
        Points(ev, x, dirs, c.f0),
        np.ones(dirs.count, dtype=h.dtype),
        c,
        1,
        trange=tr,
        kinds=None if c.adaptive is not None else dkinds,
    )
    assert ev.shape is not None
    m = ev.size
    if len(ev.shape) > 1 or m != S.shape[0]:
        raise ValueError(
            f"sparsity has shape {S.shape}, but f returns {m} values for {n} inputs "
            f"(Jacobian shape ({m}, {n}))"
        )
    coo = S.tocoo()
    rows, cols = coo.row, coo.col
    d = dir_of[cols]
    data = out.value[rows, d] / h[cols]
    J = sp.csr_array((data, (rows, cols)), shape=(m, n))
    err = None
    if out.error is not None:
        sens = abs(J) @ np.abs(x)
        noise = sensitivity_gain(c, 1) * sens[rows] / h[cols]
        edata = out.error[rows, d] / h[cols] + noise
        err = sp.csr_array((edata, (rows, cols)), shape=(m, n))
    return J, out, err, h, int(g.max(initial=-1)) + 1


def hessian_structure(sparsity: Any, n: int) -> sp.csr_array:
    """A symmetric (n, n) structure, or a clear error."""
    if isinstance(sparsity, tuple):
        raise ValueError(
            "sparsity for hessian() is a symmetric (n, n) structure; groups are not used"
        )
    S = as_structure(sparsity)
    if S.shape != (n, n):
        raise ValueError(
            f"sparsity for hessian() must have shape ({n}, {n}), got {S.shape}"
        )
    S = sp.csr_array(S)
    asym = S != S.T
    if asym.nnz:
        i, j = asym.tocoo().row[0], asym.tocoo().col[0]
        raise ValueError(
            f"sparsity for hessian() must be symmetric, but entry ({i}, {j}) is "
            f"{'set' if S[i, j] else 'zero'} and ({j}, {i}) is not"
        )
    return S


def sparse_hessian_parts(S: sp.csr_array) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Upper off-diagonal non-zeros ``(i, j)``, ``i < j``, of a symmetric structure."""
    coo = sp.triu(S, k=1).tocoo()
    return coo.row.astype(np.intp), coo.col.astype(np.intp)


class DerivativeOperator(LinearOperator):
    """A Jacobian or Hessian as a :class:`scipy.sparse.linalg.LinearOperator`.

    ``matvec(v)`` is a directional derivative (:func:`~numderiv.jvp`, or
    :func:`~numderiv.hvp` for a Hessian) with its step scaled to ``x`` and
    to ``v``; ``nfev`` and ``ncalls`` count every evaluation so far,
    including ``f(x)``, evaluated once when the operator is built to learn
    the shape.  A Hessian operator is symmetric, so ``rmatvec`` is
    ``matvec``.

    A Jacobian operator's ``rmatvec(v)`` is ``J^H v`` (``J^T v`` for real
    ``f``), which no directional derivative gives.  Its first call forms
    the whole Jacobian by differences along each ``e_j``, exactly as one
    :func:`~numderiv.jacobian` call with the same options does (its cost:
    ``n`` evaluations for forward differences, ``2n`` for central order 2,
    ``n * (order)`` in general; ``f(x)`` is reused), and keeps it, since
    ``x`` is fixed for the operator: later ``rmatvec``, ``rmatmat`` and
    adjoint products cost no evaluations.  ``nfev`` counts the columns'
    evaluations.  (For ``m`` much smaller than ``n`` and a function with
    an adjoint, reverse-mode automatic differentiation is cheaper.)
    """

    def __init__(
        self,
        ev: Evaluator,
        c: Common,
        core: Callable[[Evaluator, Common, NDArray[Any]], tuple[Any, Any, Any]],
        shape: tuple[int, int],
        dtype: Any,
        symmetric: bool,
    ) -> None:
        self._ev, self._c, self._core, self._symmetric = ev, c, core, symmetric
        self._J: NDArray[Any] | None = None
        self._lock = threading.Lock()
        super().__init__(dtype=dtype, shape=shape)

    @property
    def nfev(self) -> int:
        """Points at which ``f`` has been evaluated so far."""
        return self._ev.nfev

    @property
    def ncalls(self) -> int:
        """Python calls of ``f`` so far."""
        return self._ev.ncalls

    def _matvec(self, v: Any) -> Any:
        va = np.asarray(v).reshape(-1)
        if va.shape != (self.shape[1],):
            raise ValueError(f"v must have shape ({self.shape[1]},), got {np.shape(v)}")
        if np.iscomplexobj(va):
            re = self._matvec(va.real)
            im = self._matvec(va.imag)
            return re + 1j * im
        try:
            value, _, _ = self._core(self._ev, self._c, va.astype(self._c.x.dtype))
        finally:
            self._ev.close()
        return value

    def _rmatvec(self, v: Any) -> Any:
        va = np.asarray(v).reshape(-1)
        if va.shape != (self.shape[0],):
            raise ValueError(
                f"v for rmatvec must have shape ({self.shape[0]},), got {np.shape(v)}"
            )
        return self._dense().conj().T @ va

    def _rmatmat(self, V: Any) -> Any:
        return self._dense().conj().T @ np.asarray(V)

    def _dense(self) -> NDArray[Any]:
        """The Jacobian at ``x``, formed on first use (see the class notes), kept."""
        with self._lock:
            if self._J is None:
                try:
                    self._J = _dense_jacobian(self._ev, self._c, self.shape)
                finally:
                    self._ev.close()
            return self._J


def _dense_jacobian(ev: Evaluator, c: Common, shape: tuple[int, int]) -> NDArray[Any]:
    """``J`` by the columns of :func:`~numderiv.jacobian`: one difference per ``e_j``."""
    x = c.x
    n = x.size
    dirs = Directions.axes(n)
    h = steps(c, x, 1)
    tr = dirs.trange(x, c.lb, c.ub) if c.bounded else None  # type: ignore[arg-type]
    out = run_directions(Points(ev, x, dirs, c.f0), h, c, 1, trange=tr)
    return np.asarray(out.value).reshape(shape)


class SymmetricDerivativeOperator(DerivativeOperator):
    """A Hessian as a symmetric operator: ``rmatvec`` and the adjoint are itself."""

    def _rmatvec(self, v: Any) -> Any:
        return self._matvec(v)

    def _rmatmat(self, V: Any) -> Any:
        return self._matmat(V)

    def _adjoint(self) -> LinearOperator:
        return self


def linear_operator(
    f: Callable[..., Any],
    c: Common,
    core: Callable[[Evaluator, Common, NDArray[Any]], tuple[Any, Any, Any]],
    *,
    hessian: bool,
) -> DerivativeOperator:
    """Build the operator: evaluate ``f(x)`` once (shape, and reused as ``f0``)."""
    ev = Evaluator.for_options(f, c, "hessian" if hessian else "jacobian")
    if c.f0 is None:
        f0 = ev.point(c.x)
    else:
        f0 = np.asarray(c.f0).reshape(-1)
        ev._learn(np.asarray(c.f0), "f0")
    assert ev.shape is not None
    if len(ev.shape) > 1:
        raise ValueError(f"f must return a scalar or a 1-D array, got shape {ev.shape}")
    n = c.x.size
    m = ev.size
    if hessian and m != 1:
        raise ValueError(
            f"a Hessian linear operator needs a scalar f, but f returns {m} values"
        )
    c = dataclasses.replace(c, f0=f0)
    shape = (n, n) if hessian else (m, n)
    dtype = np.result_type(f0.dtype, c.x.dtype)
    cls = SymmetricDerivativeOperator if hessian else DerivativeOperator
    return cls(ev, c, core, shape, dtype, symmetric=hessian)
