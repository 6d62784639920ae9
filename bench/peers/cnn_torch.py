#!/usr/bin/env python3
"""PyTorch peer for the strata CNN training benchmark (bench/peers/run_cnn.sh).

The digit CNN on the first N Fashion-MNIST training images (pixels / 255), batch 50,
Adam lr 1e-3, cross-entropy on logits, float32.  One step = zero_grad(set_to_none) +
forward + loss + backward + Adam step.  Prints
  RESULT pytorch cnn_train_b50 <samples_per_sec>
  RESULT pytorch cnn_infer_b1_us <median microseconds of one eval-mode batch-1 forward>

Env (shared with the other peers, see cnn_common.hpp):
  STRATA_BENCH_THREADS (2), STRATA_BENCH_FASHION_DIR (/usr/share/datasets/fashion-mnist),
  STRATA_BENCH_SAMPLES (10000), STRATA_BENCH_WARMUP (10), STRATA_BENCH_BATCHES (100),
  STRATA_BENCH_INFER_CALLS (500)
Run with the interpreter that has torch (Debian python3-torch: /usr/bin/python3).
"""
import gzip
import os
import statistics
import struct
import time

import torch
import torch.nn as nn

THREADS = int(os.environ.get("STRATA_BENCH_THREADS", "2"))
DIR = os.environ.get("STRATA_BENCH_FASHION_DIR", "/usr/share/datasets/fashion-mnist")
SAMPLES = int(os.environ.get("STRATA_BENCH_SAMPLES", "10000"))
WARMUP = int(os.environ.get("STRATA_BENCH_WARMUP", "10"))
BATCHES = int(os.environ.get("STRATA_BENCH_BATCHES", "100"))
INFER_CALLS = int(os.environ.get("STRATA_BENCH_INFER_CALLS", "500"))
INFER_WARMUP = 20
BATCH = 50

torch.set_num_threads(THREADS)
torch.manual_seed(0)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    t = torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8)
    return t.reshape(dims)


def main():
    images = read_idx(os.path.join(DIR, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DIR, "train-labels-idx1-ubyte.gz"))
    n = min(SAMPLES, images.shape[0])
    n -= n % BATCH
    x = (images[:n].to(torch.float32) / 255.0).reshape(n, 1, 28, 28).contiguous()
    y = labels[:n].to(torch.int64)
    xs = [x[i:i + BATCH].clone() for i in range(0, n, BATCH)]
    ys = [y[i:i + BATCH].clone() for i in range(0, n, BATCH)]

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(1152, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10),
        nn.BatchNorm1d(10))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    print(f"# pytorch {torch.__version__} threads={torch.get_num_threads()} samples={n} "
          f"warmup={WARMUP} batches={BATCHES} mkldnn={int(torch.backends.mkldnn.is_available())}", flush=True)

    model.train()
    k = 0
    last = 0.0

    def step():
        nonlocal k, last
        xb, yb = xs[k % len(xs)], ys[k % len(xs)]
        k += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        last = loss

    for _ in range(WARMUP):
        step()
    t0 = time.perf_counter()
    for _ in range(BATCHES):
        step()
    el = time.perf_counter() - t0
    print(f"# pytorch last training loss {float(last):.4f}", flush=True)
    print(f"RESULT pytorch cnn_train_b50 {BATCHES * BATCH / el:.1f}", flush=True)

    model.eval()
    singles = [x[i:i + 1].clone() for i in range(min(n, 1000))]
    us = []
    with torch.inference_mode():
        for i in range(INFER_WARMUP):
            model(singles[i % len(singles)])
        for i in range(INFER_CALLS):
            xi = singles[i % len(singles)]
            t0 = time.perf_counter()
            model(xi)
            us.append((time.perf_counter() - t0) * 1e6)
    print(f"RESULT pytorch cnn_infer_b1_us {statistics.median(us):.1f}", flush=True)


if __name__ == "__main__":
    main()
