"""numderiv: numerical differentiation of functions and of gridded data."""

from . import grid
from ._stencil import Stencil, fornberg_weights

__all__ = ["Stencil", "fornberg_weights", "grid"]
__version__ = "0.1.0"
