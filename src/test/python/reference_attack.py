#!/usr/bin/env python3
"""Independent PyTorch reference of advspark's MI-FGSM transfer attack, for parity tests.

Only torch, numpy, PIL and the standard library are used; run it with the system Python that has
PyTorch 1.13 (`/usr/bin/python3`). Three modes:

  e2e   attack a Tianchi-layout folder end to end and write adversarial PNGs + summary.json:

          /usr/bin/python3 src/test/python/reference_attack.py e2e \\
              --data /work/shared/data/nips17-dev-300 --label-base 1 \\
              --model /work/shared/models/imagenet/mobilenet_v1_0.25_128.pt \\
              --model /work/shared/models/imagenet/mobilenet_v1_0.5_160.pt:1.0 \\
              --eps 16 --steps 10 --objective untargeted --limit 20 --out /tmp/ref_out

  step  check a per-step dump written by the Java implementation (format below) step by step,
        plus a whole reference trajectory from the clean images; prints a JSON report and writes
        it to DIR/parity.json:

          /usr/bin/python3 src/test/python/reference_attack.py step --dump DIR

  dump  write such a dump with this reference itself (used by the self-test; also a sample of
        the format for the Java side). Same arguments as e2e, --out is the dump folder.

Specification (both implementations follow it literally):

  pixels   x in [0,1], float32, NCHW; PNG uint8 -> torch.from_numpy(arr).float() / 255.0
  models   z_k = model_k((resize(x) - mean_k) / std_k)[:, off_k : off_k + C]
           resize = F.interpolate(bilinear, align_corners=False) to card.input_size, computed in
           float64 and rounded to float32 (float32 kernels differ between PyTorch releases, 1.13
           here and libtorch 2.7.1 in advspark; float64 ones agree), skipped when the size already matches; mean/std float32 [1,3,1,1]; off = card.label_offset,
           C = card.dataset_classes. Ensemble z = sum_k s_k z_k, s_k = w_k / sum_j w_j (Dong et al.: weights sum to 1).
  loss     (ascended) wu * CE(z, y, sum) - wt * CE(z, t, sum); y, t 0-based (= CSV label - labelBase).
           untargeted: wu=1, wt=0; targeted: wu=0, wt=1; weighted: --wu/--wt.
  step     g = dloss/dx_t; m_{t+1} = mu m_t + g / max(mean(|g|, dims 1..3), 1e-12);
           x_{t+1} = clamp(clamp(x_t + alpha sign(m_{t+1}), x0 - eps, x0 + eps), 0, 1),
           eps = epsPixels/255, alpha = stepSizePixels/255 (default epsPixels/T), x_0 = clean, m_0 = 0.
  write    q = floor(x_T * 255 + 0.5), clamped into [max(ceil(c - epsPixels), 0), min(floor(c + epsPixels), 255)]
           with c the clean uint8 value; uint8 PNG via PIL, same file name.
  report   predictions = argmax over the C dataset columns (+ labelBase for the CSV convention).
           clean_pred is on the clean image, adv_pred on the WRITTEN PNG (decoded again from disk).
           Untargeted success: adv_pred != true; targeted success: adv_pred == target.
           linf / l2 on the written PNG vs clean, in 0..255 units, over all pixels and channels.

Threads: pass --threads explicitly when timing. With ONE intra-op thread, PyTorch 1.13 on CPU runs
1x1 convolutions of batches < 16 with its slow im2col kernel instead of oneDNN (heuristic in
ATen's use_mkldnn), which made the MobileNet e2e run ~6x slower here than with 2 threads. The
choice of kernel also changes float rounding, so two runs of this reference with different thread
counts differ slightly (per-step grad_rel_l2 up to ~2e-3 on the MobileNets, and whole 10-step
trajectories diverge on ~30 % of the elements: sign(m) is chaotic) - the step-wise metrics, not the
trajectory ones, are the meaningful parity check.

Dump format (step mode input): DIR/meta.json =
  {"models": [{"path": "/abs/x.pt", "card": "/abs/x.json", "weight": 1.0}], "epsPixels": 16,
   "stepSizePixels": 1.6, "decay": 1.0, "untargetedWeight": 1.0, "targetedWeight": 0.0,
   "shape": [N, 3, H, W], "labels0": [...], "targets0": [...], "steps": 10}
and raw little-endian float32 files in C order of `shape`: clean.f32 and, for t = 0..steps-1,
step_<t>_x.f32, step_<t>_m.f32, step_<t>_grad.f32, step_<t>_next_x.f32, step_<t>_next_m.f32.
"""

