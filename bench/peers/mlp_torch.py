#!/usr/bin/env python3
"""PyTorch peer for the strata MLP training-step benchmark.

One step = zero_grad (set_to_none) + forward + loss + backward + Adam step.
Prints one line per case:  RESULT pytorch <case> <steps_per_sec>

Env:
  STRATA_BENCH_THREADS  intra-op threads (default 2) -> torch.set_num_threads
  STRATA_BENCH_SECONDS  timed seconds per case (default 2)
  STRATA_BENCH_POOL     number of pre-generated batches cycled through (default 64)
  STRATA_BENCH_FTZ=1    torch.set_flush_denormal(True) (default off)
Run with the interpreter that has torch (Debian python3-torch: /usr/bin/python3).
"""
import os
import sys
import time

import torch
import torch.nn as nn

THREADS = int(os.environ.get("STRATA_BENCH_THREADS", "2"))
SECONDS = float(os.environ.get("STRATA_BENCH_SECONDS", "2"))
POOL = int(os.environ.get("STRATA_BENCH_POOL", "64"))
FTZ = os.environ.get("STRATA_BENCH_FTZ", "0") not in ("", "0")
WARMUP_SECONDS = 0.3

torch.set_num_threads(THREADS)
torch.manual_seed(0)
if FTZ:
    torch.set_flush_denormal(True)


def make_case(name):
    if name.startswith("mlp_small"):
        batch = 10 if name == "mlp_small_b10" else 400
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
        xs = torch.randn(POOL, batch, 2)
        ys = torch.randn(POOL, batch, 1)
        loss_fn = nn.MSELoss()
    else:  # mlp_784_b50
        batch = 50
        model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10))
        xs = torch.randn(POOL, batch, 784)
        ys = torch.randint(0, 10, (POOL, batch), dtype=torch.int64)
        loss_fn = nn.CrossEntropyLoss()
    # Separate contiguous tensors per batch (like the C++ peers' pools).
    xs = [xs[i].clone() for i in range(POOL)]
    ys = [ys[i].clone() for i in range(POOL)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, loss_fn, opt, xs, ys


def run_case(name):
    model, loss_fn, opt, xs, ys = make_case(name)
    i = 0

    def step():
        nonlocal i
        x = xs[i]
        y = ys[i]
        i = (i + 1) % POOL
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    # Warm-up (time based) and chunk-size estimate.
    t0 = time.perf_counter()
    n = 0
    while True:
        step()
        n += 1
        el = time.perf_counter() - t0
        if el >= WARMUP_SECONDS and n >= 10:
            break
    chunk = max(1, int(n / el * SECONDS / 200))

    steps = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(chunk):
            step()
        steps += chunk
        el = time.perf_counter() - t0
        if el >= SECONDS:
            break
    return steps / el


def main():
    cases = sys.argv[1:] or ["mlp_small_b10", "mlp_small_b400", "mlp_784_b50"]
    print(f"# pytorch {torch.__version__} threads={torch.get_num_threads()} ftz={int(FTZ)}", flush=True)
    for c in cases:
        print(f"RESULT pytorch {c} {run_case(c):.1f}", flush=True)


if __name__ == "__main__":
    main()
