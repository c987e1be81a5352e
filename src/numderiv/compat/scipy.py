"""SciPy's ``approx_derivative`` family (in progress)."""

from __future__ import annotations

__all__: list[str] = []
