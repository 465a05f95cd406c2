#!/usr/bin/env python3
"""Independent PyTorch reference of advspark's update rules and losses, for step parity.

    /usr/bin/python3 src/test/python/reference_updates.py DUMP_DIR [--threads N]

Reads a Java step dump (format of reference_attack.py, plus meta fields "update", "n", "beta",
"loss", "init", "seeds", and for the target start "dataset" and "labelBase") and recomputes the
start x_0 from the clean batch (compared with Java's first iterate), then, for every step, from
Java's x_t, m_t (and v_t for variance tuning) the gradient, the next iterate and the next state.
Prints a JSON report and writes DUMP_DIR/parity.json.

Update rules (pixel space [0,1], eps/alpha = pixels/255):
  ifgsm, pgd   x+ = clip(x + alpha sign(g))                         (pgd: uniform start, see init)
  mi           m+ = mu m + g / mean|g| ; x+ = clip(x + alpha sign(m+))
  ni           as mi with g taken at x + alpha mu m                   (Lin et al. 2020)
  vmi, vni     g_bar = g + v ; m+ = mu m + g_bar / mean|g_bar| ; v+ = mean_i g(x + r_i) - g,
               r_i ~ U(-beta eps, beta eps), N draws                 (Wang and He 2021)
Losses (ascended, summed over the batch):
  ce(untargeted=wu, targeted=wt)  wu CE(z, y) - wt CE(z, t)
  logit                            sum_i z_i[t_i]
  margin(targeted=false)           max_{j!=y} z_j - z_y   (targeted: z_t - max_{j!=t} z_j)
  potrip(lambda, margin)           -sum_i [d_P(z_i/|z_i|_1, clip(onehot(t)-1e-5, 0, 1))
                                   + lambda clip(Cos(onehot(y), z) - Cos(onehot(t), z) + margin, 0, 2.1)]
                                   (Li et al., CVPR 2020, conventions of its TF code: Cos takes |a.b|,
                                   the triplet term is per image, the batch gradient sums over images)
Starts (clipped to the eps-ball and [0,1]):
  zeros                            x
  uniform(radius)                  x + U(-r eps, r eps)
  perlin(period, octaves, sine, amplitude, map)
                                   x + amplitude eps s, s = sin(sine pi n) (map=sign: its sign), n the
                                   min-max-normalised fractal improved Perlin noise (Perlin 2002,
                                   persistence 0.5, lacunarity 2, pixel (r, c) -> (r, c) / period),
                                   same on every channel (Co et al., CCS 2019); the permutation is a
                                   Fisher-Yates shuffle drawn from the image's stream
  target(alpha)                    x + alpha (g - x), g the image of the row's target class with the
                                   smallest ImageId in the dataset's dev.csv (x itself if none)
Input transforms, gradient transforms, perturbation filter (optional meta "inputs", "gradients",
"filter", "copies"; the transforms themselves are those of reference_parts.py):
  the loss is taken on inputs(tile(img(p), copies)), the inputs applied in order to the whole
  (tiled) batch, averaged over the k = rows / N copies of each image (labels tiled, row j*N + i is
  image i); the gradient transforms are applied to d loss / d p in order.
  di(p, resize)      per row r (image r mod N, in row order), from that image's stream:
                     rnd = H + nextInt(S - H), S = floor(H resize); rem = S - rnd;
                     top = nextInt(rem), left = nextInt(rem) (each only if rem > 0);
                     on = nextFloat() < p; if on: resize to rnd, zero-pad to S at (top, left),
                     resize back to H (Xie et al. 2019, TransferAttack's DIM)
  si(copies)         cat(x / 2^i, i < copies)                        (Lin et al. 2020)
  ti(kernel, size, sigma)  depthwise conv with gkern(size, nsig)      (Dong et al. 2019)
  filter F           the iterate p is a latent one: img(p) = clip(clip(x0 + F(p - x0), x0 +- eps),
                     0, 1), differentiated through (F, then the clip); without a filter img(p) = p.
                     The attack's result is img(x_T) (compared with the Java result if the dump
                     holds final_x.f32).
Random draws: advspark draws uniform noise in Java from one java.util.Random per image (seeded per
image, meta "seeds"), row-major, value = lo + (hi - lo) * nextFloat() in float32. This module
replays java.util.Random exactly, so both sides use the same draws, in the order the attack
consumes them (the start's draws, then per step: each gradient's input-transform draws, and for
variance tuning all neighbours' noise, then each neighbour's gradient in order).
"""

