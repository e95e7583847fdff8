"""Anchor for issue 13's optional `--categorical-encoding embedding`: is a learned embedding worth it
on high-cardinality columns? Trains train's default network (hidden 8,9,5,4, SiLU, BatchNorm after
the activation, dropout 0.4, Adam lr 0.001, batches of 64, numeric columns standardised with the
training rows' mean and std) on one datagen file, with its categorical columns encoded three ways:

  top64      one-hot of the 63 most frequent training values and one "other" slot (train's default,
             --max-categories 64)
  onehot     one-hot of every training value, plus "other" for values unseen in training
  embedding  a learned embedding per column of fastai's size min(600, round(1.6 n^0.56)), n the
             column's training values plus one for unseen ones (fastai's Categorify + embedding, its
             default trunc-normal(0.01) initialisation)

One-hot is computed as a lookup of the first Linear's columns (the same product as a 0/1 matrix times
the weight, initialised as nn.Linear initialises the wide layer), so the times compare the encodings,
not a dense matrix against a lookup. Prints per encoding: inputs, parameters, test accuracy after each
epoch and at the end, and the median ms per training epoch (wall and process CPU).

    datagen --rows 100000 --features 8 --categorical 2 --cardinality 1000 --category-frequency zipf \\
        --format short --out z.csv
    /tmp/ref/bin/python Benchmarks/anchors/embedding_vs_onehot.py z.csv --epochs 10 --threads 2
"""
import argparse
import math
import statistics
import time

import numpy as np
import pandas as pd
import torch
from torch import nn


def split(frame, test_fraction, seed):
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(round(len(frame) * (1 - test_fraction)))
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


def vocabulary(train_values, limit):
    """Training values, most frequent first; with `limit`, the limit - 1 most frequent (the rest fold into other)."""
    counts = train_values.value_counts(sort=True)
    values = list(counts.index if limit is None else counts.index[: limit - 1])
    return {v: i for i, v in enumerate(values)}


def codes(values, vocab):
    """Slot per value; values outside the vocabulary (rare or unseen) go to the last slot, `len(vocab)`."""
    return torch.tensor(values.map(vocab).fillna(len(vocab)).to_numpy(np.int64))


class Blocks(nn.Module):
    """train's hidden blocks after the first Linear: act -> BatchNorm -> dropout, then Linear to the next width."""

    def __init__(self, widths, classes, dropout):
        super().__init__()
        layers = []
        for i, w in enumerate(widths):
            layers += [nn.SiLU(), nn.BatchNorm1d(w), nn.Dropout(dropout)]
            layers.append(nn.Linear(w, widths[i + 1] if i + 1 < len(widths) else classes))
        self.rest = nn.Sequential(*layers)

    def forward(self, z):
        return self.rest(z)


class OneHotNet(nn.Module):
    """First Linear over [numeric, one-hot of each column]: the one-hot part as a lookup of its weight columns."""

    def __init__(self, numeric, slots, widths, classes, dropout):
        super().__init__()
        fan_in = numeric + sum(slots)
        bound = 1 / math.sqrt(fan_in)
        self.numeric = nn.Linear(numeric, widths[0])
        nn.init.uniform_(self.numeric.weight, -bound, bound)
        nn.init.uniform_(self.numeric.bias, -bound, bound)
        self.columns = nn.ModuleList(nn.Embedding(n, widths[0]) for n in slots)
        for table in self.columns:
            nn.init.uniform_(table.weight, -bound, bound)
        self.rest = Blocks(widths, classes, dropout)

    def forward(self, x, c):
        z = self.numeric(x)
        for k, table in enumerate(self.columns):
            z = z + table(c[:, k])
        return self.rest(z)


