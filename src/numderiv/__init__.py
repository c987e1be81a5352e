"""numderiv: numerical differentiation of functions and of gridded data.

Derivatives of callables (:func:`derivative`, :func:`gradient`,
:func:`jacobian`, :func:`hessian`, :func:`jvp`, :func:`hvp`) share one
engine of stencils, steps and evaluation; :mod:`numderiv.grid` differentiates
sampled data with the same stencils.
"""

from . import compat, grid, testing
from ._check import DerivativeCheck, check_derivative
from ._functions import derivative, gradient, hessian, hvp, jacobian, jvp
from ._noise import noise_level
from ._result import Info
from ._sparse import check_groups, color_columns
from ._stencil import Stencil, fornberg_weights
from ._taylor import taylor

__all__ = [
    "DerivativeCheck",
    "Info",
    "Stencil",
    "check_derivative",
    "check_groups",
    "color_columns",
    "compat",
    "derivative",
    "fornberg_weights",
    "gradient",
    "grid",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "noise_level",
    "taylor",
    "testing",
]
__version__ = "0.1.0"

from typing import Any as _Any  # for __getattr__ only


def __getattr__(name: str) -> _Any:
    # nd.plot is imported on first use, so that "import numderiv" never
    # imports matplotlib (the optional "plot" extra); for the same reason it
    # is not in __all__ ("from numderiv import *" stays cheap).
    if name == "plot":
        import importlib

        return importlib.import_module(f"{__name__}.plot")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
