#!/usr/bin/env python3
"""Independent PyTorch reference of advspark's warping input transform DeCowA (plug-in of
reference_updates.py, which imports every reference_ext_*.py and so registers INPUTS["decowa"]
for step parity).

Written from the paper (Lin et al., "Boosting Adversarial Transferability across Model Genus by
Deformation-Constrained Warping", AAAI 2024, arXiv 2402.03951) and the settings of its released
code (TransferAttack's decowa.py), with the per-image draws of advspark's documentation replayed
from java.util.Random; not from the Java code. The thin-plate spline is solved the textbook way,
per warp, with torch.linalg.solve on the (k+3) x (k+3) system (Java instead precomputes the grid as
a fixed linear map of the control points), in float64 with the grid rounded to float32 once, and
the image is sampled bilinearly (zeros outside, align_corners=False) by the definition of
grid_sample with the float32 rounding pinned (bilinear()); autograd through both gives the inner
gradient. Why not F.grid_sample and a float32 solve: torch 1.13's CPU kernel rounds a quarter of
the warped values one ulp away from the plain products and sums, and a float32 solve moves the grid
by a few ulp; the surrogates amplify such last-bit input differences into 1e-4..1.6e-3 relative
gradient differences (measured on the CIFAR parity cases; 2e-7..8e-7 with both pinned). The
standalone mode (`reference_ext_warp.py`, no arguments) checks bilinear() against F.grid_sample to
1e-6 and the float32 spline against the float64 one to 1e-5.

  decowa(copies=c, mesh=s, noise=a, rho=r)
      per row r (image r mod N, rows in order), per copy j in order, from the image's stream:
        the noise map of copy j: (s-2)^2 inner control points row-major, x then y,
        each (nextFloat() - 0.5) * a in float32
      control points X: s x s, row-major, (x, y) = (linspace(-1,1,s)[b], linspace(-1,1,s)[a]);
      Y = X + n on the inner points (border fixed); TPS with U(d2) = d2 log(d2 + 1e-9):
        [[K, P], [P^T, 0]] [W; A] = [Y; 0]; output pixel (u, v) at
        p = (linspace(-1,1,W)[v], linspace(-1,1,H)[u]) samples the image at [1, p] A + U(p, X) W
      inner step: n = n0 - r dL/dn0, L the attack's loss of the ensemble logits of warp(x, n0)
        (x held constant), summed over rows (each row its own image's labels);
      output: warp(x tiled c times, n), copy j of row r at row j * rows + r.

Plug-in context (the one extension of reference_updates' plug-in mechanism): an input transform
with an inner step through the models reads reference_updates.INPUT_CONTEXT, filled by main():
  ens, loss, y, t, n         the ensemble (ens.logits / ens.logits64), the loss (z, y, t) -> scalar
                             summed over rows, the labels, the batch size
  traced(name, like)         the array Java traced at this step (step_{s}_next_{name}.f32, shaped
                             like `like`), or None
  inner_agree                a list the transform appends boolean tensors to (own == Java's); main()
                             reports the step's minimum agreement as input_inner_agree
Teacher forcing: the reference computes its own updated maps, records where they agree with
Java's traced decowa_noise (|own - java| <= 1e-5 in grid units, 1/6000 of a pixel on a 32-pixel
image; measured at most 2.3e-6), and continues from Java's, since one bilinear cell boundary (the
warp's derivative in the grid jumps there) or one rounding may move the inner gradient a little;
in float64 (the gradient judge) it continues from Java's without recording.
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_updates as _ref  # noqa: E402

TOL = 1e-5


def control_points(s, dtype):
    lin = torch.linspace(-1.0, 1.0, s, dtype=dtype)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    return torch.stack([xx, yy], dim=-1).reshape(-1, 2)


def tps_kernel(a, b):
    """U(|a_i - b_j|^2) for point sets a [P, 2], b [Q, 2]."""
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return d2 * torch.log(d2 + 1e-9)


def tps_grid(noise, s, h, w):
    """The sampling grid [R, h, w, 2] of the spline through X -> X + noise (inner points)."""
    dtype = noise.dtype
    rows = noise.shape[0]
    X = control_points(s, dtype)
    k = X.shape[0]
    mod = torch.zeros(rows, s, s, 2, dtype=dtype)
    mod[:, 1:s - 1, 1:s - 1, :] = noise.reshape(rows, s - 2, s - 2, 2)
    Y = X[None] + mod.reshape(rows, k, 2)
    P = torch.cat([torch.ones(k, 1, dtype=dtype), X], 1)
    L = torch.zeros(k + 3, k + 3, dtype=dtype)
    L[:k, :k] = tps_kernel(X, X)
    L[:k, k:] = P
    L[k:, :k] = P.t()
    Z = torch.cat([Y, torch.zeros(rows, 3, 2, dtype=dtype)], 1)
    Q = torch.linalg.solve(L.expand(rows, k + 3, k + 3), Z)
    Wc, A = Q[:, :k], Q[:, k:]
    gy, gx = torch.meshgrid(torch.linspace(-1.0, 1.0, h, dtype=dtype), torch.linspace(-1.0, 1.0, w, dtype=dtype),
                            indexing="ij")
    p = torch.stack([gx, gy], -1).reshape(-1, 2)
    Pp = torch.cat([torch.ones(h * w, 1, dtype=dtype), p], 1)
    grid = Pp[None] @ A + tps_kernel(p, X)[None] @ Wc
    return grid.reshape(rows, h, w, 2)


def bilinear(x, grid):
    """grid_sample(x, grid, bilinear, zeros, align_corners=False) by its definition, with the
    float32 rounding pinned: pixel ((g + 1) size - 1) / 2, the four neighbours of floor(pixel) with
    weights (1 - f) or f per axis (f = pixel - floor), a neighbour outside the image reading 0, the
    terms summed in the order (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1).
    Differentiable in x and in the grid (floor and indices constant). torch 1.13's CPU kernel
    rounds a quarter of the values one ulp apart (fused multiply-adds); checked against it in
    cross_check()."""
    rows, c, h, w = x.shape
    gx, gy = grid[..., 0].reshape(rows, -1), grid[..., 1].reshape(rows, -1)
    ix = ((gx + 1) * w - 1) / 2
    iy = ((gy + 1) * h - 1) / 2
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    fx, fy = ix - x0, iy - y0
    flat = x.reshape(rows, c, h * w)
    out = None
    for dy, wy in ((0, 1 - fy), (1, fy)):
        ys = y0 + dy
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xs = x0 + dx
            inside = ((ys >= 0) & (ys <= h - 1) & (xs >= 0) & (xs <= w - 1)).to(x.dtype)
            idx = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).long()[:, None, :].expand(rows, c, h * w)
            term = flat.gather(2, idx) * (wx * wy * inside)[:, None, :]
            out = term if out is None else out + term
    return out.reshape(rows, c, h, w)


def warp(x, noise, s):
    """x [R, C, H, W] warped by the noise maps [R, (s-2)^2, 2]: the spline solved in float64 and
    the grid rounded to x's type once (a float32 solve rounds differently from any other float32
    implementation, and the surrogates amplify such last-bit input differences into 1e-4..1e-3
    relative gradient differences, measured), then sampled in x's type."""
    grid = tps_grid(noise.double(), s, x.shape[2], x.shape[3]).to(x.dtype)
    return bilinear(x, grid)


