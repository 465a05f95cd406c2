#!/usr/bin/env python3
"""Independent PyTorch reference for attack parts (TI, DI, SI, Admix), for PartsParityTest.

Usage: reference_parts.py DIR. For every DIR/<case>.json it reads <case>.x.f32 (raw little-endian
float32, shape "shape") and <case>.w.f32 (weights of the output), applies the part, and writes
<case>.out.f32 (the output) and <case>.grad.f32 (d sum(out * w) / d x). Written from the papers'
official code / TransferAttack, not from the Java code.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape).copy())


def kernel(kind, size, nsig):
    if kind == "gaussian":  # TransferAttack / official TI gkern, st.norm.pdf without scipy
        x = np.linspace(-nsig, nsig, size)
        k1 = np.exp(-x * x / 2.0) / math.sqrt(2 * math.pi)
    elif kind == "uniform":
        k1 = np.ones(size)
    elif kind == "linear":  # TransferAttack lkern
        k1 = 1 - np.abs(np.linspace((-size + 1) / 2, (size - 1) / 2, size) / (size + 1) * 2)
    else:
        raise ValueError(kind)
    k = np.outer(k1, k1)
    k = k / np.sum(k)
    k = np.expand_dims(np.stack([k, k, k]), 1)
    return torch.from_numpy(k.astype(np.float32))


def resize(x, size):
    """Bilinear, align_corners=False, in float64 (the spec of advspark's resize; see reference_attack)."""
    return F.interpolate(x.double(), size=size, mode="bilinear", align_corners=False).float()


def di(x, c):
    h, w = x.shape[-2], x.shape[-1]
    side = int(math.floor(h * c["resize"]))
    outs = []
    for r, (rnd, top, left, on) in enumerate(c["plans"]):
        xi = x[r:r + 1]
        if on:
            t = resize(xi, [rnd, rnd])
            rem = side - rnd
            t = F.pad(t, [left, rem - left, top, rem - top], value=0)
            xi = resize(t, [h, w])
        outs.append(xi)
    return torch.cat(outs, 0)


def admix(x, c, clean):
    mixed = []
    for j in range(c["mixes"]):
        idx = torch.tensor([p[j] for p in c["partners"]], dtype=torch.long)
        mixed.append(x + c["strength"] * clean[idx].detach())
    m = torch.cat(mixed, 0)
    return torch.cat([m / (2 ** i) for i in range(c["scales"])], 0)


def run(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        c = json.load(f)
    x = load(os.path.join(d, name + ".x.f32"), c["shape"]).requires_grad_(True)
    op = c["op"]
    if op == "ti":
        out = F.conv2d(x, kernel(c["kernel"], c["size"], c["sigma"]), stride=1,
                       padding=(c["size"] - 1) // 2, groups=3)
    elif op == "di":
        out = di(x, c)
    elif op == "si":
        out = torch.cat([x / (2 ** i) for i in range(c["copies"])], 0)
    elif op == "admix":
        out = admix(x, c, load(os.path.join(d, name + ".clean.f32"), c["clean_shape"]))
    else:
        raise ValueError(op)
    w = load(os.path.join(d, name + ".w.f32"), list(out.shape))
    (out * w).sum().backward()
    out.detach().numpy().astype("<f4").tofile(os.path.join(d, name + ".out.f32"))
    x.grad.numpy().astype("<f4").tofile(os.path.join(d, name + ".grad.f32"))
    print(name, list(out.shape))


def main():
    torch.set_num_threads(1)
    d = sys.argv[1]
    for f in sorted(os.listdir(d)):
        if f.endswith(".json"):
            run(d, f[:-5])


if __name__ == "__main__":
    main()
