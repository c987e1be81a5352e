"""Finite differences on a non-uniform grid, accuracy 4.

Samples of exp(-x^2) crowded near 0; weights from Fornberg's algorithm on
the actual nodes, one-sided at the ends.
"""

import matplotlib.pyplot as plt
import numpy as np

import numderiv as nd

x = np.sign(np.linspace(-1, 1, 41)) * np.linspace(-1, 1, 41) ** 2 * 3
y = np.exp(-(x**2))

fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
nd.plot.grid_derivative(y, x, accuracy=4, label="exp(-x²)", ax=ax)