import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


# ----------------------------------------------------------------------------------------------
# Models and ensemble
# ----------------------------------------------------------------------------------------------

class Member:
    """One TorchScript classifier with its card."""

    def __init__(self, path, weight, card_path=None):
        self.path = os.path.abspath(path)
        self.card_path = os.path.abspath(card_path or os.path.splitext(path)[0] + ".json")
        with open(self.card_path) as f:
            card = json.load(f)
        self.card = card
        self.weight = float(weight)
        self.input_size = [int(v) for v in card["input_size"]]
        self.mean = torch.tensor(card["mean"], dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(card["std"], dtype=torch.float32).view(1, 3, 1, 1)
        self.offset = int(card["label_offset"])
        self.classes = int(card["dataset_classes"])
        self.model = torch.jit.load(self.path, map_location="cpu")
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def logits(self, x01):
        """Dataset-column logits z_k of pixel-space input x01 (float32 NCHW in [0,1])."""
        if list(x01.shape[-2:]) != self.input_size:
            x01 = F.interpolate(x01.double(), size=self.input_size, mode="bilinear", align_corners=False).float()
        return self.model((x01 - self.mean) / self.std)[:, self.offset:self.offset + self.classes]


class Ensemble:
    def __init__(self, members):
        if not members:
            raise ValueError("at least one model is needed")
        classes = {m.classes for m in members}
        if len(classes) != 1:
            raise ValueError(f"models disagree on dataset_classes: {sorted(classes)}")
        self.members = members
        self.classes = classes.pop()

    def logits(self, x01):
        total = sum(m.weight for m in self.members)
        z = None
        for m in self.members:
            share = m.weight / total
            term = m.logits(x01) if share == 1.0 else share * m.logits(x01)
            z = term if z is None else z + term
        return z

    def predict(self, x01):
        with torch.no_grad():
            return self.logits(x01).argmax(dim=1)

    def logits64(self, x01):
        """The same ensemble in float64 throughout (each model reloaded and cast once): the exact
        value that both float32 implementations approximate, for judging their rounding."""
        total = sum(m.weight for m in self.members)
        z = None
        for m in self.members:
            if not hasattr(m, "model64"):
                m.model64 = torch.jit.load(m.path, map_location="cpu").double().eval()
                for p in m.model64.parameters():
                    p.requires_grad_(False)
            x = x01
            if list(x.shape[-2:]) != m.input_size:
                x = F.interpolate(x, size=m.input_size, mode="bilinear", align_corners=False)
            zm = m.model64((x - m.mean.double()) / m.std.double())[:, m.offset:m.offset + m.classes]
            term = zm * (m.weight / total)
            z = term if z is None else z + term
        return z


def parse_model_arg(spec):
    """'PATH.pt[:WEIGHT]' -> (path, weight)."""
    if ":" in spec:
        head, tail = spec.rsplit(":", 1)
        try:
            return head, float(tail)
        except ValueError:
            pass
    return spec, 1.0


# ----------------------------------------------------------------------------------------------
# The attack
# ----------------------------------------------------------------------------------------------

class AttackConfig:
    def __init__(self, eps_pixels, steps, step_size_pixels=None, decay=1.0, wu=1.0, wt=0.0):
        self.eps_pixels = float(eps_pixels)
        self.steps = int(steps)
        self.step_size_pixels = float(step_size_pixels) if step_size_pixels is not None else self.eps_pixels / self.steps
        self.decay = float(decay)
        self.wu = float(wu)
        self.wt = float(wt)
        self.eps01 = self.eps_pixels / 255.0
        self.alpha01 = self.step_size_pixels / 255.0

    def as_dict(self):
        return dict(epsPixels=self.eps_pixels, stepSizePixels=self.step_size_pixels, decay=self.decay,
                    untargetedWeight=self.wu, targetedWeight=self.wt, steps=self.steps)


def cross_entropy(z, c):
    """sum over rows of -log softmax(z)_c, written as softplus(logsumexp_{j != c}(z_j - z_c)).

    The same number as F.cross_entropy, but its gradient stays accurate where softmax(z)_c rounds
    to 1 in float32: the textbook backward p_c - 1 cancels to 0 or a multiple of 2^-24 there,
    rounding noise that would make a confidently classified image's gradient incomparable."""
    d = z - z.gather(1, c[:, None])
    d = d.masked_fill(F.one_hot(c, z.shape[1]).bool(), float("-inf"))
    return F.softplus(torch.logsumexp(d, dim=1)).sum()


def gradient(ens, x, y, t, cfg):
    """d loss / d x at x (the loss that is ascended)."""
    x = x.detach().clone().requires_grad_(True)
    z = ens.logits(x)
    loss = cfg.wu * cross_entropy(z, y) - cfg.wt * cross_entropy(z, t)
    (g,) = torch.autograd.grad(loss, x)
    return g


def gradient64(ens, x, y, t, cfg):
    """The gradient of `gradient` computed in float64 (returned as float64)."""
    x = x.detach().double().clone().requires_grad_(True)
    z = ens.logits64(x)
    loss = cfg.wu * F.cross_entropy(z, y, reduction="sum") - cfg.wt * F.cross_entropy(z, t, reduction="sum")
    (g,) = torch.autograd.grad(loss, x)
    return g


def mi_update(x, m, g, x0, cfg):
    """One MI-FGSM update from (x_t, m_t, g) -> (x_{t+1}, m_{t+1})."""
    norm = g.abs().mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
    m_next = cfg.decay * m + g / norm
    x_next = x + cfg.alpha01 * torch.sign(m_next)
    x_next = torch.minimum(torch.maximum(x_next, x0 - cfg.eps01), x0 + cfg.eps01)
    return x_next.clamp(0.0, 1.0), m_next


def attack(ens, x0, y, t, cfg, on_step=None):
    """MI-FGSM from clean x0; on_step(step, x_t, m_t, g, x_next, m_next) is called after each step."""
    x, m = x0.clone(), torch.zeros_like(x0)
    for step in range(cfg.steps):
        g = gradient(ens, x, y, t, cfg)
        x_next, m_next = mi_update(x, m, g, x0, cfg)
        if on_step is not None:
            on_step(step, x, m, g, x_next, m_next)
        x, m = x_next, m_next
    return x


def quantise(x_final, clean_u8, eps_pixels):
    """The writing rule: round to 0..255 and keep every pixel inside the clean uint8 eps-ball."""
    q = torch.floor(x_final * 255.0 + 0.5)
    c = clean_u8.float()
    lo = torch.clamp(torch.ceil(c - eps_pixels), min=0.0)
    hi = torch.clamp(torch.floor(c + eps_pixels), max=255.0)
    return torch.minimum(torch.maximum(q, lo), hi).to(torch.uint8)


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------

def read_dataset(folder, label_base, limit=None):
    """Rows of dev.csv as dicts with image path, 0-based true label and target (None if absent)."""
    img_dir = os.path.join(folder, "images")
    if not os.path.isdir(img_dir):
        img_dir = folder
    rows = []
    with open(os.path.join(folder, "dev.csv"), newline="") as f:
        for r in csv.DictReader(f):
            tgt = r.get("TargetClass")
            rows.append(dict(image_id=r["ImageId"], path=os.path.join(img_dir, r["ImageId"]),
                             label0=int(r["TrueLabel"]) - label_base,
                             target0=int(tgt) - label_base if tgt not in (None, "") else None))
    return rows[:limit] if limit else rows


def read_png(path):
    """uint8 CHW tensor, pixels as stored (RGB, no colour management)."""
    img = Image.open(path)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return torch.from_numpy(np.ascontiguousarray(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)))


