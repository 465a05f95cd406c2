#!/usr/bin/env python3
"""Independent PyTorch reference of the backward-pass changes that tools/export_model.py bakes into
an exported surrogate, written from the papers, for gradient parity with advspark's Java engine.

    /usr/bin/python3 src/test/python/reference_ext_backward.py --model cifar:resnet20 | tv:resnet18 \\
        --backward 'sgm(gamma=0.2)' | 'linbp(stage=layer3.1)' | 'bpa(stage=layer3.1,temperature=10)' | none \\
        --out DIR [--n 4] [--size 64] [--shared ../shared]

Writes DIR/x.f32 (pixels in [0,1], [N,3,H,W]), DIR/labels.i64, DIR/logits.f32 and DIR/grad.f32
(d/dx of sum_i CE(z_i, y_i), z = model((x - mean) / std)), all little-endian, and DIR/meta.json.

cifar:NAME builds the CIFAR network from ../shared/models/cifar10/src (cifar_archs.py, NAME.pth,
ImageNet mean/std as its card) and takes the first N images of ../shared/data/cifar10-300 with
their labels. tv:resnet18 is torchvision's ResNet-18 built after torch.manual_seed(0) (what
export_model.py --weights random --seed 0 builds), at --size, on seeded uniform pixels.

Unlike the exporter (straight-through identities recorded into a TorchScript trace), this module
re-implements the networks' forward by hand and changes the backward with torch.autograd.Function,
each written from its paper:

- SGM (Wu et al., "Skip connections matter", ICLR 2020, eq. 8): a residual block
  z_{i+1} = relu(z_i + f_i(z_i)) is back-propagated with the residual branch's gradient decayed:
  d z_{i+1}/d z_i = relu' (1 + gamma f_i'). Applied to every residual block.
- LinBP (Guo et al., "Backpropagating linearly improves transferability", NeurIPS 2020, sec. 3):
  from a chosen block on, the ReLUs inside the residual branches are taken as the identity in the
  backward (their forward unchanged); the ReLU after each block's sum keeps its derivative. The
  paper's re-normalisation of the residual gradient is not part of this variant (see
  docs/exporting.md).
- BPA (Wang et al., "Rethinking the backward propagation for adversarial transferability",
  NeurIPS 2023, sec. 4): those ReLUs get the derivative sigma(x) (1 + x (1 - sigma(x))) (SiLU's),
  every max-pool spreads an output's gradient over its window by softmax(T * window values).
"""

import argparse
import csv
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


# --- the changed derivatives, as autograd Functions (eager only) --------------------------------

