#!/usr/bin/env python3
"""Independent PyTorch reference of advspark's OPS input transform (plug-in of reference_updates.py,
which imports every reference_ext_*.py and so registers INPUTS["ops"] for step parity).

Written from the method of Guo et al., "Boosting Adversarial Transferability through Augmentation
in Hypothesis Space" (CVPR 2025) with the settings of TransferAttack's ops.py (the operator set,
the ratios of the neighbour radius, the levels), and the per-image draws of advspark's
documentation replayed from java.util.Random; not from the Java code.

  ops(neighbors=n, operators=k, beta=b, min_level=l0, max_level=l1)
      The step's gradient is the mean of g(x) and g(o_{j,i}(x + e_j)) over the n neighbours j and
      their k operators i: the batch is returned as 1 + n k copies (copy 0 = x, copy 1 + j k + i =
      o_{j,i}(x + e_j); copy c of row r at row c * rows + r) and the loss averaged over copies.
      Per row r (image r mod N, rows in order), from the image's stream:
        per neighbour j in order:
          ratio = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5][nextInt(6)]
          r_j = float32(b * ratio * eps), eps = float32(epsPixels / 255)
          e_j = C*H*W floats -r_j + (2 r_j) nextFloat() in float32 (channel, row, column order)
          per operator i in order:
            L = l0 + nextInt(l1 - l0 + 1); L basic operators, each nextInt(31) then its own draws;
            applied in the order drawn to x + e_j (not clipped)
      basic operators: 0 identity, 1 flip rows (dim 2), 2 flip columns (dim 3),
        3 roll(nextInt(H), dim 2), 4 roll(nextInt(W), dim 3),
        5..13 rotation by 5, -5, 15, -15, 45, -45, 90, -90, 180 degrees about the image centre
          ((H-1)/2, (W-1)/2), counter-clockwise on screen, bilinear, zeros outside (the rotation
          definition of reference_ext_blocks, float32 rounding pinned),
        14..20 x / s for s = 2..8,
        21..30 DI with resize rate 1.1, 1.3, ..., 2.9 and p = 1: its draws rnd, top, left, coin as
          reference_updates.di_plans (the coin drawn, always true), reference_parts.di (square).
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_parts  # noqa: E402
import reference_ext_blocks  # noqa: E402


def _host():
    """The running reference_updates module: __main__ when it runs as the script."""
    main = sys.modules.get("__main__")
    if main is not None and hasattr(main, "INPUTS") and hasattr(main, "JavaRandom"):
        return main
    import reference_updates
    return reference_updates


_ref = _host()

RATIOS = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
ANGLES = [5, -5, 15, -15, 45, -45, 90, -90, 180]
RATES = [1.1, 1.3, 1.5, 1.7, 1.9, 2.1, 2.3, 2.5, 2.7, 2.9]
BASIC = 31


def _draw_basic(g, h, w):
    op = g.next_int(BASIC)
    if op == 3:
        return (op, g.next_int(h))
    if op == 4:
        return (op, g.next_int(w))
    if op >= 21:
        return (op, _ref.di_plans([g], 1, h, 1.0, RATES[op - 21])[0])
    return (op, None)


def _apply_basic(x, op, arg):
    if op == 0:
        return x
    if op == 1:
        return x.flip(dims=(2,))
    if op == 2:
        return x.flip(dims=(3,))
    if op == 3:
        return x.roll(arg, dims=2)
    if op == 4:
        return x.roll(arg, dims=3)
    if op <= 13:
        return reference_ext_blocks._rotate_block(x, math.radians(ANGLES[op - 5]))
    if op <= 20:
        return x / float(op - 12)
    out = reference_parts.di(x, {"resize": RATES[op - 21], "plans": [arg]})
    return out.to(x.dtype)


def plan_row(g, c, h, w, n, k, beta, l0, l1, eps):
    """One row's draws in the documented order: [(noise, [[(op, arg), ...] per operator])] per neighbour."""
    out = []
    for _ in range(n):
        ratio = RATIOS[g.next_int(len(RATIOS))]
        r = np.float32(beta * ratio * float(eps))
        lo, hi = np.float32(-r), np.float32(r)
        noise = (lo + (hi - lo) * g.floats(c * h * w)).astype(np.float32).reshape(1, c, h, w)
        ops = []
        for _ in range(k):
            level = l0 + g.next_int(l1 - l0 + 1)
            ops.append([_draw_basic(g, h, w) for _ in range(level)])
        out.append((noise, ops))
    return out


def ops(x, params, rngs):
    n = int(params.get("neighbors", 10))
    k = int(params.get("operators", 20))
    beta = float(params.get("beta", 2.0))
    l0, l1 = int(params.get("min_level", 2)), int(params.get("max_level", 4))
    if n == 0:
        return x
    eps = np.float32(_ref.META["epsPixels"] / 255.0)
    rows, c, h, w = x.shape
    plans = [plan_row(rngs[r % len(rngs)], c, h, w, n, k, beta, l0, l1, eps) for r in range(rows)]
    out = [x]
    for j in range(n):
        for i in range(k):
            for r in range(rows):
                noise, seqs = plans[r][j]
                t = x[r:r + 1] + torch.from_numpy(noise).to(x.dtype)
                for op, arg in seqs[i]:
                    t = _apply_basic(t, op, arg)
                out.append(t)
    return torch.cat(out, 0)


_ref.INPUTS["ops"] = ops
