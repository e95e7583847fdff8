"""Anchor: numpy's BLAS sgemm GFLOP/s at the shapes `bench gemm` measures (the trainer's Linear layers:
NT = X W^T, NN = dY W, TN = dY^T X), median of 5 timings of >= 0.2 s each. Includes numpy's call
overhead (~1 us), which matters for the seed's tiny products. With --json, one JSON line per shape, as
`bench gemm --json` writes (its "anchor" field names numpy), for Benchmarks/scripts/tables.sh.
Usage: OPENBLAS_NUM_THREADS=1 python sgemm_shapes.py [--json]"""
import json, sys, time, numpy as np
shapes = [("NN", 1024, 1024, 1024), ("NT", 1024, 512, 28), ("TN", 512, 28, 1024), ("NT", 1024, 512, 512),
          ("NN", 1024, 512, 512), ("TN", 512, 512, 1024), ("NT", 1024, 2, 512), ("NN", 1024, 512, 2), ("TN", 2, 512, 1024),
          ("NT", 1100, 8, 4), ("TN", 8, 4, 1100), ("NT", 1100, 9, 8), ("NN", 1100, 8, 9), ("TN", 9, 8, 1100),
          ("NT", 1100, 5, 9), ("NN", 1100, 9, 5), ("TN", 5, 9, 1100), ("NT", 1100, 2, 4), ("TN", 2, 4, 1100)]
for kind, m, n, k in shapes:
    a = np.random.rand(k, m).astype(np.float32).T if kind == "TN" else np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(n, k).astype(np.float32).T if kind == "NT" else np.random.rand(k, n).astype(np.float32)
    c = np.empty((m, n), np.float32)
    np.matmul(a, b, out=c)
    times = []
    for _ in range(5):
        reps = 0; t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.2: np.matmul(a, b, out=c); reps += 1
        times.append((time.perf_counter() - t0) / reps)
    gflops = 2 * m * n * k / sorted(times)[2] / 1e9
    if "--json" in sys.argv:
        print(json.dumps({"bench": "gemm", "anchor": f"numpy {np.__version__}", "shape": f"{kind} {m}x{n}x{k}", "m": m, "n": n, "k": k,
                          "gflops": gflops}))
    else:
        print(f"{kind} {m}x{n}x{k}: {gflops:.1f} GFLOP/s")
