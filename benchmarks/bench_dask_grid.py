"""Grid derivatives larger than memory: ``nd.grid.derivative`` on a Dask array.

A float64 field of 4 GiB (``NUMDERIV_BENCH_DASK_GIB`` to change it, e.g. 0.5
for a quick run) in 64 MiB chunks is built lazily from its index,
``y[i, j] = sin(a i) + cos(b j)``, differentiated along the chunked axis at
accuracy 4 with Dask's threaded scheduler, and reduced with ``.sum()``, so
neither the field nor its derivative is ever held in memory.  The run is
made in a child process, whose peak resident set size (``ru_maxrss``, the
whole process: interpreter, libraries, every chunk in flight) is the memory
figure; the target is below 2 GiB.  The sum is checked against the exact
derivative's.

Rows:

- peak RSS of the child against the 2 GiB limit;
- throughput (GB of field per second) of the whole lazy pipeline against
  the in-memory NumPy path, ``nd.grid.derivative`` on a 256 MiB array that
  is already in memory (same axis, same accuracy, best of 3): the price of
  never holding the field, its generation included;
- the same pipeline without the derivative (generation and sum alone), so
  the derivative's own share can be read off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, best_time

import numderiv as nd

NCOLS = 4096
CHUNK_ROWS = 2048  # 2048 x 4096 float64 = 64 MiB
A, B = 1e-4, 3e-3
LIMIT_GIB = 2.0


def _field_block(block_info=None):
    """One chunk of the field, from its location in the array."""
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    i = np.arange(r0, r1, dtype=np.float64)
    j = np.arange(c0, c1, dtype=np.float64)
    return np.sin(A * i)[:, None] + np.cos(B * j)[None, :]


def _child(gib: float) -> dict[str, float]:
    import resource

    import dask
    import dask.array as da

    nrows = max(CHUNK_ROWS, int(gib * 2**30 / 8 / NCOLS) // CHUNK_ROWS * CHUNK_ROWS)
    shape = (nrows, NCOLS)
    y = da.map_blocks(
        _field_block,
        chunks=((CHUNK_ROWS,) * (nrows // CHUNK_ROWS), (NCOLS,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    assert y.shape == shape
    with dask.config.set(scheduler="threads"):
        t0 = time.perf_counter()
        base = float(y.sum().compute())
        t_gen = time.perf_counter() - t0
        d = nd.grid.derivative(y, 1.0, axis=0, accuracy=4)
        t0 = time.perf_counter()
        total = float(d.sum().compute())
        t_der = time.perf_counter() - t0
    # exact: sum_i a cos(a i) over the rows, times the number of columns
    exact = NCOLS * float(np.sum(A * np.cos(A * np.arange(nrows, dtype=np.float64))))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30
    return {
        "bytes": float(nrows * NCOLS * 8),
        "t_gen": t_gen,
        "t_der": t_der,
        "rel_err": abs(total - exact) / abs(exact),
        "base": base,
        "peak_gib": peak,
        "nchunks": float(nrows // CHUNK_ROWS),
    }


def _in_memory() -> float:
    """GB/s of the in-memory path on 256 MiB (8192 x 4096 float64)."""
    i = np.arange(8192, dtype=np.float64)
    j = np.arange(NCOLS, dtype=np.float64)
    y = np.sin(A * i)[:, None] + np.cos(B * j)[None, :]
    t = best_time(lambda: nd.grid.derivative(y, 1.0, axis=0, accuracy=4), repeat=3)
    return y.nbytes / t / 1e9


def run() -> list[Row]:
    gib = float(os.environ.get("NUMDERIV_BENCH_DASK_GIB", "4"))
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(gib)],
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    mem = _in_memory()
    size = res["bytes"] / 2**30
    gbs = res["bytes"] / res["t_der"] / 1e9
    gen = res["bytes"] / res["t_gen"] / 1e9
    note = (
        f"{size:.3g} GiB in {res['nchunks']:.0f} chunks of 64 MiB, accuracy 4, "
        f"threaded scheduler; sum within {res['rel_err']:.1e} of the exact one"
    )
    return [
        Row(
            "grid.derivative on Dask, float64 field: peak RSS of the process",
            res["peak_gib"],
            "limit",
            LIMIT_GIB,
            "peak < 2 GiB",
            res["peak_gib"] < LIMIT_GIB and res["rel_err"] < 1e-8,
            unit="GiB",
            notes=note,
        ),
        Row(
            "grid.derivative on Dask: throughput (generate + differentiate + sum)",
            gbs,
            "in-memory grid.derivative, 256 MiB",
            mem,
            "reported (GB/s; higher is better)",
            True,
            unit="GB/s",
            notes=note,
        ),
        Row(
            "the same Dask pipeline without the derivative (generate + sum)",
            gen,
            "in-memory grid.derivative, 256 MiB",
            mem,
            "reported (GB/s; higher is better)",
            True,
            unit="GB/s",
            notes="the derivative's share: 1/derivative - 1/this",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(float(sys.argv[2]))))
    else:
        for row in run():
            print(row)
