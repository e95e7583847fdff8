"""Anchor for `bench csv`: an all-numeric CSV without a header (HIGGS-shaped: datagen --label first
--no-header) read into a float32 matrix by polars and pandas (C engine). Prints each reader's median
of `runs` timed reads after one untimed read, in seconds and MB/s.
Usage: python csv_read.py FILE [threads] [runs]"""
import os, statistics, sys, time
path = sys.argv[1]
threads = sys.argv[2] if len(sys.argv) > 2 else "2"
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
os.environ["POLARS_MAX_THREADS"] = threads  # before polars is imported
import numpy as np, pandas as pd, polars as pl

size = os.path.getsize(path)

def median_seconds(name, read):
    read()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(f"{name}: {seconds:.3f} s {size / seconds / 1e6:.0f} MB/s (runs: {', '.join(f'{t:.3f}' for t in times)})")

median_seconds(f"polars threads={threads}", lambda: pl.read_csv(path, has_header=False).to_numpy().astype(np.float32))
median_seconds("pandas c-engine", lambda: pd.read_csv(path, header=None, dtype=np.float32, engine="c").to_numpy())
