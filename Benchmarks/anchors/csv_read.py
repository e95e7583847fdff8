"""Anchor for `bench csv`: an all-numeric CSV without a header (HIGGS-shaped: datagen --label first
--no-header) read into a float32 matrix by polars and pandas (C engine). Prints each reader's median
of `runs` timed reads after one untimed read, in seconds and MB/s. With --json, one JSON line per
reader instead, as `bench csv --json` writes (its "anchor" field names the reader), for
Benchmarks/scripts/tables.sh.
Usage: python csv_read.py FILE [threads] [runs] [--json]"""
import json, os, statistics, sys, time
as_json = "--json" in sys.argv
args = [a for a in sys.argv[1:] if a != "--json"]
path = args[0]
threads = args[1] if len(args) > 1 else "2"
runs = int(args[2]) if len(args) > 2 else 3
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
    if as_json:
        print(json.dumps({"bench": "csv", "anchor": name, "file": path, "bytes": size, "threads": int(threads),
                          "load_seconds": seconds, "load_mb_per_second": size / seconds / 1e6}))
        return
    print(f"{name}: {seconds:.3f} s {size / seconds / 1e6:.0f} MB/s (runs: {', '.join(f'{t:.3f}' for t in times)})")

median_seconds(f"polars {pl.__version__}", lambda: pl.read_csv(path, has_header=False).to_numpy().astype(np.float32))
median_seconds(f"pandas {pd.__version__}", lambda: pd.read_csv(path, header=None, dtype=np.float32, engine="c").to_numpy())
