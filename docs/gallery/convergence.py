"""Convergence: the truncation branch, with each order's fitted slope.

d/dx sin(x) at 1; forward differences of orders 1 and 2, central ones of
orders 2, 4 and 6.  The dashed lines have slope exactly the order.
"""

import matplotlib.pyplot as plt
import numpy as np

import numderiv as nd

fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
nd.plot.convergence(
    np.sin,
    1.0,
    exact=np.cos(1.0),
    orders={"forward": (1, 2), "central": (2, 4, 6)},
    ax=ax,
)
