#!/usr/bin/env python3
"""Independent reference for advspark's tensor-stage defenses (randomized smoothing and
purifiers), in PyTorch (/usr/bin/python3, torch 1.13), with PIL decoding.

    reference_defenses.py JOB.json OUT.json

JOB: {"model": M.pt, "purifier": P.pt or null, "sigma": s, "n": n,
      "images": [{"id": ..., "path": PNG, "seed": long}, ...]}
OUT: {"<id>": {"top1": undefended top-1, "purified_top1": top-1 after the purifier (or null),
               "counts": [votes per class] or null when n == 0}}

Randomized smoothing (Cohen et al., ICML 2019, PREDICT without abstention): the image x
(float32, v / 255) gets n copies x + float32(sigma * g), g drawn from java.util.Random(seed)
.nextGaussian() in copy, channel, row, column order, replayed here bit for bit (48-bit LCG, polar
method); each copy goes through the purifier (if any) and the model; counts[c] is how many copies
the model assigns to class c (argmax of the card's dataset columns). The purifier, when given,
runs before the noise (chain `purify(...) > rs(...) > model`).
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_attack import Member, read_png  # noqa: E402

MASK48 = (1 << 48) - 1


class JavaRandom:
    """java.util.Random, the methods advspark's rs stage uses."""

    def __init__(self, seed):
        self.seed = (seed ^ 0x5DEECE66D) & MASK48
        self.next_next = None

    def next(self, bits):
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & MASK48
        r = self.seed >> (48 - bits)
        return r - (1 << 32) if r >= (1 << 31) else r

    def next_double(self):
        return ((self.next(26) << 27) + self.next(27)) * (1.0 / (1 << 53))

    def next_gaussian(self):
        if self.next_next is not None:
            g, self.next_next = self.next_next, None
            return g
        while True:
            v1 = 2 * self.next_double() - 1
            v2 = 2 * self.next_double() - 1
            s = v1 * v1 + v2 * v2
            if 0 < s < 1:
                break
        m = math.sqrt(-2 * math.log(s) / s)
        self.next_next = v2 * m
        return v1 * m


def main():
    job_path, out_path = sys.argv[1], sys.argv[2]
    with open(job_path) as f:
        job = json.load(f)
    torch.set_num_threads(1)
    member = Member(job["model"], 1.0)
    purifier = torch.jit.load(job["purifier"]).eval() if job.get("purifier") else None
    sigma, n = float(job["sigma"]), int(job["n"])
    out = {}
    with torch.no_grad():
        for im in job["images"]:
            x = read_png(im["path"]).float().unsqueeze(0).numpy().astype(np.float32) / np.float32(255.0)
            x = torch.from_numpy(x)
            top1 = int(member.logits(x).argmax(1)[0])
            purified_top1 = None
            if purifier is not None:
                x = purifier(x)
                purified_top1 = int(member.logits(x).argmax(1)[0])
            counts = None
            if n > 0:
                rnd = JavaRandom(int(im["seed"]))
                per = x.numel()
                noise = np.empty(n * per, dtype=np.float32)
                for i in range(n * per):
                    noise[i] = sigma * rnd.next_gaussian()  # rounded to float32 on store, as Java's (float) cast
                noisy = x.numpy().reshape(1, -1) + noise.reshape(n, per)  # float32 + float32
                preds = member.logits(torch.from_numpy(noisy.reshape(n, *x.shape[1:]))).argmax(1)
                counts = np.bincount(preds.numpy(), minlength=member.classes).tolist()
            out[im["id"]] = {"top1": top1, "purified_top1": purified_top1, "counts": counts}
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