def batches(rows, batch_size):
    """Consecutive batches; a batch is also cut where the image size changes."""
    batch, shape = [], None
    for r in rows:
        img = read_png(r["path"])
        if batch and (len(batch) == batch_size or tuple(img.shape) != shape):
            yield batch
            batch = []
        batch.append((r, img))
        shape = tuple(img.shape)
    if batch:
        yield batch


def labels_tensors(rows, classes, need_targets):
    y = torch.tensor([r["label0"] for r in rows], dtype=torch.int64)
    if need_targets and any(r["target0"] is None for r in rows):
        raise ValueError("the objective needs TargetClass but dev.csv has none")
    t = torch.tensor([r["target0"] if r["target0"] is not None else 0 for r in rows], dtype=torch.int64)
    for name, v in (("true", y), ("target", t)):
        if v.min() < 0 or v.max() >= classes:
            raise ValueError(f"0-based {name} labels outside [0, {classes}): check --label-base")
    return y, t


# ----------------------------------------------------------------------------------------------
# Modes
# ----------------------------------------------------------------------------------------------

def objective_weights(args):
    if args.objective == "untargeted":
        return 1.0, 0.0
    if args.objective == "targeted":
        return 0.0, 1.0
    return args.wu, args.wt


def load_ensemble(model_args):
    return Ensemble([Member(*parse_model_arg(s)) for s in model_args])


