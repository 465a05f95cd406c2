#!/usr/bin/env python3
"""How well a surrogate's input gradient points where a target's does: the evidence behind the
feature experiment's reading (docs/transfer-experiment.md).

    /usr/bin/python3 tools/gradient_alignment.py --data ../shared/data/cifar10-300 --label-base 0 \
        --images 100 --target ../shared/models/cifar10/resnet56.pt \
        --surrogate plain=../shared/models/cifar10/resnet20.pt \
        --surrogate sgm=target/cifar-surrogates/resnet20_sgm.pt ...

For each surrogate (a TorchScript classifier with its .json card beside it; taps are ignored) and
each of the first IMAGES images of the Tianchi-layout folder: the gradient of the untargeted
cross-entropy with respect to the [0,1] pixels, and the same for the target at the same clean
image. Prints per surrogate: the mean cosine of sign(g_surrogate) with g_target (the first step of
an L-inf attack moves along the sign; its first-order gain on the target is <sign(g_s), g_t>,
normalised here by ||g_t||_1 so 1 is the best any step can do), the mean cosine of the raw
gradients, and the share of |g|^2 on the pixels (i, j) with i % 4 == j % 4 == 0 (the 1/16 lattice
the CIFAR ResNets' option-A shortcuts subsample to; 1/16 = 0.0625 when the gradient is spread
evenly). Measurement only: nothing here is in the product's run path.
"""

import argparse
import csv
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def load(path):
    card = json.load(open(os.path.splitext(path)[0] + ".json"))
    m = torch.jit.load(path, map_location="cpu").eval()
    mean = torch.tensor(card["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(card["std"]).view(1, 3, 1, 1)
    off, c = card["label_offset"], card["dataset_classes"]

    def logits(x):
        if list(x.shape[-2:]) != card["input_size"]:
            x = F.interpolate(x, size=card["input_size"], mode="bilinear", align_corners=False)
        out = m((x - mean) / std)
        out = out[0] if isinstance(out, tuple) else out
        return out[:, off:off + c]
    return logits


def grad(logits, x, y):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(logits(x), y, reduction="sum"), x)
    return g


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--label-base", type=int, default=1)
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--target", required=True)
    ap.add_argument("--surrogate", action="append", required=True, help="LABEL=PATH.pt (repeatable)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    rows = list(csv.DictReader(open(os.path.join(a.data, "dev.csv"))))[:a.images]
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(os.path.join(a.data, "images", r["ImageId"] if r["ImageId"].endswith(".png") else r["ImageId"] + ".png"))
                                                 .convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)
                     for r in rows])
    y = torch.tensor([int(r["TrueLabel"]) - a.label_base for r in rows])
    gt = grad(load(a.target), x, y).flatten(1)
    h, w = x.shape[-2:]
    lattice = torch.zeros(h, w, dtype=torch.bool)
    lattice[::4, ::4] = True
    print(f"{len(rows)} images of {a.data}; target {a.target}")
    print("| surrogate | cos(sign g_s, g_t) | cos(g_s, g_t) | share of |g_s|^2 on the 1/16 lattice |")
    print("|---|---:|---:|---:|")
    for spec in a.surrogate:
        label, path = spec.split("=", 1)
        gs = grad(load(path), x, y)
        share = (gs.square().sum(1)[:, lattice].sum((1,)) / gs.square().sum((1, 2, 3))).mean().item()
        gs = gs.flatten(1)
        sign_gain = ((gs.sign() * gt).sum(1) / gt.abs().sum(1)).mean().item()
        cos = F.cosine_similarity(gs, gt, dim=1).mean().item()
        print(f"| {label} | {sign_gain:.4f} | {cos:.4f} | {share:.4f} |")


if __name__ == "__main__":
    main()