class DecayGrad(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by gamma (SGM's residual decay)."""

    @staticmethod
    def forward(ctx, x, gamma):
        ctx.gamma = gamma
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g * ctx.gamma, None


class LinearReLU(torch.autograd.Function):
    """relu forward, identity backward (LinBP)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, g):
        return g


class SmoothReLU(torch.autograd.Function):
    """relu forward; backward with the derivative of x sigma(x) (BPA, eq. for ReLU)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return g * s * (1 + x * (1 - s))


class SoftMaxPool(torch.autograd.Function):
    """max-pool forward; the backward spreads each output's gradient over its window with weights
    softmax(T * values of the window) (BPA); padding is outside the window (weight 0)."""

    @staticmethod
    def forward(ctx, x, k, s, p, temperature):
        ctx.save_for_backward(x)
        ctx.conf = (k, s, p, temperature)
        return F.max_pool2d(x, k, s, p)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        k, s, p, t = ctx.conf
        n, c, h, w = x.shape
        ho, wo = g.shape[2], g.shape[3]
        xp = torch.full((n, c, h + 2 * p, w + 2 * p), float("-inf"), dtype=x.dtype)
        xp[:, :, p:p + h, p:p + w] = x
        # Window element (di, dj) of output (i, j) is xp[s i + di, s j + dj]: one slice per offset.
        vals = torch.stack([xp[:, :, di:di + s * (ho - 1) + 1:s, dj:dj + s * (wo - 1) + 1:s]
                            for di in range(k) for dj in range(k)], 0)
        weights = torch.softmax(t * vals, dim=0)
        gp = torch.zeros((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
        idx = 0
        for di in range(k):
            for dj in range(k):
                gp[:, :, di:di + s * (ho - 1) + 1:s, dj:dj + s * (wo - 1) + 1:s] += weights[idx] * g
                idx += 1
        return gp[:, :, p:p + h, p:p + w], None, None, None, None


# --- the networks' forward, by hand --------------------------------------------------------------

def parse(spec):
    if spec in (None, "", "none"):
        return None, {}
    kind, _, rest = spec.partition("(")
    params = dict(kv.split("=") for kv in rest.rstrip(")").split(",") if kv)
    return kind, params


class Variant:
    def __init__(self, spec, block_names):
        self.kind, self.params = parse(spec)
        self.gamma = float(self.params.get("gamma", 0.2))
        self.temperature = float(self.params.get("temperature", 10))
        stage = self.params.get("stage", "layer3.1")
        self.active = set(block_names[block_names.index(stage):]) if self.kind in ("linbp", "bpa") else set()

    def branch_relu(self, block, x):
        if block in self.active:
            return LinearReLU.apply(x) if self.kind == "linbp" else SmoothReLU.apply(x)
        return F.relu(x)

    def branch_end(self, y):
        return DecayGrad.apply(y, self.gamma) if self.kind == "sgm" else y

    def max_pool(self, x, k, s, p):
        return SoftMaxPool.apply(x, k, s, p, self.temperature) if self.kind == "bpa" else F.max_pool2d(x, k, s, p)


def cifar_forward(m, x, v):
    """CIFAR ResNet (He et al. 2016, sec. 4.2; option-A shortcuts), cifar_archs.CifarResNet."""
    z = F.relu(m.bn1(m.conv1(x)))
    for stage in (1, 2, 3):
        for i, u in enumerate(getattr(m, f"layer{stage}")):
            name = f"layer{stage}.{i}"
            y = v.branch_relu(name, u.bn1(u.conv1(z)))
            y = v.branch_end(u.bn2(u.conv2(y)))
            z = F.relu(y + u.skip(z))
    return m.linear(z.mean(dim=(2, 3)))


def tv_forward(m, x, v):
    """torchvision ResNet with BasicBlocks (resnet18/34)."""
    z = m.maxpool_fn(F.relu(m.bn1(m.conv1(x))))
    for stage in (1, 2, 3, 4):
        for i, b in enumerate(getattr(m, f"layer{stage}")):
            name = f"layer{stage}.{i}"
            skip = z if b.downsample is None else b.downsample(z)
            y = v.branch_relu(name, b.bn1(b.conv1(z)))
            y = v.branch_end(b.bn2(b.conv2(y)))
            z = F.relu(y + skip)
    return m.fc(torch.flatten(F.adaptive_avg_pool2d(z, 1), 1))


def blocks(stages, model):
    return [f"layer{s}.{i}" for s in stages for i in range(len(getattr(model, f"layer{s}")))]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--backward", default="none")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    family, _, name = args.model.partition(":")
    if family == "cifar":
        src = os.path.join(args.shared, "models", "cifar10", "src")
        sys.path.insert(0, src)
        import cifar_archs
        arch = json.load(open(os.path.join(src, "architectures.json")))[name]
        model = eval(arch["constructor"], vars(cifar_archs))
        model.load_state_dict(torch.load(os.path.join(src, arch["state_dict"])), strict=True)
        from PIL import Image
        data = os.path.join(args.shared, "data", "cifar10-300")
        rows = list(csv.DictReader(open(os.path.join(data, "dev.csv"))))[:args.n]
        x = torch.from_numpy(np.stack([np.asarray(Image.open(os.path.join(data, "images", r["ImageId"])).convert("RGB"))
                                       .transpose(2, 0, 1) for r in rows])).float() / 255.0
        y = torch.tensor([int(r["TrueLabel"]) for r in rows])
        fwd, names = cifar_forward, blocks((1, 2, 3), model)
    elif family == "tv":
        import torchvision
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None)
        g = torch.Generator().manual_seed(1234)
        x = torch.rand(args.n, 3, args.size, args.size, generator=g)
        y = torch.randint(0, 1000, (args.n,), generator=g)
        fwd, names = tv_forward, blocks((1, 2, 3, 4), model)
    else:
        raise SystemExit(f"unknown --model {args.model}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    v = Variant(args.backward, names)
    model.maxpool_fn = lambda t: v.max_pool(t, 3, 2, 1)  # torchvision's stem pool (kernel 3, stride 2, pad 1)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    xx = x.clone().requires_grad_(True)
    z = fwd(model, (xx - mean) / std, v)
    loss = F.cross_entropy(z, y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, xx)
    os.makedirs(args.out, exist_ok=True)
    x.numpy().astype("<f4").tofile(os.path.join(args.out, "x.f32"))
    y.numpy().astype("<i8").tofile(os.path.join(args.out, "labels.i64"))
    z.detach().numpy().astype("<f4").tofile(os.path.join(args.out, "logits.f32"))
    grad.numpy().astype("<f4").tofile(os.path.join(args.out, "grad.f32"))
    json.dump({"model": args.model, "backward": args.backward, "shape": list(x.shape), "classes": int(z.shape[1]),
               "active_blocks": sorted(v.active)}, open(os.path.join(args.out, "meta.json"), "w"))
    print(json.dumps({"model": args.model, "backward": args.backward, "grad_l2": float(grad.norm())}))


if __name__ == "__main__":
    main()
