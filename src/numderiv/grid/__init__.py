"""Derivatives of data sampled on grids (filled in by the grid work)."""

__all__: list[str] = []