def cross_check():
    """bilinear() against F.grid_sample, and the float32 spline against the float64 one."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 17, 23, generator=g)
    for s in (3, 4, 5):
        n = (torch.rand(3, (s - 2) ** 2, 2, generator=g) - 0.5) * 2
        grid = tps_grid(n.double(), s, 17, 23)
        ours = bilinear(x, grid.float())
        theirs = F.grid_sample(x, grid.float(), mode="bilinear", padding_mode="zeros", align_corners=False)
        assert (ours - theirs).abs().max() < 1e-6, (s, (ours - theirs).abs().max())
        assert (tps_grid(n, s, 17, 23).double() - grid).abs().max() < 1e-5
        # The spline interpolates: a control point samples its moved position.
        ctrl = control_points(s, torch.float64)
        assert (tps_grid(torch.zeros(1, (s - 2) ** 2, 2, dtype=torch.float64), s, s, s).reshape(-1, 2)
                - ctrl).abs().max() < 1e-9
    print("decowa reference: bilinear == grid_sample within 1e-6, float32 spline within 1e-5 of float64")



def decowa(x, params, rngs):
    copies = int(params.get("copies", 20))
    s = int(params.get("mesh", 3))
    scale = np.float32(float(params.get("noise", 2.0)))
    rho = float(params.get("rho", 0.01))
    ctx = _ref.INPUT_CONTEXT
    rows = x.shape[0]
    per = (s - 2) * (s - 2) * 2
    maps = np.empty((copies * rows, per), dtype=np.float32)
    for r in range(rows):
        g = rngs[r % len(rngs)]
        for j in range(copies):
            maps[j * rows + r] = (g.floats(per) - np.float32(0.5)) * scale
    n0 = torch.from_numpy(maps).reshape(copies * rows, per // 2, 2).to(x.dtype)
    tiled = x.repeat(copies, 1, 1, 1)
    f64 = x.dtype == torch.float64
    with torch.enable_grad():
        v = n0.clone().requires_grad_(True)
        k = tiled.shape[0] // ctx.n
        head = ctx.ens.logits64 if f64 else ctx.ens.logits
        lossv = ctx.loss(head(warp(tiled.detach(), v, s)), ctx.y.repeat(k), ctx.t.repeat(k))
        (dn,) = torch.autograd.grad(lossv, v)
    own = (n0 - rho * dn).detach()
    java = ctx.traced("decowa_noise", own)
    if java is None:
        use = own
    else:
        if not f64:
            ctx.inner_agree.append((own - java).abs() <= TOL)
            ctx.inner_diff = max(ctx.inner_diff, float((own - java).abs().max()))
        use = java.to(x.dtype)
    return warp(tiled, use, s)


_ref.INPUTS["decowa"] = decowa


if __name__ == "__main__":
    cross_check()
