#!/usr/bin/env python3
"""Independent PyTorch references of advspark's block transforms BSR and SIA (plug-in of
reference_updates.py, which imports every reference_ext_*.py and so registers INPUTS["bsr"] and
INPUTS["sia"] for step parity).

Written from the papers' official code (BSR: mi_bsr.py; SIA: the SIT release's attack.py) and
TransferAttack's bsr.py / sia.py, with the per-image draws of advspark's documentation replayed
from java.util.Random; not from the Java code. Every copy is built the way the official code builds
it: torch.split / reorder / torch.cat for the shuffle, explicit bilinear taps for the rotations,
torch.roll / flip / rot90, F.interpolate and the FFT-built DCT matrices of
reference_parts.py for SIA. The rotation follows its definition with the float32 rounding pinned
(the surrogates amplify last-bit input differences into up to 1e-2 relative gradient
differences); the standalone mode cross-checks it against F.grid_sample, and the DCT low-pass
against float64 matrix products, to 1e-5. The DCT low-pass and the resize (F.interpolate) take
their values in float64, rounded to float32 once, as the product defines them (a float32 product
or kernel rounds differently in each release or BLAS build).

  bsr(blocks=n, degrees=d, copies=k)
      per row r (image r mod N, rows in order), per copy j in order, from the image's stream:
        strip heights: u_i = 1 + nextFloat() (n values), l_i = round_half_even(u_i / sum(u) * H),
          the first largest l_i += H - sum(l)   (TransferAttack get_length, uniform in [1, 2))
        strip widths likewise with W
        row permutation, column permutation: Fisher-Yates (i = n-1..1: j = nextInt(i + 1), swap)
        n^2 angles, output blocks row-major: radians((2 nextFloat() - 1) d)
      output block (a, b) = input block (rowperm[a], colperm[b]) rotated about its own centre
      ((bw-1)/2, (bh-1)/2) by its angle (counter-clockwise on screen), bilinear, zeros outside
      the block; copy j of row r at row j * rows + r.
  sia(blocks=s, copies=k, ops=all|core)
      per row r, per copy j, from the image's stream: the s-1 cut rows (partial Fisher-Yates of
      [1..H-1]: i = 0..s-2, k = i + nextInt(H - 1 - i), swap; first s-1 sorted), the cut columns
      likewise, then per block row-major: op = nextInt(#ops) and its draws (shift nextInt(bh) /
      nextInt(bw), scale nextFloat, noise C*bh*bw floats lo + (hi - lo) nextFloat in float32 with
      hi = -lo = 16/255, dropout C floats, channel dropped if < 0.1, kept ones times 1/0.9).
      ops=all: resize, vshift, hshift, vflip, hflip, rot180, scale, noise, dct, dropout (SIT);
      ops=core: vshift, hshift, vflip, hflip, rot180, scale, noise (TransferAttack sia.py).
      resize: bilinear (align_corners=False) to (int(0.8 bh)+1, int(0.8 bw)+1) and back, clamp 0..1;
      dct: orthonormal DCT-II per side, the top int(0.4 n) frequencies zeroed, inverted: the
        projector D^T diag(mask) D applied to the rows, then the columns (value in float64).

Standalone (transform parity): reference_ext_blocks.py DIR reads DIR/<case>.json ({"spec",
"seeds", "shape"}), <case>.x.f32 and <case>.w.f32, and writes <case>.out.f32 and <case>.grad.f32
(d sum(out * w) / d x), as reference_parts.py does.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_parts  # noqa: E402


def _host():
    """The running reference_updates module: __main__ when it runs as the script."""
    main = sys.modules.get("__main__")
    if main is not None and hasattr(main, "INPUTS") and hasattr(main, "JavaRandom"):
        return main
    import reference_updates
    return reference_updates


_ref = _host()


# ---------------------------------------------------------------- BSR

def _fisher_yates(g, n):
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = g.next_int(i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def _strip_lengths(g, n, length):
    u = [1.0 + g.next_float() for _ in range(n)]
    total = 0.0
    for v in u:
        total += v
    lengths = [int(round(v / total * length)) for v in u]  # Python's round: half to even, as np.round
    lengths[lengths.index(max(lengths))] += length - sum(lengths)
    assert min(lengths) >= 0
    return lengths


def _rotation_coords(bh, bw, theta):
    """Source coordinates (sx, sy), float64 [bh, bw], of each output pixel of a bh x bw block."""
    cy, cx = (bh - 1) / 2.0, (bw - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(bh, dtype=np.float64), np.arange(bw, dtype=np.float64), indexing="ij")
    c, s = math.cos(theta), math.sin(theta)
    return c * (xx - cx) + s * (yy - cy) + cx, -s * (xx - cx) + c * (yy - cy) + cy


def _rotate_block(b, theta):
    """b [1, C, bh, bw] rotated about its centre by theta (counter-clockwise on screen), zeros outside.

    Bilinear as its definition: the four neighbours (y0, x0), (y0, x0+1), (y0+1, x0), (y0+1, x0+1)
    of the source point, weights (1-fx or fx)(1-fy or fy) computed in float64 and rounded to float32,
    a neighbour outside the block contributing 0, the four terms summed in that order in float32.
    The float32 rounding is pinned down because the surrogates' ReLUs amplify last-bit differences
    of their input into 1e-2 relative gradient differences at some steps (F.grid_sample, which
    rounds differently, is the cross-check of the standalone mode, _rotate_block_grid).
    """
    bh, bw = b.shape[-2], b.shape[-1]
    if bh == 0 or bw == 0:
        return b
    sx, sy = _rotation_coords(bh, bw, theta)
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = sx - x0, sy - y0
    flat = b.reshape(b.shape[0], b.shape[1], bh * bw)
    out = None
    for dy in (0, 1):
        for dx in (0, 1):
            yy, xx = y0 + dy, x0 + dx
            inside = (yy >= 0) & (yy < bh) & (xx >= 0) & (xx < bw)
            weight = np.where(inside, (fx if dx else 1 - fx) * (fy if dy else 1 - fy), 0.0).astype(np.float32)
            index = torch.from_numpy(np.where(inside, yy * bw + xx, 0).reshape(-1))
            term = flat[:, :, index] * torch.from_numpy(weight.reshape(-1))
            out = term if out is None else out + term
    return out.reshape(b.shape)


def _rotate_block_grid(b, theta):
    """The same rotation by F.grid_sample (float64, zeros padding): the cross-check."""
    bh, bw = b.shape[-2], b.shape[-1]
    if bh == 0 or bw == 0:
        return b
    sx, sy = (torch.from_numpy(v) for v in _rotation_coords(bh, bw, theta))
    grid = torch.stack([(2 * sx + 1) / bw - 1, (2 * sy + 1) / bh - 1], dim=-1)[None]  # align_corners=False
    return F.grid_sample(b.double(), grid, mode="bilinear", padding_mode="zeros", align_corners=False).float()


# The cross-check mode of the standalone run: library versions of the rotation (F.grid_sample) and
# the DCT low-pass (float64 matrix products) instead of the definitions.
_CROSS = [False]


def bsr_plan(g, n, degrees, h, w):
    heights, widths = _strip_lengths(g, n, h), _strip_lengths(g, n, w)
    rowperm, colperm = _fisher_yates(g, n), _fisher_yates(g, n)
    radians = [math.radians((2 * g.next_float() - 1) * degrees) for _ in range(n * n)]
    return heights, widths, rowperm, colperm, radians


def bsr_image(xi, n, plan):
    heights, widths, rowperm, colperm, radians = plan
    strips = list(torch.split(xi, heights, dim=2))
    rows = []
    for a in range(n):
        blocks = list(torch.split(strips[rowperm[a]], widths, dim=3))
        rotate = _rotate_block_grid if _CROSS[0] else _rotate_block
        rows.append(torch.cat([rotate(blocks[colperm[b]], radians[a * n + b]) for b in range(n)], dim=3))
    return torch.cat(rows, dim=2)


def bsr(x, params, rngs):
    n = int(params.get("blocks", 2))
    degrees = float(params.get("degrees", 24))
    k = int(params.get("copies", 20))
    rows, h, w = x.shape[0], x.shape[2], x.shape[3]
    plans = [[bsr_plan(rngs[r % len(rngs)], n, degrees, h, w) for _ in range(k)] for r in range(rows)]
    return torch.cat([bsr_image(x[r:r + 1], n, plans[r][j]) for j in range(k) for r in range(rows)], 0)


# ---------------------------------------------------------------- SIA

SIA_ALL = ["resize", "vshift", "hshift", "vflip", "hflip", "rot180", "scale", "noise", "dct", "dropout"]
SIA_CORE = ["vshift", "hshift", "vflip", "hflip", "rot180", "scale", "noise"]
_NOISE = np.float32(16) / np.float32(255)


def _cuts(g, s, length):
    m = min(s, length) - 1
    cand = list(range(1, length))
    for i in range(m):
        k = i + g.next_int(len(cand) - i)
        cand[i], cand[k] = cand[k], cand[i]
    return [0] + sorted(cand[:m]) + [length]


def _projector(n, k):
    """D^T diag(u < k) D for the orthonormal DCT-II D of reference_parts (from numpy's FFT), float64."""
    d = reference_parts.dct_matrix(n)
    mask = (np.arange(n) < k).astype(np.float64)
    return (d.T * mask) @ d


def _project(b, kh, kw, dtype):
    bh, bw = b.shape[-2], b.shape[-1]
    out = b
    if kh < bh:
        out = torch.from_numpy(_projector(bh, kh)).to(dtype) @ out
    if kw < bw:
        out = out @ torch.from_numpy(_projector(bw, kw)).to(dtype).T
    return out


def _lowpass(b, kh, kw):
    """Per channel, the top frequencies of each side zeroed: rows first, then columns.

    A side that keeps all its frequencies is left as it is (the identity, exactly). The value in
    float64, rounded to float32 once; the gradient through the float32 projectors (value + (lin -
    lin.detach()), exactly the value): a float32 matrix product's rounding depends on the BLAS
    build, and the surrogates amplify last-bit input differences.
    """
    bh, bw = b.shape[-2], b.shape[-1]
    if _CROSS[0]:
        dh = torch.from_numpy(reference_parts.dct_matrix(bh))
        dw = torch.from_numpy(reference_parts.dct_matrix(bw))
        mask = torch.zeros(bh, bw, dtype=torch.float64)
        mask[:kh, :kw] = 1
        return (dh.T @ ((dh @ b.double() @ dw.T) * mask) @ dw).float()
    if kh == bh and kw == bw:
        return b
    value = _project(b.detach().double(), kh, kw, torch.float64).float()
    lin = _project(b, kh, kw, torch.float32)
    return value + (lin - lin.detach())


def _resize(b, size):
    """F.interpolate bilinear (align_corners=False) computed in float64 and rounded to float32: the
    resize of advspark's model cards (tools/make_resize_module.py), the same in every release."""
    return F.interpolate(b.double(), size=size, mode="bilinear", align_corners=False).float()


def sia_block(b, op, g):
    """Draws op's values from g and applies it to block b [1, C, bh, bw]."""
    c, bh, bw = b.shape[1], b.shape[2], b.shape[3]
    if op == "resize":
        return _resize(_resize(b, (int(bh * 0.8) + 1, int(bw * 0.8) + 1)), (bh, bw)).clamp(0, 1)
    if op == "vshift":
        return b.roll(g.next_int(bh), dims=2)
    if op == "hshift":
        return b.roll(g.next_int(bw), dims=3)
    if op == "vflip":
        return b.flip(dims=(2,))
    if op == "hflip":
        return b.flip(dims=(3,))
    if op == "rot180":
        return b.rot90(k=2, dims=(2, 3))
    if op == "scale":
        return g.next_float() * b
    if op == "noise":
        lo, hi = -_NOISE, _NOISE
        noise = lo + (hi - lo) * g.floats(c * bh * bw)
        return torch.clip(b + torch.from_numpy(noise.astype(np.float32)).reshape(b.shape), 0, 1)
    if op == "dct":
        return _lowpass(b, bh - int(bh * 0.4), bw - int(bw * 0.4))
    if op == "dropout":
        keep = np.array([0.0 if g.next_float() < 0.1 else 1.0 for _ in range(c)], dtype=np.float32)
        return b * torch.from_numpy(keep * np.float32(1.0 / (1.0 - 0.1))).reshape(1, c, 1, 1)
    raise ValueError(op)


def sia_image(xi, s, ops, g):
    """One copy of one image; draws from g in the documented order while building it."""
    h, w = xi.shape[2], xi.shape[3]
    ys, xs = _cuts(g, s, h), _cuts(g, s, w)
    rows = []
    for a in range(len(ys) - 1):
        row = []
        for b in range(len(xs) - 1):
            op = ops[g.next_int(len(ops))]
            row.append(sia_block(xi[:, :, ys[a]:ys[a + 1], xs[b]:xs[b + 1]], op, g))
        rows.append(torch.cat(row, dim=3))
    return torch.cat(rows, dim=2)


def sia(x, params, rngs):
    s = int(params.get("blocks", 3))
    k = int(params.get("copies", 20))
    ops = SIA_ALL if params.get("ops", "all") == "all" else SIA_CORE
    rows = x.shape[0]
    images = [[sia_image(x[r:r + 1], s, ops, rngs[r % len(rngs)]) for _ in range(k)] for r in range(rows)]
    return torch.cat([images[r][j] for j in range(k) for r in range(rows)], 0)


_ref.INPUTS["bsr"] = bsr
_ref.INPUTS["sia"] = sia


# ---------------------------------------------------------------- standalone transform parity

def _apply(c, x):
    op, params = _ref.parse_spec(c["spec"])
    rngs = [_ref.JavaRandom(int(s)) for s in c["seeds"]]
    return _ref.INPUTS[op](x, params, rngs)


def _run(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        c = json.load(f)
    x = reference_parts.load(os.path.join(d, name + ".x.f32"), c["shape"]).requires_grad_(True)
    out = _apply(c, x)
    wt = reference_parts.load(os.path.join(d, name + ".w.f32"), list(out.shape))
    (out * wt).sum().backward()
    out.detach().numpy().astype("<f4").tofile(os.path.join(d, name + ".out.f32"))
    x.grad.numpy().astype("<f4").tofile(os.path.join(d, name + ".grad.f32"))
    # Cross-check: the library versions of the rotation and the DCT.
    _CROSS[0] = True
    try:
        x2 = x.detach().clone().requires_grad_(True)
        out2 = _apply(c, x2)
        (out2 * wt).sum().backward()
    finally:
        _CROSS[0] = False
    od = (out2 - out).abs().max().item()
    gd = (x2.grad - x.grad).abs().max().item()
    print(name, list(out.shape), "library cross-check: output %.3g, gradient %.3g" % (od, gd))
    assert od <= 1e-5 and gd <= 1e-5, name + ": the definitions and the library versions disagree"


def main():
    torch.set_num_threads(1)
    d = sys.argv[1]
    for f in sorted(os.listdir(d)):
        if f.endswith(".json"):
            _run(d, f[:-5])


if __name__ == "__main__":
    main()
