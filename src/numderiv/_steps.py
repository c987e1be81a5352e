"""Difference schemes, default steps, and their adjustment at bounds.

A *scheme* is what the drivers apply along one direction ``u`` with step
``h``::

    D = Re( sum_k w_k f(x + z_k h u) ) / h**deriv

Real schemes are :class:`~numderiv.Stencil` objects (``z_k`` integer
offsets).  The complex step is the same formula with complex offsets: for
the first derivative ``z = i`` and ``w = -i`` give ``Im f(x + i h) / h``;
higher derivatives put a real stencil of order ``deriv - 1`` beside the
imaginary offset.  So every method shares the evaluation, bounds and
non-finite handling.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._stencil import Stencil

KINDS = ("central", "forward", "backward")


def _pref(method: str) -> str:
    """The stencil kind a method prefers: central for the central, complex and
    adaptive methods.

    >>> _pref("complex"), _pref("adaptive"), _pref("backward")
    ('central', 'central', 'backward')
    """
    return "central" if method in ("central", "complex", "adaptive") else method


@dataclass(frozen=True)
class Scheme:
    """A stencil along one direction, possibly with complex offsets."""

    offsets: NDArray[Any]  # z_k, real or complex
    weights: NDArray[Any]  # w_k, real or complex
    deriv: int
    order: int
    error_constant: float
    kind: str  # "central" / "forward" / "backward": the real part's shape
    method: str
    requested: int = 0  # the order asked for (``order`` may be higher)

    @property
    def is_complex(self) -> bool:
        return bool(np.iscomplexobj(self.offsets))

    @property
    def lo(self) -> float:
        """Smallest real offset."""
        return float(np.min(self.offsets.real))

    @property
    def hi(self) -> float:
        """Largest real offset."""
        return float(np.max(self.offsets.real))

    @property
    def uses_center(self) -> bool:
        return bool(np.any(self.offsets == 0))

    @property
    def noise_gain(self) -> float:
        """Round-off amplification: ``sum_k |Re(w_k f_k)|`` per unit ``|f|``.

        For the complex step only the imaginary part of ``f`` (of size
        ``h f'``) enters, without cancellation, so its gain is that of the
        real stencil of order ``deriv - 1`` (one for the first derivative).
        """
        if not self.is_complex:
            return float(np.sum(np.abs(self.weights)))
        if self.deriv == 1:
            return 1.0
        return Stencil.of_kind(self.kind, self.deriv - 1, self.order).abs_weight_sum


def _complex_first(order: int) -> tuple[list[complex], list[complex]]:
    """Imaginary offsets ``i s`` (s = 1..order/2) and weights for ``f'``.

    ``Im f(x + i s h) / h = s f' - s^3 h^2 f'''/6 + ...`` has only odd powers,
    like the central difference ``(f(x+sh) - f(x-sh))/2``; the central
    weights ``c_s`` of the same order therefore cancel the same terms:
    ``f' ~ sum_s 2 c_s Im f(x + i s h) / h``.
    """
    cen = Stencil.central(1, order)
    offs, ws = [], []
    for o, w in zip(cen.offsets, cen.weights, strict=True):
        if o > 0:
            offs.append(complex(0, float(o)))
            ws.append(complex(0, -2 * float(w)))
    return offs, ws


@functools.lru_cache(maxsize=256)
def scheme(method: str, kind: str, deriv: int, order: int) -> Scheme:
    """The scheme of `method` whose real part has shape `kind`."""
    if method in KINDS:
        st = Stencil.of_kind(kind, deriv, order)
        return Scheme(
            offsets=st.nodes.copy(),
            weights=st.coefficients.copy(),
            deriv=deriv,
            order=st.order,
            error_constant=float(st.error_constant),
            kind=kind,
            method=method,
            requested=order,
        )
    if method != "complex":
        raise ValueError(f"unknown method {method!r}")
    ioffs, iws = _complex_first(order)
    if deriv == 1:
        offs, ws = ioffs, iws
    else:
        real = Stencil.of_kind(kind, deriv - 1, order)
        offs = [complex(float(o)) + io for o in real.offsets for io in ioffs]
        ws = [float(w) * iw for w in real.weights for iw in iws]
    z = np.array(offs, dtype=complex)
    w = np.array(ws, dtype=complex)
    # accuracy order and error constant from the complex moments
    q = deriv + 1
    while True:
        mom = float(np.real(np.sum(w * z**q))) / math.factorial(q)
        if abs(mom) > 1e-9:
            break
        q += 1
    return Scheme(z, w, deriv, q - deriv, mom, kind, method, order)


def default_rel_step(sch: Scheme, eps: float) -> float:
    """See :func:`_default_rel_step` (cached per scheme and eps)."""
    return _default_rel_step(sch.method, sch.kind, sch.deriv, sch.requested, eps)


@functools.lru_cache(maxsize=256)
def _default_rel_step(
    method: str, kind: str, deriv: int, order: int, eps: float
) -> float:
    """Relative step minimising truncation plus round-off error.

    The error of a scheme is about ``|C| K h^p + eps G / h^m`` in units of
    ``|f|`` (``C`` error constant, ``p`` order, ``G`` round-off gain,
    ``m`` derivative order, ``K = |f^(m+p)| / |f|``).  Its minimum is at
    ``h = (m eps G / (p |C| K))^(1/(p+m))``.  ``K`` is unknown before any
    evaluation; derivatives of analytic functions grow factorially with
    their order, and ``K = ((m+p)! / m!)^(3/2)`` gave the best worst case on
    the smooth functions of :mod:`numderiv.testing` (``K = 1``, the textbook
    choice, loses up to five digits at order 8).  For the central first
    difference this gives ``h ~ 3.5e-6``, for the forward one ``h ~ 1.7e-8``
    in float64.  The step is rounded to a power of two so that ``x + k h``
    is exact.

    The complex step has no cancellation in its first derivative
    (``Im f(x + i h) / h``: no difference of nearby values), so nothing
    balances truncation: the step only has to be tiny beside every scale on
    which ``f`` changes.  Its relative truncation error is about
    ``(h / s)^2 / 6`` for a function that changes on the scale ``s`` (``s = x``
    for ``log`` at ``x``, ``1`` for ``sin`` at any ``x``), so the *absolute*
    step ``h = eps^(3/2)`` (``2^-78 = 3.3e-24`` in float64, ``2^-34 = 5.8e-11``
    in float32) keeps it below ``eps`` for every ``s >= eps``: ``log`` at
    ``1e-12`` is off by ``4e-24`` relative, ``sin`` at ``1e10`` and ``exp`` at
    ``1`` by nothing, and ``x = 0`` needs no special case.  The imaginary part
    ``h f'`` stays a normal number for ``|f'| > tiny / eps^(3/2)`` (``7e-285``
    in float64, ``2e-28`` in float32).  The same scheme at ``h / 2`` (the
    error estimate) sees the same truncation-free value where ``f`` is
    analytic, so the two differ by round-off; at a branch cut or a
    singularity they differ by the size of the value, which the consistency
    check flags.  For this one scheme the value returned is that absolute
    step (see :func:`user_or_default_steps`).  Higher complex derivatives
    balance the real stencil beside the imaginary offset, relative to
    ``max(1, |x|)`` like the real schemes.
    """
    sch = scheme(method, kind, deriv, order)
    m, p, gain = sch.deriv, sch.order, sch.noise_gain
    if sch.is_complex:
        if m == 1:
            return float(2.0 ** round(1.5 * math.log2(eps)))
        m = m - 1
    c = abs(sch.error_constant)
    growth = (math.factorial(m + p) / math.factorial(m)) ** 1.5
    h = (m * eps * gain / (p * c * growth)) ** (1.0 / (p + m))
    return float(2.0 ** round(math.log2(h)))


def input_noise_gain(method: str, order: int, deriv: int, eps: float) -> float:
    """``eps * sum |w|``: the round-off of ``f`` seen through its inputs, per unit.

    A value of ``f`` computed in floating point is typically off by about
    ``eps * sum_k |df/dx_k| |x_k|`` (its condition), however small the value
    itself is after internal cancellation.  Differencing multiplies that by
    the stencil's ``sum |w|`` and divides it by ``h^deriv``; callers multiply
    this gain by the sensitivity and divide by the step.  The complex step
    has no cancellation and no such term (gain 0).
    """
    if method == "complex":
        return 0.0
    kind = "central" if method == "central" else method
    return eps * scheme(method, kind, deriv, order).noise_gain


def user_or_default_steps(
    x: NDArray[Any],
    sch: Scheme,
    eps: float,
    rel_step: NDArray[Any] | None,
    abs_step: NDArray[Any] | None,
) -> NDArray[Any]:
    """Steps per component: the user's (made exact) or the default.

    The default is ``c * max(1, |x|)`` rounded to a power of two (``c`` from
    :func:`default_rel_step`); ``rel_step`` gives ``rel_step * max(1, |x|)``
    and ``abs_step`` is taken as it is.  A user step is replaced by what
    floating point really adds, ``(x + h) - x``, and where that is zero by the
    default step.

    The complex step's first derivative is the exception: its offsets are
    purely imaginary, ``x + i s h``, exact for every ``h``, so a user's step
    is honoured however small it is (``abs_step=1e-20`` is ``1e-20``), and
    the default is the absolute ``eps^(3/2)`` of :func:`default_rel_step`
    whatever ``|x|``: nothing cancels, so no round-off asks for a step that
    grows with ``|x|``.
    """
    scale = np.maximum(1.0, np.abs(x)).astype(x.real.dtype)
    c = default_rel_step(sch, eps)
    imaginary = sch.is_complex and sch.deriv == 1
    if imaginary:
        default = np.full(x.shape, c, dtype=scale.dtype)
    else:
        default = scale * c
        # power-of-two steps make every x + k h exact
        default = np.exp2(np.round(np.log2(default))).astype(scale.dtype)
    if rel_step is None and abs_step is None:
        return default
    h = abs_step if abs_step is not None else rel_step * scale
    h = np.broadcast_to(np.asarray(h, dtype=scale.dtype), x.shape)
    if imaginary:
        return h.copy()
    xr = x.real
    h = (xr + h) - xr
    return np.where(h == 0, default, h)


def choose_kinds(
    method: str,
    deriv: int,
    order: int,
    h: NDArray[Any],
    tlo: NDArray[Any],
    thi: NDArray[Any],
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Per direction, the stencil kind and step that keep every point in bounds.

    ``[tlo, thi]`` (``tlo <= 0 <= thi``) is the range of the displacement
    allowed along each direction.  The preferred kind is kept where it fits;
    otherwise the one-sided kind of the same accuracy order that fits; where
    none fits at step ``h``, the step shrinks to fit the roomier side.
    """
    pref = _pref(method)
    other = {"forward": "backward", "backward": "forward"}
    order_list = (
        [pref, "forward", "backward"] if pref == "central" else [pref, other[pref]]
    )
    kinds = np.full(h.shape, "", dtype=object)
    hnew = h.copy()
    for kind in order_list:
        sch = scheme(method, kind, deriv, order)
        fits = (kinds == "") & (sch.lo * h >= tlo) & (sch.hi * h <= thi)
        kinds[fits] = kind
    rest = kinds == ""
    if np.any(rest):
        fw = scheme(method, "forward", deriv, order)
        bw = scheme(method, "backward", deriv, order)
        up = rest & (thi >= -tlo)
        down = rest & ~up
        kinds[up] = "forward"
        hnew[up] = thi[up] / fw.hi
        kinds[down] = "backward"
        hnew[down] = tlo[down] / bw.lo
    return kinds, hnew
