"""Reference of the spectrum simulation attack's input transform (plug-in of reference_updates.py).

Long, Zhang, Zeng, Gao, Liu, Zhang and Song, "Frequency Domain Model Augmentation for Adversarial
Attack", ECCV 2022. Each of N copies of an image x (C x H x W, pixels in [0, 1]) is

    T(x) = IDCT(DCT(x + xi) * M),   xi ~ N(0, sigma^2 I),   M ~ U(1 - rho, 1 + rho) elementwise,

DCT being the orthonormal 2-D DCT-II of each channel's whole H x W plane, DCT(X) = A_H X A_W^T with
A_n[u, v] = c_u cos(pi (2 v + 1) u / (2 n)), c_0 = sqrt(1/n), c_u = sqrt(2/n) (A orthogonal), and
IDCT(Y) = A_H^T Y A_W. The gradient is taken through T. Spec ssa(copies=N, rho, sigma) with sigma in
units of the budget eps (std = sigma * eps01, eps01 = float32(epsPixels / 255)); defaults N = 20,
rho = 0.5, sigma = 1 (the authors' code: N 20, rho 0.5, noise std 16/255 at eps 16/255).

Copies are stacked on the batch axis, copy j of input row r at row j * rows + r. Draws (advspark's
order): for each output row k = j * rows + r in increasing k, from image (k mod images)'s
java.util.Random, first the C*H*W noise values row-major, float32(nextGaussian() * std), then the
C*H*W mask values lo + (hi - lo) * nextFloat() in float32, lo = float32(1 - rho), hi = float32(1 + rho).
nextGaussian is replayed here exactly (Marsaglia's polar method as java.util.Random implements it,
the pair's second value kept for the next call). T is evaluated in float64 and rounded to float32.
"""

import math

import numpy as np
import torch

import reference_updates as ru

# Java's StrictMath.log is fdlibm's; Python's math.log is the C library's. Both are within 1 ulp,
# and the value is rounded to float32 after scaling, so a disagreement in the last bit of a double
# almost never survives; the parity criteria would absorb it if it did.


def _next_double(rng):
    return ((rng.next_bits(26) << 27) + rng.next_bits(27)) * (1.0 / (1 << 53))


def next_gaussian(rng):
    """java.util.Random.nextGaussian on a reference_updates.JavaRandom (state kept on the object)."""
    if getattr(rng, "have_next_next_gaussian", False):
        rng.have_next_next_gaussian = False
        return rng.next_next_gaussian
    while True:
        v1 = 2 * _next_double(rng) - 1
        v2 = 2 * _next_double(rng) - 1
        s = v1 * v1 + v2 * v2
        if 0 < s < 1:
            break
    multiplier = math.sqrt(-2 * math.log(s) / s)
    rng.next_next_gaussian = v2 * multiplier
    rng.have_next_next_gaussian = True
    return v1 * multiplier


def dct_matrix(n):
    """The orthonormal n-point DCT-II matrix A (A A^T = I), float64."""
    u = np.arange(n, dtype=np.float64)[:, None]
    v = np.arange(n, dtype=np.float64)[None, :]
    c = np.where(u == 0, math.sqrt(1.0 / n), math.sqrt(2.0 / n))
    return torch.from_numpy(c * np.cos(math.pi * (2 * v + 1) * u / (2 * n)))


def ssa(x, p, rngs):
    n = int(p.get("copies", 20))
    rho = float(p.get("rho", 0.5))
    sigma = float(p.get("sigma", 1.0))
    eps01 = np.float32(ru.META["epsPixels"] / 255.0)
    std = float(np.float32(sigma * float(eps01)))
    lo, hi = np.float32(1 - rho), np.float32(1 + rho)
    rows, per = x.shape[0], x[0].numel()
    noise = np.empty((n * rows, per), dtype=np.float32)
    mask = np.empty((n * rows, per), dtype=np.float32)
    for k in range(n * rows):
        g = rngs[k % len(rngs)]
        noise[k] = np.array([next_gaussian(g) * std for _ in range(per)], dtype=np.float64).astype(np.float32)
        mask[k] = lo + (hi - lo) * g.floats(per)
    shape = (n * rows,) + tuple(x.shape[1:])
    # In float64, rounded to float32 once (advspark's numerics: the model input then does not
    # depend on a BLAS's float32 summation order, to which the surrogates' gradient is sensitive).
    xt = x.double().repeat(n, 1, 1, 1) + torch.from_numpy(noise).double().reshape(shape)
    a_h, a_w = dct_matrix(x.shape[2]), dct_matrix(x.shape[3])
    spectrum = a_h @ xt @ a_w.T
    return (a_h.T @ (spectrum * torch.from_numpy(mask).double().reshape(shape)) @ a_w).float()


ru.INPUTS["ssa"] = ssa
