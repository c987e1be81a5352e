"""``numderiv.grid.smooth_derivative``: derivatives of noisy data.

Three classic regularisations, each delegated to the library that does it
well: Savitzky-Golay filters (:func:`scipy.signal.savgol_filter`), smoothing
splines with a GCV-chosen penalty (:func:`scipy.interpolate.make_smoothing_spline`)
and spectral differentiation of periodic data (:mod:`numpy.fft`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._arrays import foreign_namespace, host_array, refuse
from ._dask import refuse_labelled_or_lazy
from ._validate import check_deriv, index, normalize_axis_index, spacing_for_axis
from ._xp import data_array_xp

__all__ = ["smooth_derivative"]

METHODS = ("savgol", "spline", "spectral")
# Why the spline has no array-API path (its arrays are refused, not converted).
_NEEDS_NUMPY = "scipy.interpolate.make_smoothing_spline works on NumPy arrays"


def _uniform_step(info: Any, x: Any, method: str) -> float:
    """The spacing of a uniform grid; near-equal coordinate steps count as uniform."""
    if info.uniform:
        return float(info.h)
    d = info.dx
    if d.size == 0:
        raise ValueError(
            f"method={method!r} needs at least 2 coordinates in x to know the "
            f"spacing, got {np.size(x)}; give the spacing as a number instead"
        )
    h = float(np.mean(d))
    if np.max(np.abs(d - h)) <= 1e-9 * abs(h):
        return h
    raise ValueError(
        f"method={method!r} needs uniformly spaced x; got steps from "
        f"{float(np.min(d))!r} to {float(np.max(d))!r} (use method='spline')"
    )


def _savgol_params(npts: int, n: int, window: Any, polyorder: Any) -> tuple[int, int]:
    """The checked (window, polyorder), with their defaults."""
    if polyorder is None:
        polyorder = n + 2
    polyorder = index(polyorder, "polyorder")
    if polyorder < n:
        raise ValueError(f"polyorder must be at least n={n}, got polyorder={polyorder}")
    if window is None:
        # about a tenth of the record, odd, and long enough for the polynomial
        window = max(2 * (npts // 20) + 1, polyorder + 1 + (polyorder % 2))
    window = index(window, "window")
    if window % 2 == 0 or window <= polyorder or window > npts:
        raise ValueError(
            f"window must be odd, larger than polyorder={polyorder} and at most the "
            f"number of points {npts}, got window={window}"
        )
    return window, polyorder


def _savgol(
    f: NDArray[Any], h: float, n: int, ax: int, window: Any, polyorder: Any
) -> NDArray[Any]:
    from scipy.signal import savgol_filter

    window, polyorder = _savgol_params(f.shape[ax], n, window, polyorder)
    if np.iscomplexobj(f):
        # a linear filter with real coefficients: the parts separately
        re = savgol_filter(f.real, window, polyorder, deriv=n, delta=h, axis=ax)
        im = savgol_filter(f.imag, window, polyorder, deriv=n, delta=h, axis=ax)
        return np.asarray(re + 1j * im)
    return np.asarray(savgol_filter(f, window, polyorder, deriv=n, delta=h, axis=ax))


def _savgol_xp(
    xp: Any, f: Any, h: float, n: int, ax: int, window: Any, polyorder: Any
) -> Any:
    """Savitzky-Golay in the array namespace `xp`: the same linear filter.

    SciPy's filter (``mode="interp"``) is a convolution in the interior and,
    at each end, the derivative of the polynomial fitted to the end window:
    both linear in the data.  Its matrix on one window, ``E[i, k]`` (the
    output at point ``i`` for a unit impulse at ``k``), is computed on the
    host by SciPy itself in float64; row ``window // 2`` holds the
    convolution weights and the other rows the end points.  On the device
    the interior is a sum of shifted slabs and the ends are products with the
    end rows, in float64 (complex128 for complex data) as SciPy computes,
    rounded to SciPy's output dtype (float32 and float64 kept, float16
    becoming float64; complex data keeps its precision).
    """
    from array_api_compat import device
    from scipy.signal import savgol_filter

    npts = f.shape[ax]
    window, polyorder = _savgol_params(npts, n, window, polyorder)
    e = savgol_filter(
        np.eye(window), window, polyorder, deriv=n, delta=h, axis=0, mode="interp"
    )
    half = window // 2
    complex_data = xp.isdtype(f.dtype, "complex floating")
    if complex_data:
        work, otype = xp.complex128, f.dtype
    else:
        work = xp.float64
        otype = f.dtype if f.dtype in (xp.float32, xp.float64) else xp.float64
    dev = device(f)
    y = xp.moveaxis(xp.astype(f, work), ax, -1)
    mats = xp.asarray(np.ascontiguousarray(e.T), dtype=work, device=dev)
    # the interior: sum_j c_j y[i - half + j], c = E[half]
    m = npts - window + 1
    inner: Any = None
    for j, c in enumerate(e[half].tolist()):
        t = y[..., j : j + m] * c
        inner = t if inner is None else inner + t
    left = xp.matmul(y[..., :window], mats[:, :half])
    right = xp.matmul(y[..., npts - window :], mats[:, half + 1 :])
    out = xp.concat([left, inner, right], axis=-1)
    return xp.astype(xp.moveaxis(out, -1, ax), otype)


def _spline(
    f: NDArray[Any], x: NDArray[Any], n: int, ax: int, lam: Any
) -> NDArray[Any]:
    from scipy.interpolate import make_smoothing_spline

    if n > 3:
        raise ValueError(f"method='spline' (cubic) gives derivatives n <= 3, got n={n}")
    if f.shape[ax] < 5:
        raise ValueError(f"method='spline' needs at least 5 points, got {f.shape[ax]}")
    if np.iscomplexobj(f):
        return _spline(f.real, x, n, ax, lam) + 1j * _spline(f.imag, x, n, ax, lam)
    spl = make_smoothing_spline(x, np.moveaxis(f, ax, 0), lam=lam)
    return np.moveaxis(np.asarray(spl(x, nu=n)), 0, ax)


def _wavenumbers(
    npts: int, h: float, n: int, real: bool
) -> tuple[NDArray[Any], NDArray[Any]]:
    """The angular wavenumbers of the FFT modes and the multipliers ``(i k)**n``."""
    k = 2 * np.pi * (np.fft.rfftfreq(npts, h) if real else np.fft.fftfreq(npts, h))
    mult = (1j * k) ** n
    if npts % 2 == 0 and n % 2 == 1:
        # the Nyquist mode has no well-defined odd derivative (its sine part
        # is not sampled): drop it, as is standard
        mult[npts // 2] = 0
    return k, mult


def _cutoff_keep(k: NDArray[np.float64], h: float, cutoff: Any) -> NDArray[np.bool_]:
    """The modes below an explicit cut-off (a fraction of Nyquist)."""
    c = float(cutoff)
    if not 0 < c <= 1:
        raise ValueError(
            f"cutoff must be in (0, 1] (a fraction of Nyquist), got {cutoff!r}"
        )
    return np.abs(k) <= c * np.pi / abs(h) * (1 + 1e-12)


def _upper_modes(nmodes: int, npts: int) -> NDArray[np.bool_]:
    """The modes in the upper half of the frequencies, where the noise is measured."""
    freq = (
        np.abs(np.fft.fftfreq(npts)[:nmodes])
        if nmodes == npts
        else np.arange(nmodes) / npts
    )
    return freq >= 0.25


def _spectral(f: NDArray[Any], h: float, n: int, ax: int, cutoff: Any) -> NDArray[Any]:
    npts = f.shape[ax]
    real = not np.iscomplexobj(f)
    spec = np.fft.rfft(f, axis=ax) if real else np.fft.fft(f, axis=ax)
    k, mult = _wavenumbers(npts, h, n, real)
    shape = [1] * f.ndim
    shape[ax] = -1
    if cutoff is None:
        keep = _auto_keep(spec, ax, npts)
    else:
        keep = _cutoff_keep(k, h, cutoff).reshape(shape)
    spec = spec * mult.reshape(shape) * keep
    if real:
        return np.fft.irfft(spec, n=npts, axis=ax)
    return np.fft.ifft(spec, axis=ax)


def _auto_keep(spec: NDArray[Any], ax: int, npts: int) -> NDArray[np.bool_]:
    """Modes standing out of the noise floor, per 1-D signal.

    White noise of standard deviation s has Fourier coefficients of
    Rayleigh-distributed magnitude with scale ``s sqrt(N/2)`` and median
    ``scale * sqrt(2 ln 2)``.  The scale is estimated from the median
    magnitude over the upper half of the frequencies (where a resolved
    signal has decayed) and modes below ``scale * sqrt(8 ln N)`` are
    dropped: a pure-noise mode survives with probability ``N**-4``.  (The
    universal threshold ``sqrt(2 ln N)`` lets one noise mode in about N
    through, and differentiation amplifies a stray high mode by ``k**n``.)
    """
    mag = np.abs(spec)
    upper = _upper_modes(mag.shape[ax], npts)
    if not np.any(upper):
        return np.ones(mag.shape, dtype=bool)
    med = np.median(np.compress(upper, mag, axis=ax), axis=ax, keepdims=True)
    scale = med / math.sqrt(2 * math.log(2))
    thresh = scale * math.sqrt(8 * math.log(max(npts, 2)))
    return np.asarray(mag > thresh)


def _spectral_xp(xp: Any, f: Any, h: float, n: int, ax: int, cutoff: Any) -> Any:
    """:func:`_spectral` in the array namespace `xp` (its ``fft`` extension).

    The wavenumbers, multipliers and cut-off are computed on the host as for
    NumPy data and moved to the device; the transforms, the products and
    the noise floor's median (a sort along the axis) run in the namespace.
    The dtypes are NumPy's: the multipliers are complex128, so the result
    is float64 (complex128 for complex data) whatever the input precision.
    """
    from array_api_compat import device

    dev = device(f)
    npts = f.shape[ax]
    real = not xp.isdtype(f.dtype, "complex floating")
    spec = xp.fft.rfft(f, axis=ax) if real else xp.fft.fft(f, axis=ax)
    k, mult = _wavenumbers(npts, h, n, real)
    shape = tuple(-1 if i == ax else 1 for i in range(f.ndim))
    if cutoff is None:
        keep = _auto_keep_xp(xp, spec, ax, npts)
    else:
        keep = xp.reshape(xp.asarray(_cutoff_keep(k, h, cutoff), device=dev), shape)
    m = xp.reshape(xp.asarray(mult, dtype=xp.complex128, device=dev), shape)
    spec = spec * m * xp.astype(keep, xp.complex128)
    if real:
        return xp.fft.irfft(spec, n=npts, axis=ax)
    return xp.fft.ifft(spec, axis=ax)


def _auto_keep_xp(xp: Any, spec: Any, ax: int, npts: int) -> Any:
    """:func:`_auto_keep` in the namespace `xp`: the median is a sort's middle."""
    from array_api_compat import device

    dev = device(spec)
    mag = xp.abs(spec)
    upper = np.flatnonzero(_upper_modes(mag.shape[ax], npts))
    if upper.size == 0:
        return xp.ones(tuple(mag.shape), dtype=xp.bool, device=dev)
    sel = xp.take(mag, xp.asarray(upper, device=dev), axis=ax)
    srt = xp.sort(sel, axis=ax)
    m = upper.size

    def mid(i: int) -> Any:
        idx: list[Any] = [slice(None)] * srt.ndim
        idx[ax] = slice(i, i + 1)
        return srt[tuple(idx)]

    # numpy.median: the middle element, or the mean of the two middle ones
    med = mid(m // 2) if m % 2 else (mid(m // 2 - 1) + mid(m // 2)) / 2
    scale = med / math.sqrt(2 * math.log(2))
    thresh = scale * math.sqrt(8 * math.log(max(npts, 2)))
    return mag > thresh


def smooth_derivative(
    y: ArrayLike,
    x: ArrayLike = 1.0,
    *,
    n: int = 1,
    method: str = "savgol",
    axis: int = -1,
    window: int | None = None,
    polyorder: int | None = None,
    lam: float | None = None,
    cutoff: float | None = None,
) -> NDArray[Any]:
    """Derivative of noisy samples, smoothed.

    Parameters
    ----------
    y : array_like
        Noisy samples.  With ``method="savgol"`` or ``"spectral"``, PyTorch,
        CuPy, JAX or array-api-strict arrays are differentiated in their own
        namespace and on their device (SciPy's filter matrix moved there and
        applied in float64; the namespace's ``fft``), giving arrays of that
        kind; ``"spline"`` needs NumPy arrays and refuses others with
        :class:`TypeError`.
    x : scalar or array_like, optional
        The spacing of a uniform grid (default 1) or the 1-D coordinates
        along `axis` (finite, strictly increasing).
    n : int, optional
        Derivative order.
    method : {"savgol", "spline", "spectral"}, optional
        ``"savgol"``: Savitzky-Golay, the derivative of a local least-squares
        polynomial (uniform grids).  ``"spline"``: the derivative of a cubic
        smoothing spline whose penalty is chosen by generalised
        cross-validation (any grid, ``n <= 3``).  ``"spectral"``: Fourier
        differentiation of periodic data on a uniform grid, with the modes
        below the noise floor removed.
    axis : int, optional
        The axis to differentiate along.
    window : int, optional
        ``"savgol"`` window length (odd).  Default: about a tenth of the
        number of points, ``2*(N//20) + 1``, and at least the smallest odd
        length above `polyorder`.
    polyorder : int, optional
        ``"savgol"`` polynomial degree.  Default ``n + 2``.
    lam : float, optional
        ``"spline"`` smoothing parameter, finite and ``>= 0`` (0
        interpolates).  Default: chosen by generalised cross-validation.
    cutoff : float, optional
        ``"spectral"`` low-pass cut-off as a fraction of the Nyquist
        frequency, in (0, 1].  Default: automatic, keep the modes that stand
        out of the estimated white-noise floor.

    Returns
    -------
    d : ndarray
        Same shape as `y`.  Complex `y` gives the derivatives of its real
        and imaginary parts, combined (every method is linear in `y`).

    Raises
    ------
    TypeError
        If `y` is not numeric, or is not a NumPy array with
        ``method="spline"``.
    ValueError
        If `method` is unknown, `n` is invalid, `y` has no points along
        `axis`, `x` is bad or not uniform for a method that needs it, or a
        method option is out of range.

    Notes
    -----
    Finite differences amplify noise of size ``s`` to about ``s / h**n``;
    these methods trade a bias (the smoothing) for a much smaller variance.
    Savitzky-Golay is a fixed linear filter, fast and local, with edges
    handled by fitting a polynomial to the end window.  The smoothing spline
    adapts its smoothing to the data.  Spectral differentiation is exact for
    band-limited periodic signals and converges faster than any power for
    smooth periodic ones; its automatic cut-off assumes the noise is white
    and the signal is resolved (its spectrum has decayed in the upper half
    of the frequencies).

    References
    ----------
    .. [1] A. Savitzky and M. J. E. Golay, "Smoothing and differentiation of
       data by simplified least squares procedures", Anal. Chem. 36 (1964).
    .. [2] P. Craven and G. Wahba, "Smoothing noisy data with spline
       functions", Numer. Math. 31 (1979), 377-403.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> rng = np.random.default_rng(0)
    >>> x = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    >>> y = np.sin(x) + 0.01 * rng.standard_normal(x.size)
    >>> naive = np.gradient(y, x)
    >>> for method in ("savgol", "spline", "spectral"):
    ...     d = nd.grid.smooth_derivative(y, x, method=method)
    ...     rms = np.sqrt(np.mean((d - np.cos(x)) ** 2))
    ...     print(method, bool(rms < 0.2 * np.sqrt(np.mean((naive - np.cos(x)) ** 2))))
    savgol True
    spline True
    spectral True
    """
    refuse_labelled_or_lazy(
        y, "smooth_derivative", "its fits need the whole axis in memory"
    )
    n = check_deriv(n)
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(
            f"method must be 'savgol', 'spline' or 'spectral', got {method!r}"
        )
    xp = foreign_namespace(y)
    if xp is not None:
        if method == "spline":
            raise refuse(xp, y, "smooth_derivative(method='spline')", _NEEDS_NUMPY)
        f, _ = data_array_xp(xp, y)
        x = host_array(x, "x")
    else:
        f = np.asarray(y)
        if f.dtype == np.bool_ or not np.issubdtype(f.dtype, np.number):
            raise TypeError(f"y must be numeric, got dtype {f.dtype}")
        if not np.issubdtype(f.dtype, np.inexact):
            f = f.astype(np.float64)
    if f.ndim == 0:
        raise ValueError("y must have at least one dimension, got a scalar")
    ax = normalize_axis_index(index(axis, "axis"), f.ndim)
    npts = f.shape[ax]
    if npts == 0:
        raise ValueError(
            f"y has no points along axis={axis} (shape {f.shape}): nothing to "
            f"differentiate"
        )
    info = spacing_for_axis(x, npts, name="x")
    if lam is not None:
        ok = isinstance(lam, (int, float, np.integer, np.floating)) and not isinstance(
            lam, (bool, np.bool_)
        )
        if not ok:
            raise TypeError(
                f"lam must be a number (the smoothing penalty), got lam={lam!r}"
            )
        if not (math.isfinite(float(lam)) and float(lam) >= 0):
            raise ValueError(
                f"lam must be a finite non-negative number (the smoothing "
                f"penalty), got lam={lam!r}"
            )
    if method == "spline":
        if info.uniform:
            xs = float(info.h) * np.arange(npts)
        else:
            assert info.x is not None
            xs = info.x.astype(np.float64)
        if xs[-1] < xs[0]:
            raise ValueError(
                f"method='spline' needs increasing x, got spacing {info.h!r}"
            )
        return _spline(f, xs, n, ax, lam)
    h = _uniform_step(info, x, method)
    if xp is not None and method == "savgol":
        return _savgol_xp(xp, f, h, n, ax, window, polyorder)
    if xp is not None:
        return _spectral_xp(xp, f, h, n, ax, cutoff)
    if method == "savgol":
        return _savgol(f, h, n, ax, window, polyorder)
    return _spectral(f, h, n, ax, cutoff)
