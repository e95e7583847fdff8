"""Anchor: the seed network and recipe (4-8-9-5-4-2, affine activation, BatchNorm1d, dropout 0.4,
Adam 0.001) in PyTorch on ROWS synthetic rows, full batch or mini-batches of BATCH rows; ms per epoch
and samples/s. Usage: python torch_seed_rows.py ROWS [threads] [epochs] [batch]
(needs the venv of ../shared/anchors)"""
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
rows = int(sys.argv[1]); threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
batch = int(sys.argv[4]) if len(sys.argv) > 4 else rows
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
print(f"torch seed network: rows={rows} batch={batch} threads={threads}: {ms:.3f} ms/epoch (median of 5), {rows / ms * 1e3:.0f} samples/s")
