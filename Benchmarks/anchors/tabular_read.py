"""Anchor: reading a CSV with string columns and blanks (datagen --categorical/--missing) into a
DataFrame, types inferred and blanks as nulls, with polars and pandas (C engine). Ours does more
(one-hot matrix, indicators). Usage: python tabular_read.py FILE [threads]"""
import os, sys, time
path = sys.argv[1]; threads = sys.argv[2] if len(sys.argv) > 2 else "2"
os.environ["POLARS_MAX_THREADS"] = threads
import pandas as pd, polars as pl
size = os.path.getsize(path)
def t(name, fn):
    times = []
    for _ in range(3):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    dt = sorted(times)[1]
    print(f"{name}: {dt:.3f}s {size/dt/1e6:.0f} MB/s")
t(f"polars threads={threads}", lambda: pl.read_csv(path))
t("pandas c-engine", lambda: pd.read_csv(path, engine="c"))
