"""Functions on a Dask cluster: a Jacobian of a slow f, Dask against serial.

f takes 20 ms per call (``time.sleep(0.02)`` plus cheap math), n = 64,
central differences (2n = 128 evaluations), on a ``LocalCluster`` of 2
worker processes of one thread each, against the serial call in the same
run.  The cluster's start-up is not timed; everything a call does is (the
scatter of f and x, the tasks, the gather).  Serial and Dask alternate, the
best of each over the rounds is kept.
"""

from __future__ import annotations

import time

import numpy as np

import numderiv as nd

try:
    from ._common import Row, best_time
except ImportError:  # run as a script
    from _common import Row, best_time  # type: ignore[no-redef]

N = 64
DELAY = 0.02  # seconds per call of f
ROUNDS = 3


def slow_f(x: np.ndarray) -> np.ndarray:
    """20 ms per call, then a cheap vector function of x."""
    time.sleep(DELAY)
    return np.cumsum(np.sin(x)) * x[::-1]


def run() -> list[Row]:
    from distributed import Client, LocalCluster

    x = np.linspace(-1.0, 1.0, N)
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        J_dask = nd.jacobian(slow_f, x, workers=client)  # warm: imports on workers
        J_ser = nd.jacobian(slow_f, x)
        same = J_dask.tobytes() == J_ser.tobytes()
        t_ser = t_dask = float("inf")
        for _ in range(ROUNDS):
            t_ser = min(t_ser, best_time(lambda: nd.jacobian(slow_f, x), repeat=1))
            t_dask = min(
                t_dask,
                best_time(lambda: nd.jacobian(slow_f, x, workers=client), repeat=1),
            )
    speedup = t_ser / t_dask
    return [
        Row(
            f"Jacobian n={N}, f 20 ms per call, central, workers=Client "
            "(2 local worker processes): numderiv on Dask / serial",
            t_dask,
            "serial numderiv.jacobian",
            t_ser,
            "speed-up >= 1.8 (ratio <= 0.556)",
            speedup >= 1.8 and same,
            notes=(
                f"speed-up {speedup:.2f}x; {2 * N} evaluations; scatter included, "
                "cluster start-up excluded; "
                + ("same values bit for bit" if same else "**values differ**")
            ),
        )
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