class EmbeddingNet(nn.Module):
    """fastai's TabularModel shape: [numeric, embedding of each column] into the first Linear."""

    def __init__(self, numeric, slots, widths, classes, dropout):
        super().__init__()
        sizes = [min(600, round(1.6 * n ** 0.56)) for n in slots]
        self.columns = nn.ModuleList(nn.Embedding(n, d) for n, d in zip(slots, sizes))
        for table in self.columns:
            nn.init.trunc_normal_(table.weight, std=0.01, a=-0.02, b=0.02)
        self.first = nn.Linear(numeric + sum(sizes), widths[0])
        self.rest = Blocks(widths, classes, dropout)

    def forward(self, x, c):
        parts = [x] + [table(c[:, k]) for k, table in enumerate(self.columns)]
        return self.rest(self.first(torch.cat(parts, dim=1)))


def accuracy(model, x, c, y):
    model.eval()
    with torch.no_grad():
        return (model(x, c).argmax(1) == y).float().mean().item()


def train(model, data, epochs, batch, seed):
    (x, c, y), (tx, tc, ty) = data
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    wall, cpu, accuracies = [], [], []
    for _ in range(epochs):
        model.train()
        w0, c0 = time.perf_counter(), time.process_time()
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), batch):
            rows = order[start:start + batch]
            if len(rows) < 2:
                continue  # BatchNorm needs two rows
            optimizer.zero_grad()
            loss_fn(model(x[rows], c[rows]), y[rows]).backward()
            optimizer.step()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        accuracies.append(accuracy(model, tx, tc, ty))
    return accuracies, 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def tensors(frame, numeric, categorical, vocabs, mean, std, labels):
    x = torch.tensor(((frame[numeric].to_numpy(np.float64) - mean) / std).astype(np.float32))
    c = torch.stack([codes(frame[name], vocabs[name]) for name in categorical], dim=1)
    y = torch.tensor(frame["label"].map(labels).to_numpy(np.int64))
    return x, c, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encodings", default="top64,onehot,embedding")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    frame = pd.read_csv(args.file, dtype={"label": str}, keep_default_na=False)
    categorical = [n for n in frame.columns if n.startswith("c") and n[1:].isdigit()]
    numeric = [n for n in frame.columns if n not in categorical and n != "label"]
    train_frame, test_frame = split(frame, 0.2, 33)
    labels = {v: i for i, v in enumerate(sorted(train_frame["label"].unique()))}
    mean = train_frame[numeric].to_numpy(np.float64).mean(0)
    std = train_frame[numeric].to_numpy(np.float64).std(0)
    widths, dropout = [8, 9, 5, 4], 0.4
    cardinality = {n: train_frame[n].nunique() for n in categorical}
    print(f"{args.file}: {len(train_frame)} train, {len(test_frame)} test rows, {len(numeric)} numeric, "
          f"categorical {cardinality} (training values), {args.epochs} epochs, {args.threads} threads")
    for name in args.encodings.split(","):
        limit = 64 if name == "top64" else None
        vocabs = {n: vocabulary(train_frame[n], limit) for n in categorical}
        data = [tensors(f, numeric, categorical, vocabs, mean, std, labels) for f in (train_frame, test_frame)]
        slots = [len(vocabs[n]) + 1 for n in categorical]
        torch.manual_seed(args.seed)
        kind = EmbeddingNet if name == "embedding" else OneHotNet
        model = kind(len(numeric), slots, widths, len(labels), dropout)
        inputs = len(numeric) + (sum(slots) if kind is OneHotNet else model.first.in_features - len(numeric))
        parameters = sum(p.numel() for p in model.parameters())
        accuracies, wall, cpu = train(model, data, args.epochs, 64, args.seed)
        print(f"{name:10s} inputs {inputs:6d}  parameters {parameters:8d}  test accuracy {accuracies[-1]:.4f} "
              f"(best {max(accuracies):.4f})  ms/epoch wall {wall:7.0f}  cpu {cpu:7.0f}  "
              f"per epoch: {' '.join(f'{a:.3f}' for a in accuracies)}", flush=True)


if __name__ == "__main__":
    main()
