"""Anchor: the seed network and recipe (4-8-9-5-4-2, affine activation, BatchNorm1d, dropout 0.4,
Adam 0.001) in PyTorch on ROWS synthetic rows, full batch or mini-batches of BATCH rows; ms per epoch
and samples/s. With --json, one JSON line instead, as `bench seed --json` writes (its "anchor" field
names this script), for Benchmarks/scripts/tables.sh.
Usage: python torch_seed_rows.py ROWS [threads] [epochs] [batch] [--json]
(needs the venv of ../shared/anchors)"""
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F
as_json = "--json" in sys.argv
args = [a for a in sys.argv[1:] if a != "--json"]
rows = int(args[0]); threads = int(args[1]) if len(args) > 1 else 1
epochs = int(args[2]) if len(args) > 2 else 5
batch = int(args[3]) if len(args) > 3 else rows
torch.set_num_threads(threads); torch.manual_seed(0)
class Act(nn.Module):
    def __init__(s): super().__init__(); s.alpha = nn.Parameter(torch.tensor(0.0)); s.beta = nn.Parameter(torch.tensor(0.0))
    def forward(s, x): return s.alpha + s.beta * x
layers = []; d = 4
for h in (8, 9, 5, 4): layers += [nn.Linear(d, h), Act(), nn.BatchNorm1d(h), nn.Dropout(0.4)]; d = h
m = nn.Sequential(*layers, nn.Linear(d, 2), nn.LogSoftmax(1)); opt = torch.optim.Adam(m.parameters(), 1e-3)
X = torch.randn(rows, 4); y = (X[:, 0] * X[:, 1] > 0).long()
def epoch():
    for i in range(0, rows, batch):
        loss = F.nll_loss(m(X[i:i + batch]), y[i:i + batch]); opt.zero_grad(); loss.backward(); opt.step()
epoch()
times = []
for _ in range(5):
    t0 = time.perf_counter()
    for _ in range(epochs): epoch()
    times.append((time.perf_counter() - t0) / epochs)
ms = sorted(times)[2] * 1e3
if as_json:
    print(json.dumps({"bench": "seed", "anchor": f"PyTorch {torch.__version__}", "rows": rows, "batch_size": batch,
                      "threads": threads, "epochs": epochs, "ms_per_epoch": ms, "samples_per_second": rows / ms * 1e3}))
else:
    print(f"torch seed network: rows={rows} batch={batch} threads={threads}: {ms:.3f} ms/epoch (median of 5), {rows / ms * 1e3:.0f} samples/s")