import argparse
import copy
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_attack import Ensemble, Member, _f32_read, _frac, _rel_l2, cross_entropy  # noqa: E402
import reference_parts  # noqa: E402

# Plug-ins: every module reference_ext_*.py beside this file is imported by main() and registers
# the references of newer parts here, one module per family, so a new part adds a file instead of
# editing this one:
#   RULES[name] = factory(meta, params) -> object with
#       extras                      names of extra state arrays (UpdateRule.State#extras, dumped as
#                                   step_{t}_{name}.f32 / step_{t}_next_{name}.f32), compared by
#                                   relative L2 (max_next_extra_rel_l2)
#       discrete (optional)         those of the extras that are piecewise constant in the momentum
#                                   (GRA's decay indicator): compared element by element like the
#                                   iterate instead (min_next_extra_agree)
#       point(x, m, extras)         where the step's gradient is taken
#       step(x, m, v, g, x0, grad_at, rngs, extras) -> (x_next, m_next, v_next or None, extras_next)
#   INPUTS[name] = fn(x, params, rngs) -> the transformed batch (copies stacked on the batch axis)
#   GRADIENTS[name] = fn(g, params) -> the transformed gradient
#   ENSEMBLES[name] = factory(meta, params) -> an ensemble strategy (meta "ensemble", e.g. svre)
#                                   with
#       extras                      names of its own state arrays carried across steps (dumped and
#                                   compared like a rule's extras)
#       gradient(p, g_ens, x0, ctx, extras) -> (g, extras_next): the gradient the update rule
#                                   uses instead of g_ens, the logit ensemble's gradient at the
#                                   rule's point p; ctx.grads_at(p, heads) gives, with the inputs
#                                   built once (their draws made once), the gradient of the loss of
#                                   each head(inputs) -> logits; ctx.members are the surrogates
#                                   (member.logits(x01)), ctx.rngs the streams, ctx.n the images
#                                   (row r of the inputs is image r % n). g is compared with Java's
#                                   extra state "ensemble_grad" by relative L2. ctx.traced(name[, like])
#                                   is an array (batch-shaped, or shaped like `like`) Java traced (GradientOracle#trace) or None; a
#                                   strategy that continues from it appends (own == Java's) element
#                                   masks to its inner_agree (min_ensemble_inner_agree).
#   LOSSES[name] = factory(meta, params) -> a loss on the surrogates' feature taps (meta "loss",
#                                   e.g. fia(tap=layer2)), used instead of loss_fn's logit losses:
#       prepare(x0, y, t, rngs, ctx) -> {name: (own, java)}: its per-attack state at the clean
#                                   images, computed before the start (consuming the streams as
#                                   the Java loss does); ctx.ens the ensemble, ctx.traced(name,
#                                   like) the array Java traced at step 0 (the loss's prepared
#                                   state, FeatureLoss) or None, ctx.agree a dict of element
#                                   agreements to report (min_loss_state_agree). The pairs are
#                                   compared by relative L2 (max_loss_state_rel_l2); the steps use
#                                   the plug-in's own state.
#       loss(inp, y, t, n)          the loss of model inputs inp (row r is image r % n; y, t tiled),
#                                   summed over rows, replacing loss(ens.logits(inp), y, t)
#   AUGMENTS[name] = factory(meta, params, ens) -> a model augmentation (meta "augment", a list of
#                                   specs; meta "groups": per checkpoint group, its members' indices
#                                   into ens.members) with
#       begin_step(rngs)            called at the start of every step, before any other draw of the
#                                   step (the draws it makes come first in the step's streams)
#       logits(x01), logits64(x01)  the fused logits of the step (float32 / float64), used instead
#                                   of ens.logits / ens.logits64 for every gradient of the step
#   META                            the dump's meta.json (epsPixels, stepSizePixels, ...), filled by
#                                   main() before the plug-ins load, for parts that need the budget
#   INPUT_CONTEXT                   for INPUTS functions with an inner step through the models
#                                   (DeCowA's adversarial warp), filled by main(): ens (ens.logits,
#                                   ens.logits64), loss(z, y, t) summed over rows, y, t, n (row r of
#                                   any model input is image r % n); per step traced(name, like) (as
#                                   the strategies' ctx.traced: the array Java traced, InputGradients
#                                   #trace, or None) and inner_agree, a list of boolean tensors
#                                   (own == Java's) whose minimum fraction is the step's
#                                   input_inner_agree (min_input_inner_agree)
# grad_at(p) is the gradient at one point; a rule that samples several points draws all its noise
# first and then calls grad_at on each point in order (the order the Java engine consumes the
# input transforms' draws in). A plug-in registers with `import reference_updates`: load_plugins
# makes that name this running module (run as a script it is __main__, and a plain import would
# load a second copy whose dicts main() never reads).
RULES, INPUTS, GRADIENTS, ENSEMBLES, LOSSES, META, AUGMENTS = {}, {}, {}, {}, {}, {}, {}


