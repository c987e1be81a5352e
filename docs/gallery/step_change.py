"""Without the exact derivative: the change between successive steps.

The second derivative of exp at 1 by central differences of orders 2, 4
and 6.  The change |D(h_i) - D(h_(i+1))| falls like the error on the right
branch and shows the same round-off noise on the left one.
"""

import matplotlib.pyplot as plt
import numpy as np

import numderiv as nd

fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
nd.plot.step_error(np.exp, 1.0, n=2, methods="central", orders=(2, 4, 6), ax=ax)
