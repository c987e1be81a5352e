"""Noisy samples and a smoothed derivative (Savitzky-Golay and spline).

sin on 200 points with Gaussian noise of 0.05: plain differences would
amplify the noise by 1/h; smooth_derivative fits it first.  The exact
derivative cos is drawn dotted.
"""

import matplotlib.pyplot as plt
import numpy as np

import numderiv as nd

rng = np.random.default_rng(7)
t = np.linspace(0, 2 * np.pi, 200)
y = np.sin(t) + 0.05 * rng.standard_normal(t.size)

fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.4), layout="constrained")
for ax, method in ((top, "savgol"), (bottom, "spline")):
    nd.plot.grid_derivative(y, t, smooth=method, ax=ax, dax=ax)
    ax.plot(t, np.cos(t), "k:", lw=1, label="exact cos")
    ax.legend(fontsize="small", loc="lower left")
    ax.set_title(f"smooth={method!r}")
