"""The V curve of Scilab's help page: d/dx sqrt(x) at 1, exactly 1/2."""

import matplotlib.pyplot as plt
import numpy as np

import numderiv as nd

fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
nd.plot.step_error(np.sqrt, 1.0, exact=0.5, ax=ax)