def run_e2e(args):
    ens = load_ensemble(args.model)
    wu, wt = objective_weights(args)
    cfg = AttackConfig(args.eps, args.steps, args.step_size, args.decay, wu, wt)
    out_img = os.path.join(args.out, "images")
    os.makedirs(out_img, exist_ok=True)
    rows = read_dataset(args.data, args.label_base, args.limit)
    base = args.label_base

    results, seconds_attack = [], 0.0
    t_start = time.perf_counter()  # whole work: read, attack, write (models already loaded)
    for batch in batches(rows, args.batch_size):
        rs = [r for r, _ in batch]
        clean_u8 = torch.stack([img for _, img in batch])
        x0 = clean_u8.float() / 255.0
        y, t = labels_tensors(rs, ens.classes, wt != 0.0)
        clean_pred = ens.predict(x0)

        t0 = time.perf_counter()
        x_final = attack(ens, x0, y, t, cfg)
        seconds_attack += time.perf_counter() - t0

        q = quantise(x_final, clean_u8, cfg.eps_pixels)
        for i, r in enumerate(rs):
            Image.fromarray(q[i].permute(1, 2, 0).numpy(), mode="RGB").save(os.path.join(out_img, r["image_id"]))
        # Metrics and adversarial predictions on the written files, decoded again.
        written = torch.stack([read_png(os.path.join(out_img, r["image_id"])) for r in rs])
        adv_pred = ens.predict(written.float() / 255.0)
        diff = written.double() - clean_u8.double()
        for i, r in enumerate(rs):
            results.append(dict(
                image_id=r["image_id"],
                true_label=r["label0"] + base,
                target_label=r["target0"] + base if r["target0"] is not None else None,
                clean_pred=int(clean_pred[i]) + base,
                adv_pred=int(adv_pred[i]) + base,
                untargeted_success=bool(int(adv_pred[i]) != r["label0"]),
                targeted_success=bool(r["target0"] is not None and int(adv_pred[i]) == r["target0"]),
                linf=float(diff[i].abs().max()),
                l2=float(diff[i].pow(2).sum().sqrt()),
            ))
    seconds_total = time.perf_counter() - t_start

    n = len(results)
    totals = dict(
        images=n,
        untargeted_success_rate=sum(r["untargeted_success"] for r in results) / n,
        targeted_success_rate=sum(r["targeted_success"] for r in results) / n,
        clean_accuracy=sum(r["clean_pred"] == r["true_label"] for r in results) / n,
        mean_l2=sum(r["l2"] for r in results) / n,
        max_linf=max(r["linf"] for r in results),
        seconds_total=seconds_total,
        seconds_attack=seconds_attack,
        images_per_second=n / seconds_total,
    )
    summary = dict(
        config=dict(cfg.as_dict(), data=os.path.abspath(args.data), labelBase=base, objective=args.objective,
                    batchSize=args.batch_size, threads=torch.get_num_threads(), torch=torch.__version__,
                    models=[dict(path=m.path, card=m.card_path, weight=m.weight) for m in ens.members],
                    adv_pred_on="written PNG"),
        images=results,
        totals=totals,
    )
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps(totals, indent=2))
    return summary


def _f32_write(path, tensor):
    tensor.detach().contiguous().numpy().astype("<f4", copy=False).tofile(path)


def _f32_read(path, shape):
    arr = np.fromfile(path, dtype="<f4")
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {arr.size} floats, expected {int(np.prod(shape))} for shape {shape}")
    return torch.from_numpy(arr.reshape(shape).astype(np.float32))


def run_dump(args):
    """Write a step dump (same format the Java side writes) using this reference."""
    ens = load_ensemble(args.model)
    wu, wt = objective_weights(args)
    cfg = AttackConfig(args.eps, args.steps, args.step_size, args.decay, wu, wt)
    rows = read_dataset(args.data, args.label_base, args.limit)
    batch = next(batches(rows, len(rows)))
    if len(batch) != len(rows):
        raise ValueError("dump needs images of one size")
    rs = [r for r, _ in batch]
    x0 = torch.stack([img for _, img in batch]).float() / 255.0
    y, t = labels_tensors(rs, ens.classes, wt != 0.0)
    os.makedirs(args.out, exist_ok=True)
    _f32_write(os.path.join(args.out, "clean.f32"), x0)

    def on_step(step, x, m, g, x_next, m_next):
        for name, v in (("x", x), ("m", m), ("grad", g), ("next_x", x_next), ("next_m", m_next)):
            _f32_write(os.path.join(args.out, f"step_{step}_{name}.f32"), v)

    attack(ens, x0, y, t, cfg, on_step)
    meta = dict(models=[dict(path=m.path, card=m.card_path, weight=m.weight) for m in ens.members],
                shape=list(x0.shape), labels0=y.tolist(), targets0=t.tolist(), **cfg.as_dict())
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"wrote dump of {cfg.steps} steps for {x0.shape[0]} images to {args.out}")
    return meta


