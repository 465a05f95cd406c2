#!/usr/bin/env python3
"""Independent PyTorch reference for attack parts (TI, DI, SI, Admix, the perturbation filters), for
TransformParityTest.

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


def gaussian_filter(x, sigma):
    """Per channel, a normalised 2-D Gaussian of pixel std sigma, radius ceil(3 sigma), zero padding.

    Weights exp(-(i^2 + j^2) / (2 sigma^2)) for i, j in [-r, r], divided by their sum (float64),
    rounded to float32; F.conv2d stride 1, padding r, groups = C (the output keeps the size).
    """
    r = int(math.ceil(3 * sigma))
    i = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-(i[:, None] ** 2 + i[None, :] ** 2) / (2 * sigma * sigma))
    k = k / k.sum()
    c = x.shape[1]
    w = torch.from_numpy(np.broadcast_to(k, (c, 1, 2 * r + 1, 2 * r + 1)).astype(np.float32).copy())
    return F.conv2d(x, w.to(x.dtype), stride=1, padding=r, groups=c)


def dct_matrix(n):
    """The orthonormal n-point DCT-II as a matrix, from numpy's FFT (not from the cosine formula).

    DCT-II via the FFT of the mirrored signal [v, v reversed] (length 2n): X_k = Re(exp(-i pi k /
    (2n)) FFT_k) / 2; orthonormal scaling sqrt(1/n) for k = 0, sqrt(2/n) otherwise. Column j is the
    transform of the unit vector e_j.
    """
    eye = np.eye(n)
    mirrored = np.concatenate([eye, eye[::-1]], axis=0)  # each column j: [e_j, reversed e_j]
    spec = np.fft.fft(mirrored, axis=0)[:n]
    k = np.arange(n)[:, None]
    d = np.real(np.exp(-1j * np.pi * k / (2 * n)) * spec) / 2
    d[0] *= math.sqrt(1.0 / n)
    d[1:] *= math.sqrt(2.0 / n)
    assert np.allclose(d @ d.T, np.eye(n), atol=1e-12), "DCT-II matrix is not orthonormal"
    return d


def dct_filter(x, keep):
    """Per channel: orthonormal 2-D DCT-II, keep the lowest kh x kw coefficients, inverse DCT.

    kh = clamp(floor(sqrt(keep) H + 0.5), 1, H), kw likewise with W (so about keep of the
    coefficients). Computed in float64, rounded to the input's type; differentiable.
    """
    h, w = x.shape[-2], x.shape[-1]
    kh = min(h, max(1, int(math.floor(math.sqrt(keep) * h + 0.5))))
    kw = min(w, max(1, int(math.floor(math.sqrt(keep) * w + 0.5))))
    dh, dw = torch.from_numpy(dct_matrix(h)), torch.from_numpy(dct_matrix(w))
    coef = dh @ x.double() @ dw.T
    mask = torch.zeros(h, w, dtype=torch.float64)
    mask[:kh, :kw] = 1
    return (dh.T @ (coef * mask) @ dw).to(x.dtype)


def perturbation_filter(x, spec):
    """The filter of a spec string "gaussian(sigma=..)" / "dct(keep=..)" (defaults 1 and 0.25)."""
    name = spec.split("(")[0].strip()
    params = {}
    if "(" in spec:
        for kv in spec[spec.index("(") + 1:spec.rindex(")")].split(","):
            if kv.strip():
                k, v = kv.split("=")
                params[k.strip()] = float(v)
    if name == "gaussian":
        return gaussian_filter(x, params.get("sigma", 1.0))
    if name == "dct":
        return dct_filter(x, params.get("keep", 0.25))
    raise ValueError(spec)


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
    elif op == "filter":
        out = perturbation_filter(x, c["spec"])
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
