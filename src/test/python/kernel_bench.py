#!/usr/bin/env python3
"""PyTorch side of advspark's kernel benchmark (see io.advspark.bench.KernelBench).

Usage: kernel_bench.py THREADS BATCH REPS DATA_DIR LABEL_BASE TRACE_OR_- MODEL.pt...
One JSON line per model: the median time of the TorchScript model's forward (no grad) and
forward+backward to the input, on a random batch at the card's input size, after two warm-up
rounds. Then the ensemble gradient step of the benchmark round on the first BATCH images (the
reference's own code path: reference_attack.Ensemble + CE), optionally with a profiler trace.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_attack import Ensemble, Member, read_dataset, read_png  # noqa: E402


def main(argv):
    threads, batch, reps = int(argv[0]), int(argv[1]), int(argv[2])
    data, label_base, trace, models = argv[3], int(argv[4]), argv[5], argv[6:]
    torch.set_num_threads(threads)
    for path in models:
        with open(path[:-3] + ".json") as f:
            card = json.load(f)
        model = torch.jit.load(path, map_location="cpu").eval()
        for p in model.parameters():
            p.requires_grad_(False)
        torch.manual_seed(0)
        x = torch.rand(batch, 3, *card["input_size"]) * 2 - 1
        fwd, bwd = [], []
        for r in range(-2, reps):
            t0 = time.perf_counter()
            with torch.no_grad():
                model(x)
            t1 = time.perf_counter()
            xi = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(model(xi).sum(), xi)
            t2 = time.perf_counter()
            if r >= 0:
                fwd.append((t1 - t0) * 1e3)
                bwd.append((t2 - t1) * 1e3)
        print(json.dumps(dict(model=card["name"], forward_ms=round(statistics.median(fwd), 3),
                              forward_backward_ms=round(statistics.median(bwd), 3))), flush=True)

    ens = Ensemble([Member(p, 1.0) for p in models])
    rows = read_dataset(data, label_base, batch)
    x = torch.stack([read_png(r["path"]) for r in rows]).float() / 255.0
    y = torch.tensor([r["label0"] for r in rows], dtype=torch.int64)
    times = []

    def step():
        xi = x.clone().requires_grad_(True)
        loss = F.cross_entropy(ens.logits(xi), y, reduction="sum")
        torch.autograd.grad(loss, xi)

    for _ in range(2):
        step()
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    if trace != "-":  # separate steps: the profiler's own cost stays out of the timing
        with torch.autograd.profiler.profile() as prof:
            for _ in range(reps):
                step()
        prof.export_chrome_trace(trace)
    print(json.dumps({"model": "ensemble step", "forward_backward_ms": round(statistics.median(times), 3)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