def _rel_l2(a, b):
    """||a - b|| / ||b|| in float64 (0 when both are 0)."""
    a, b = a.double(), b.double()
    num, den = (a - b).norm().item(), b.norm().item()
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den


def _frac(mask):
    return float(mask.double().mean())


def run_step(dump_dir):
    with open(os.path.join(dump_dir, "meta.json")) as f:
        meta = json.load(f)
    ens = Ensemble([Member(m["path"], m.get("weight", 1.0), m.get("card")) for m in meta["models"]])
    cfg = AttackConfig(meta["epsPixels"], meta["steps"], meta.get("stepSizePixels"), meta.get("decay", 1.0),
                       meta.get("untargetedWeight", 1.0), meta.get("targetedWeight", 0.0))
    shape = [int(v) for v in meta["shape"]]
    y = torch.tensor(meta["labels0"], dtype=torch.int64)
    t = torch.tensor(meta["targets0"], dtype=torch.int64)
    read = lambda name: _f32_read(os.path.join(dump_dir, name), shape)  # noqa: E731
    x0 = read("clean.f32")

    steps, prev_next_x = [], None
    for step in range(cfg.steps):
        x, m, g_java = read(f"step_{step}_x.f32"), read(f"step_{step}_m.f32"), read(f"step_{step}_grad.f32")
        nx_java, nm_java = read(f"step_{step}_next_x.f32"), read(f"step_{step}_next_m.f32")
        g_ref = gradient(ens, x, y, t, cfg)
        nx_ref, nm_ref = mi_update(x, m, g_ref, x0, cfg)
        # PyTorch against itself at another thread count: how well-conditioned this step is. Where
        # an activation sits within float rounding of a ReLU6 clip point, this alone moves the
        # gradient by 1e-4..1e-3 (the "1 vs 2 threads" noise, amplified by a flipped mask).
        threads = torch.get_num_threads()
        torch.set_num_threads(1 if threads != 1 else 2)
        g_alt = gradient(ens, x, y, t, cfg)
        torch.set_num_threads(threads)
        nx_alt, _ = mi_update(x, m, g_alt, x0, cfg)
        # The update rule alone, fed with Java's own gradient: isolates update bugs from gradient noise.
        nx_upd, nm_upd = mi_update(x, m, g_java, x0, cfg)
        gd, gr = g_java.double().flatten(), g_ref.double().flatten()
        with torch.no_grad():
            p_images = torch.softmax(ens.logits(x), dim=1).gather(1, t[:, None])[:, 0]
            p_target = float(p_images.max())
        n = shape[0]
        err = (g_java.double() - g_ref.double()).reshape(n, -1)
        # The reference's own float32 error per image, against the same gradient in float64: where
        # a targeted CE saturates (its gradient is 1 - p_target), float32 rounding alone moves an
        # image's gradient far past 1e-5, on both sides.
        g64 = gradient64(ens, x, y, t, cfg) if cfg.wt > 0 else None
        err32 = (g_ref.double() - g64).reshape(n, -1).norm(dim=1) if g64 is not None else torch.zeros(n, dtype=torch.float64)
        agree = ((nx_java - nx_ref).abs() < 1e-6).reshape(n, -1).double().sum(1)
        steps.append(dict(
            step=step,
            # Targeted CE saturates in float32 as p_target -> 1 (its gradient 1 - p_target is computed
            # with cancellation), so tests judge gradient parity on unsaturated steps only.
            max_target_prob=p_target,
            # Per image, so a test can set aside images whose target CE has saturated and judge the
            # rest as strictly as any step: p_target, ||g_java - g_ref||, ||g_ref||, agreeing elements.
            target_prob=[float(v) for v in p_images.double()],
            image_grad_err_l2=[float(v) for v in err.norm(dim=1)],
            image_grad_ref_l2=[float(v) for v in g_ref.double().reshape(n, -1).norm(dim=1)],
            image_next_x_agree_count=[int(v) for v in agree],
            image_ref_float32_err_l2=[float(v) for v in err32],
            grad_rel_l2=_rel_l2(g_java, g_ref),
            ref_thread_grad_rel_l2=_rel_l2(g_alt, g_ref),
            ref_thread_next_x_agree=_frac((nx_alt - nx_ref).abs() < 1e-6),
            grad_cosine=float(gd @ gr) / max(float(gd.norm() * gr.norm()), 1e-300),
            next_x_agree=_frac((nx_java - nx_ref).abs() < 1e-6),
            next_m_rel_l2=_rel_l2(nm_java, nm_ref),
            sign_flip_fraction=_frac(torch.sign(nm_java) != torch.sign(nm_ref)),
            update_only_next_x_agree=_frac((nx_java - nx_upd).abs() < 1e-6),
            update_only_next_m_rel_l2=_rel_l2(nm_java, nm_upd),
            # Is the dump itself a chain? x_t should equal the previous step's next_x.
            x_chain_max_abs=float((x - prev_next_x).abs().max()) if prev_next_x is not None else 0.0,
        ))
        prev_next_x = nx_java

    # Whole reference trajectory from clean, compared with Java's final iterate.
    per_step = []
    java_next = [read(f"step_{s}_next_x.f32") for s in range(cfg.steps)]

    def on_step(step, x, m, g, x_next, m_next):
        per_step.append(_frac((x_next - java_next[step]).abs() < 1e-6))

    x_final = attack(ens, x0, y, t, cfg, on_step)
    d = (x_final - java_next[-1]).abs()
    clean_u8 = torch.floor(x0 * 255.0 + 0.5).to(torch.uint8)
    trajectory = dict(
        trajectory_agree_1level=_frac(d <= 1.0 / 255.0 + 1e-6),
        trajectory_agree_1e6=_frac(d < 1e-6),
        max_abs_diff=float(d.max()),
        written_equal=_frac(quantise(x_final, clean_u8, cfg.eps_pixels) == quantise(java_next[-1], clean_u8, cfg.eps_pixels)),
        per_step_next_x_agree_1e6=per_step,
    )
    report = dict(
        steps=steps,
        max_grad_rel_l2=max(s["grad_rel_l2"] for s in steps),
        min_next_x_agree=min(s["next_x_agree"] for s in steps),
        trajectory=trajectory,
    )
    text = json.dumps(report, indent=2)
    with open(os.path.join(dump_dir, "parity.json"), "w") as f:
        f.write(text + "\n")
    print(text)
    return report


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------