class _InputContext:
    traced = staticmethod(lambda name, like=None: None)
    inner_agree = []
    inner_diff = 0.0  # the step's largest |own - Java's| over the traced inner arrays (reported)


INPUT_CONTEXT = _InputContext()


def load_plugins():
    import glob
    import importlib
    sys.modules.setdefault("reference_updates", sys.modules[__name__])
    here = os.path.dirname(os.path.abspath(__file__))
    for f in sorted(glob.glob(os.path.join(here, "reference_ext_*.py"))):
        importlib.import_module(os.path.basename(f)[:-3])


class JavaRandom:
    """java.util.Random: 48-bit LCG, nextFloat = next(24) / 2^24."""

    MASK = (1 << 48) - 1

    def __init__(self, seed):
        self.seed = (seed ^ 0x5DEECE66D) & self.MASK

    def next_bits(self, bits):
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & self.MASK
        return self.seed >> (48 - bits)

    def next_int(self, bound):
        """java.util.Random.nextInt(bound), rejection loop included."""
        r = self.next_bits(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < (1 << 31):  # Java: u - r + m overflows int
                return r
            u = self.next_bits(31)

    def next_float(self):
        return self.next_bits(24) / float(1 << 24)

    def floats(self, count):
        out = np.empty(count, dtype=np.float32)
        s = self.seed
        a, c, m = 0x5DEECE66D, 0xB, self.MASK
        for i in range(count):
            s = (s * a + c) & m
            out[i] = (s >> 24) / 16777216.0
        self.seed = s
        return out


def uniform(rngs, rows, per, lo, hi):
    lo, hi = np.float32(lo), np.float32(hi)
    out = np.empty((rows, per), dtype=np.float32)
    for r in range(rows):
        out[r] = lo + (hi - lo) * rngs[r % len(rngs)].floats(per)
    return torch.from_numpy(out)


def parse_spec(text):
    m = re.fullmatch(r"\s*([a-z0-9_]+)\s*(?:\((.*)\))?\s*", text.lower())
    name, inner = m.group(1), m.group(2)
    params = {}
    if inner:
        for kv in inner.split(","):
            k, v = kv.split("=")
            params[k.strip()] = v.strip()
    return name, params


def loss_fn(spec):
    name, p = parse_spec(spec)
    if name == "ce":
        wu, wt = float(p.get("untargeted", 1)), float(p.get("targeted", 0))
        return lambda z, y, t: wu * cross_entropy(z, y) - wt * cross_entropy(z, t)
    if name == "logit":
        return lambda z, y, t: z.gather(1, t[:, None]).sum()
    if name in ("margin", "cw"):
        targeted = p.get("targeted", "false") == "true"

        def margin(z, y, t):
            cls = t if targeted else y
            own = z.gather(1, cls[:, None])[:, 0]
            others = z.scatter(1, cls[:, None], float("-inf")).max(dim=1).values
            return (own - others).sum() if targeted else (others - own).sum()
        return margin
    if name == "potrip":
        lam, gamma = float(p.get("lambda", 0.01)), float(p.get("margin", 0.007))

        def poincare(a, b):  # per image
            return torch.acosh(1.0 + 2 * (a - b).square().sum(1) / ((1 - a.square().sum(1)) * (1 - b.square().sum(1))))

        def cos(a, b):  # |a.b| / (|a| |b|), per image
            return (a * b).sum(1).abs() / torch.sqrt(a.square().sum(1) * b.square().sum(1))

        def potrip(z, y, t):
            t_hot = F.one_hot(t, z.shape[1]).to(z.dtype)
            y_hot = F.one_hot(y, z.shape[1]).to(z.dtype)
            po = poincare(z / z.abs().sum(1, keepdim=True), torch.clamp(t_hot - 0.00001, 0.0, 1.0))
            trip = torch.clamp(cos(y_hot, z) - cos(t_hot, z) + gamma, 0.0, 2.1)
            return -(po + lam * trip).sum()
        return potrip
    raise ValueError(f"unknown loss {spec}")


def _perlin_grad(h, x, y):
    """Perlin's reference gradient grad(h, x, y, z) at z = 0, vectorised over h."""
    h = h & 15
    u = np.where(h < 8, x, y)
    v = np.where(h < 4, y, np.where((h == 12) | (h == 14), x, 0.0))
    return np.where((h & 1) == 0, u, -u) + np.where((h & 2) == 0, v, -v)


def _improved_noise(perm, x, y):
    fx, fy = np.floor(x), np.floor(y)
    xi, yi = fx.astype(np.int64) & 255, fy.astype(np.int64) & 255
    xf, yf = x - fx, y - fy
    fade = lambda t: t * t * t * (t * (t * 6 - 15) + 10)  # noqa: E731
    lerp = lambda t, a, b: a + t * (b - a)  # noqa: E731
    u, v = fade(xf), fade(yf)
    a, b = perm[xi] + yi, perm[xi + 1] + yi
    x1 = lerp(u, _perlin_grad(perm[a], xf, yf), _perlin_grad(perm[b], xf - 1, yf))
    x2 = lerp(u, _perlin_grad(perm[a + 1], xf, yf - 1), _perlin_grad(perm[b + 1], xf - 1, yf - 1))
    return lerp(v, x1, x2)


def perlin_pattern(rng, h, w, period, octaves, sine, sign_map):
    """The colour-mapped Perlin pattern of one image, float64 [h, w] in [-1, 1]."""
    p = list(range(256))
    for i in range(255, 0, -1):
        j = rng.next_int(i + 1)
        p[i], p[j] = p[j], p[i]
    perm = np.array(p + p, dtype=np.int64)
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    total, amp, norm, freq = np.zeros((h, w)), 1.0, 0.0, 1.0 / period
    for _ in range(octaves):
        total = total + amp * _improved_noise(perm, rows * freq, cols * freq)
        norm += amp
        amp *= 0.5
        freq *= 2
    n = total / norm
    lo, hi = n.min(), n.max()
    n = (n - lo) / (hi - lo) if hi > lo else np.zeros_like(n)
    s = np.sin(n * sine * np.pi)
    return np.sign(s) if sign_map else s


def target_guides(meta, x0, t):
    """Per row, the image of class t with the smallest ImageId in the dataset's dev.csv (x0 if none)."""
    import csv
    from PIL import Image
    d, base = meta["dataset"], int(meta.get("labelBase", 0))
    best = {}
    with open(os.path.join(d, "dev.csv"), newline="") as f:
        for row in csv.DictReader(f):
            try:
                label = int(row["TrueLabel"]) - base
            except ValueError:
                continue
            if label not in best or row["ImageId"] < best[label]:
                best[label] = row["ImageId"]
    g = x0.clone()
    for i, cls in enumerate(t.tolist()):
        if cls in best:
            path = os.path.join(d, "images", best[cls])
            if not os.path.exists(path):
                path = os.path.join(d, best[cls])
            arr = np.asarray(Image.open(path).convert("RGB")).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
            gi = torch.from_numpy(arr.copy())[None]
            if list(gi.shape[-2:]) != list(x0.shape[-2:]):
                gi = F.interpolate(gi, size=list(x0.shape[-2:]), mode="bilinear", align_corners=False).clamp(0, 1)
            g[i] = gi[0]
    return g


def start(meta, x0, t, eps, rngs):
    """x_0 as the Java engine starts, consuming the init's draws from rngs; clipped."""
    name, p = parse_spec(meta.get("init", "zeros"))
    shape = list(x0.shape)
    if name == "zeros":
        x = x0.clone()
    elif name == "uniform":
        r = np.float32(float(p.get("radius", 1.0)) * np.float32(eps))
        x = x0 + uniform(rngs, shape[0], int(np.prod(shape[1:])), -r, r).reshape(x0.shape)
    elif name == "perlin":
        scale = float(p.get("amplitude", 1.0)) * float(np.float32(eps))
        delta = np.empty(shape, dtype=np.float32)
        for i in range(shape[0]):
            s = perlin_pattern(rngs[i], shape[2], shape[3], float(p.get("period", 60)), int(p.get("octaves", 4)),
                               float(p.get("sine", 36)), p.get("map", "sine") == "sign")
            delta[i] = (scale * s).astype(np.float32)[None]
        x = x0 + torch.from_numpy(delta)
    elif name == "target":
        x = x0 + float(p.get("alpha", 1.0)) * (target_guides(meta, x0, t) - x0)
    else:
        raise ValueError(f"init {name}: no reference")
    return torch.minimum(torch.maximum(x, x0 - eps), x0 + eps).clamp(0.0, 1.0)


def di_plans(rngs, rows, h, p, resize):
    """DI's draws for `rows` rows of H-high images: [rnd, top, left, on] per row (see the doc)."""
    side = int(math.floor(h * resize))
    plans = []
    for r in range(rows):
        g = rngs[r % len(rngs)]
        rnd = h + g.next_int(side - h) if side > h else h
        rem = side - rnd
        top = g.next_int(rem) if rem > 0 else 0
        left = g.next_int(rem) if rem > 0 else 0
        on = g.next_float() < p and side > h
        plans.append([rnd, top, left, on])
    return plans


def input_transform(spec, x, rngs):
    name, p = parse_spec(spec)
    if name == "di":
        resize = float(p.get("resize", 1.1))
        plans = di_plans(rngs, x.shape[0], x.shape[2], float(p.get("p", 0.5)), resize)
        return reference_parts.di(x, {"resize": resize, "plans": plans})
    if name == "si":
        return torch.cat([x / (2 ** i) for i in range(int(p.get("copies", 5)))], 0)
    if name in INPUTS:
        return INPUTS[name](x, p, rngs)
    raise ValueError(f"input {spec}: no reference")


def gradient_transform(spec, g):
    name, p = parse_spec(spec)
    if name == "ti":
        size = int(p.get("size", 15))
        k = reference_parts.kernel(p.get("kernel", "gaussian"), size, float(p.get("sigma", 3)))
        return F.conv2d(g, k, stride=1, padding=(size - 1) // 2, groups=g.shape[1])
    if name in GRADIENTS:
        return GRADIENTS[name](g, p)
    raise ValueError(f"gradient {spec}: no reference")


class Rule:
    def __init__(self, meta):
        name, p = parse_spec(meta["update"])
        self.name = name
        self.decay = float(p.get("decay", 1.0))
        self.n = int(p.get("n", 20))
        self.beta = float(p.get("beta", 1.5))
        self.nesterov = name in ("ni", "vni")
        self.variance = name in ("vmi", "vni")
        self.momentum = name in ("mi", "ni", "vmi", "vni")
        self.eps = meta["epsPixels"] / 255.0
        self.alpha = meta["stepSizePixels"] / 255.0

    def point(self, x, m):
        return x + (self.alpha * self.decay) * m if self.nesterov else x

    def step(self, x, m, v, g, x0, grad_at, rngs):
        """-> x_next, m_next, v_next (v_next None without variance tuning)."""
        if self.momentum:
            gb = g + v if (self.variance and v is not None) else g
            norm = gb.abs().reshape(gb.shape[0], -1).mean(dim=1).clamp_min(1e-12).reshape(-1, 1, 1, 1)
            m_next = self.decay * m + gb / norm
            d = torch.sign(m_next)
        else:
            m_next, d = m, torch.sign(g)
        v_next = None
        if self.variance:
            rows, per = x.shape[0], x[0].numel()
            r = np.float32(self.beta * np.float32(self.eps))
            # All neighbours' noise first, then their gradients (the input transforms' draws of
            # neighbour 0, 1, ...): the order of one batched call.
            noises = [uniform(rngs, rows, per, -r, r).reshape(x.shape) for _ in range(self.n)]
            acc = None
            for noise in noises:
                gi = grad_at(x + noise)
                acc = gi if acc is None else acc + gi
            v_next = acc / self.n - g
        x_next = x + self.alpha * d
        x_next = torch.minimum(torch.maximum(x_next, x0 - self.eps), x0 + self.eps).clamp(0.0, 1.0)
        return x_next, m_next, v_next


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    d = args.dump
    meta = json.load(open(os.path.join(d, "meta.json")))
    ens = Ensemble([Member(m["path"], m.get("weight", 1.0), m.get("card")) for m in meta["models"]])
    shape = [int(v) for v in meta["shape"]]
    y = torch.tensor(meta["labels0"], dtype=torch.int64)
    t = torch.tensor(meta["targets0"], dtype=torch.int64)
    read = lambda name: _f32_read(os.path.join(d, name), shape)  # noqa: E731
    exists = lambda name: os.path.exists(os.path.join(d, name))  # noqa: E731

    def traced_at(step, name, like=None):
        """The array Java traced as state `name` of step `step` (batch-shaped, or shaped like `like`), or None."""
        f = f"step_{step}_next_{name}.f32"
        return _f32_read(os.path.join(d, f), list(like.shape) if like is not None else shape) if exists(f) else None
    META.update(meta)
    load_plugins()
    loss_name, loss_params = parse_spec(meta["loss"])
    feature = LOSSES[loss_name](meta, loss_params) if loss_name in LOSSES else None
    loss = None if feature is not None else loss_fn(meta["loss"])
    rule_name, rule_params = parse_spec(meta["update"])
    plugin = RULES[rule_name](meta, rule_params) if rule_name in RULES else None
    discrete = set(getattr(plugin, "discrete", ()))
    rule = plugin or Rule(meta)
    augments = []
    for spec in meta.get("augment", []):
        aug_name, aug_params = parse_spec(spec)
        if aug_name not in AUGMENTS:
            raise ValueError(f"augment {spec}: no reference")
        augments.append(AUGMENTS[aug_name](meta, aug_params, ens))
    if len(augments) > 1:
        raise ValueError("one model augmentation at a time")
    # Whose logits the step's gradients take: the augmentation's (its per-step choice) or the ensemble's.
    head = augments[0] if augments else ens
    seeds = [int(s) for s in meta["seeds"]]
    x0 = read("clean.f32")

    inputs = meta.get("inputs", [])
    gradients = meta.get("gradients", [])
    filt = meta.get("filter", "none")
    copies = int(meta.get("copies", 1))
    lo, hi = x0 - rule.eps, x0 + rule.eps

    def image(p):
        if filt in (None, "", "none"):
            return p
        c = x0.to(p.dtype)
        d = reference_parts.perturbation_filter(p - c, filt)
        return torch.minimum(torch.maximum(c + d, lo.to(p.dtype)), hi.to(p.dtype)).clamp(0.0, 1.0)

    def grads_at(p, heads, streams=None, f64=False):
        # f64: the same gradient in float64 (image, filter, models and loss; each input transform's
        # output and each gradient transform's input cast, as those reference parts round to
        # float32), with the draws of `streams`: the exact value both float32 sides approximate.
        streams = rngs if streams is None else streams
        p = p.detach().clone().to(torch.float64 if f64 else torch.float32).requires_grad_(True)
        inp = image(p)
        if copies > 1:
            inp = inp.repeat(copies, 1, 1, 1)
        for spec in inputs:
            inp = input_transform(spec, inp, streams)
            inp = inp.double() if f64 else inp
        k = inp.shape[0] // shape[0]
        out = []
        for j, head in enumerate(heads):
            if feature is not None:
                if f64:
                    raise NotImplementedError("feature losses have no float64 path")
                value = feature.loss(inp, y.repeat(k), t.repeat(k), shape[0])
            else:
                value = loss(head(inp), y.repeat(k), t.repeat(k))
            (g,) = torch.autograd.grad(value / k, p, retain_graph=j < len(heads) - 1)
            for spec in gradients:
                g = gradient_transform(spec, g.float()).double() if f64 else gradient_transform(spec, g)
            out.append(g)
        return out

    def judge_gradient(g_java, g_ref, p, streams):
        """The step's gradient agreement: Java against the float32 reference, or, where that
        exceeds 1e-6, against the same gradient in float64 if Java is closer to it. At a kink (a
        clip whose input ties its bound in float32, where torch.minimum splits the gradient in
        half; a ReLU at 0) one float32 side can round onto the other branch: the float64 value
        decides which side is right, and Java must then be within the tolerance of it."""
        r = _rel_l2(g_java, g_ref)
        out = dict(grad_rel_l2=r)
        if r <= 1e-6:
            return out
        try:
            g64 = grads_at(p, [head.logits64], copy.deepcopy(streams), f64=True)[0]
        except Exception as e:  # a part without a float64 path: the float32 judgement stands
            return dict(out, grad_f64_error=repr(e))
        java64, ref64 = _rel_l2(g_java.double(), g64), _rel_l2(g_ref.double(), g64)
        out.update(grad_rel_l2_ref32=r, grad_java_vs_f64_rel_l2=java64, grad_ref32_vs_f64_rel_l2=ref64,
                   grad_rel_l2=min(r, java64))
        return out

    def grad_at(p):
        return grads_at(p, [head.logits])[0]

    ens_name, ens_params = parse_spec(meta.get("ensemble", "logits"))
    strategy = ENSEMBLES[ens_name](meta, ens_params) if ens_name in ENSEMBLES else None

    class StrategyContext:
        pass

    sctx = StrategyContext()
    sctx.grads_at, sctx.members, sctx.n, sctx.y, sctx.t, sctx.loss = grads_at, ens.members, shape[0], y, t, loss

    def ensemble_step(s, p, g):
        """-> the gradient the rule uses, and the strategy's compared state (none without one).

        g is Java's ensemble gradient of the step (compared with the reference's own above):
        teacher forcing, since CWA's reverse step takes its sign."""
        if strategy is None:
            return g, {}
        sctx.rngs = rngs
        # Inner iterates the Java strategy traced (step_{s}_next_{name}.f32): the reference takes
        # its inner gradients there (teacher forcing) and records, per inner iterate, where its
        # own agrees (strategy.inner_agree: boolean tensors, compared like the iterate).
        sctx.traced = lambda name, like=None: traced_at(s, name, like)
        strategy.inner_agree = []
        state = {k: read(f"step_{s}_{k}.f32") if exists(f"step_{s}_{k}.f32") else None for k in strategy.extras}
        g_use, state_next = strategy.gradient(p, g, x0, sctx, state)
        return g_use, dict(state_next, ensemble_grad=g_use)

    strategy_keys = set(getattr(strategy, "extras", ())) | ({"ensemble_grad"} if strategy else set())
    INPUT_CONTEXT.ens, INPUT_CONTEXT.loss, INPUT_CONTEXT.y, INPUT_CONTEXT.t = head, loss, y, t
    INPUT_CONTEXT.n = shape[0]

    # The streams as Java consumed them: the init's draws first, then per step.
    rngs = [JavaRandom(s) for s in seeds]
    loss_state, loss_agree = {}, {}
    if feature is not None:
        # The loss's per-attack state first (its draws before the start's), as the Java engine.
        class LossContext:
            pass
        lctx = LossContext()
        lctx.ens, lctx.agree = ens, loss_agree
        lctx.traced = lambda name, like=None: traced_at(0, name, like)
        lctx.traced_step = traced_at
        for name, (own, java) in feature.prepare(x0, y, t, rngs, lctx).items():
            loss_state[name] = _rel_l2(java, own) if java is not None else float("inf")
    x_start = start(meta, x0, t, rule.eps, rngs)
    init_agree = _frac((read("step_0_x.f32") - x_start).abs() < 1e-6)
    steps = []
    for s in range(meta["steps"]):
        x, m = read(f"step_{s}_x.f32"), read(f"step_{s}_m.f32")
        v = read(f"step_{s}_v.f32") if exists(f"step_{s}_v.f32") else None
        g_java = read(f"step_{s}_grad.f32")
        for a in augments:
            a.begin_step(rngs)
        if feature is not None and hasattr(feature, "begin_step"):
            # The loss's per-step state (ILPD's noisy reference), its draws first in the step.
            for name, (own, java) in feature.begin_step(s, x0, rngs, lctx).items():
                loss_state[name] = _rel_l2(java, own) if java is not None else float("inf")
        streams_before = copy.deepcopy(rngs)
        INPUT_CONTEXT.traced = (lambda s_: lambda name, like=None: traced_at(s_, name, like))(s)
        INPUT_CONTEXT.inner_agree, INPUT_CONTEXT.inner_diff = [], 0.0
        if plugin is None:
            g_ref = grad_at(rule.point(x, m))
            g_use, ne_ens = ensemble_step(s, rule.point(x, m), g_java)
            nx_ref, nm_ref, nv_ref = rule.step(x, m, v, g_use, x0, grad_at, rngs)
            ne_ref = {}
        else:
            extras = {k: read(f"step_{s}_{k}.f32") if exists(f"step_{s}_{k}.f32") else None for k in plugin.extras}
            g_ref = grad_at(plugin.point(x, m, extras))
            g_use, ne_ens = ensemble_step(s, plugin.point(x, m, extras), g_java)
            nx_ref, nm_ref, nv_ref, ne_ref = plugin.step(x, m, v, g_use, x0, grad_at, rngs, extras)
        ne_ref = dict(ne_ref, **ne_ens)
        # Every image is compared: both sides compute CE without the cancellation of p - 1, so a
        # saturated image's gradient is small but accurate, not rounding noise.
        keep = torch.ones(shape[0], dtype=torch.bool)
        inner_agree = [_frac(a[keep]) for a in getattr(strategy, "inner_agree", []) if bool(keep.any())]
        agree = ((read(f"step_{s}_next_x.f32") - nx_ref).abs() < 1e-6)[keep]
        point = rule.point(x, m) if plugin is None else plugin.point(x, m, extras)
        row = dict(step=s, **judge_gradient(g_java, g_ref, point, streams_before),
                   ensemble_inner_agree=min(inner_agree, default=1.0),
                   input_inner_agree=min((_frac(a) for a in INPUT_CONTEXT.inner_agree), default=1.0),
                   input_inner_max_abs_diff=INPUT_CONTEXT.inner_diff,
                   next_x_agree=_frac(agree) if agree.numel() else 1.0,
                   next_m_rel_l2=_rel_l2(read(f"step_{s}_next_m.f32"), nm_ref))
        if nv_ref is not None:
            row["next_v_rel_l2"] = _rel_l2(read(f"step_{s}_next_v.f32"), nv_ref)
        for k, val in ne_ref.items():
            java_k = read(f"step_{s}_next_{k}.f32")
            if k in discrete:
                # Piecewise-constant state (a decay indicator): compared element by element like
                # the iterate, since one element at a sign boundary moves its rel L2 past any bound.
                row[f"next_{k}_agree"] = _frac((java_k - val).abs() <= 1e-6 * val.abs().clamp_min(1.0))
            elif k in strategy_keys:
                # An ensemble strategy's gradient and state on a saturated image are rounding
                # noise, amplified by the per-image normalisation of its inner steps: compared on
                # the kept images, like the iterate (all images reported beside it). Kept apart
                # from the rule's extras: built from gradients at x_t, they take the step's
                # gradient tolerance (ParityHarness).
                row[f"{k}_rel_l2"] = _rel_l2(java_k[keep], val[keep]) if bool(keep.any()) else 0.0
                row[f"{k}_all_images_rel_l2"] = _rel_l2(java_k, val)
                row["ensemble_rel_l2"] = max(row.get("ensemble_rel_l2", 0.0), row[f"{k}_rel_l2"])
            else:
                row[f"next_{k}_rel_l2"] = _rel_l2(java_k, val)
        steps.append(row)
    final_agree = None
    if exists("final_x.f32"):
        last = read(f"step_{meta['steps'] - 1}_next_x.f32")
        final_agree = _frac((read("final_x.f32") - image(last)).abs() < 1e-6)
    report = dict(steps=steps, init_x_agree=init_agree, final_x_agree=final_agree,
                  loss_state_rel_l2=loss_state, loss_state_agree=loss_agree,
                  max_loss_state_rel_l2=max(loss_state.values(), default=0.0),
                  min_loss_state_agree=min(loss_agree.values(), default=1.0),
                  max_grad_rel_l2=max(r["grad_rel_l2"] for r in steps),
                  max_ensemble_grad_rel_l2=max((r.get("ensemble_grad_rel_l2", 0.0) for r in steps), default=0.0),
                  max_ensemble_rel_l2=max((r.get("ensemble_rel_l2", 0.0) for r in steps), default=0.0),
                  min_ensemble_inner_agree=min(r["ensemble_inner_agree"] for r in steps),
                  min_input_inner_agree=min(r["input_inner_agree"] for r in steps),
                  min_next_x_agree=min(r["next_x_agree"] for r in steps),
                  max_next_v_rel_l2=max((r.get("next_v_rel_l2", 0.0) for r in steps), default=0.0),
                  max_next_extra_rel_l2=max((v for r in steps for k, v in r.items()
                                             if k.startswith("next_") and k.endswith("_rel_l2")
                                             and k not in ("next_m_rel_l2", "next_v_rel_l2")), default=0.0),
                  min_next_extra_agree=min((v for r in steps for k, v in r.items()
                                            if k.startswith("next_") and k.endswith("_agree") and k != "next_x_agree"),
                                           default=1.0))
    text = json.dumps(report, indent=2)
    with open(os.path.join(d, "parity.json"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