def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)

    def attack_args(p):
        p.add_argument("--data", required=True, help="Tianchi layout: DIR/dev.csv and DIR/images/*.png or DIR/*.png")
        p.add_argument("--label-base", type=int, required=True, help="CSV label of class 0 (nips17: 1, cifar: 0)")
        p.add_argument("--model", action="append", required=True, help="PATH.pt[:WEIGHT], card = PATH.json; repeat")
        p.add_argument("--eps", type=float, required=True, help="L-inf budget in pixel units (0..255)")
        p.add_argument("--steps", type=int, required=True)
        p.add_argument("--step-size", type=float, default=None, help="pixel units; default eps/steps")
        p.add_argument("--decay", type=float, default=1.0, help="momentum decay mu")
        p.add_argument("--objective", choices=["untargeted", "targeted", "weighted"], default="untargeted")
        p.add_argument("--wu", type=float, default=1.0, help="untargeted weight (objective weighted)")
        p.add_argument("--wt", type=float, default=0.0, help="targeted weight (objective weighted)")
        p.add_argument("--limit", type=int, default=None, help="first N rows of dev.csv")
        p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
        p.add_argument("--out", required=True)

    e2e = sub.add_parser("e2e", help="attack a folder, write PNGs and summary.json")
    attack_args(e2e)
    e2e.add_argument("--batch-size", type=int, default=10)
    dump = sub.add_parser("dump", help="write a per-step dump with this reference")
    attack_args(dump)
    step = sub.add_parser("step", help="check a Java per-step dump")
    step.add_argument("--dump", required=True)
    step.add_argument("--threads", type=int, default=None)
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    if args.mode == "e2e":
        run_e2e(args)
    elif args.mode == "dump":
        run_dump(args)
    else:
        run_step(args.dump)
    return 0


if __name__ == "__main__":
    sys.exit(main())
