#!/usr/bin/env python3
"""Independent PyTorch reference for the dropout augmentation, for DropoutParityTest.

Usage: reference_dropout.py DIR. For every DIR/<case>.json it rebuilds the surrogate in eager
PyTorch from the *traced source* model (weights read from it into tools/ghost_model.py's
definition; never the scripted file advspark loads), reads the pixels <case>.x.f32 (shape "shape",
[0,1]) and the dropout masks <case>.mask<k>.f32 that advspark drew (shape [rows, *sites[k]]), and
computes, in eval mode (BatchNorm on running statistics), the attack's loss as the Java engine
defines it:

    x_k   = x tiled "copies" times along the batch
    z     = head(stage_K(... stage_1(normalise(resize(x_k))) * mask_1 ...) * mask_K)[:, off:off+C]
    loss  = (wu CE(z, label) - wt CE(z, target)) / copies   (= sum(log_softmax(z) * W), W = wt onehot(target) - wu onehot(label))

and writes <case>.logits.f32 (z) and <case>.grad.f32 (d loss / d x).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools"))
import ghost_model  # noqa: E402
from reference_attack import cross_entropy  # noqa: E402


def load(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape).copy())


def run(d, name, c):
    traced = torch.jit.load(c["source"])
    _, net, _ = ghost_model.ARCHS[c["arch"]]({k: v for k, v in traced.state_dict().items()})
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    card = c["card"]
    x = load(os.path.join(d, name + ".x.f32"), c["shape"]).requires_grad_(True)
    k = c["copies"]
    rows = x.shape[0] * k
    masks = [load(os.path.join(d, f"{name}.mask{i}.f32"), [rows] + s) for i, s in enumerate(c["sites"])]
    h = x.repeat(k, 1, 1, 1) if k > 1 else x
    if list(h.shape[-2:]) != card["input_size"]:
        h = F.interpolate(h, size=card["input_size"], mode="bilinear", align_corners=False)
    mean = torch.tensor(card["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(card["std"], dtype=torch.float32).view(1, 3, 1, 1)
    h = (h - mean) / std
    for stage, mask in zip(net.stages, masks):
        h = stage(h) * mask
    off, classes = card["label_offset"], card["dataset_classes"]
    z = net.head(h)[:, off:off + classes]
    labels, targets = c["labels"] * k, c["targets"] * k
    # wu CE(label) - wt CE(target), i.e. sum(log_softmax(z) * W), in the cancellation-free form.
    loss = c["wu"] * cross_entropy(z, torch.tensor(labels)) - c["wt"] * cross_entropy(z, torch.tensor(targets))
    if k > 1:
        loss = loss / k
    (g,) = torch.autograd.grad(loss, x)
    z.detach().numpy().astype("<f4").tofile(os.path.join(d, name + ".logits.f32"))
    g.numpy().astype("<f4").tofile(os.path.join(d, name + ".grad.f32"))


def main():
    torch.set_num_threads(2)
    d = sys.argv[1]
    for f in sorted(os.listdir(d)):
        if f.endswith(".json"):
            with open(os.path.join(d, f)) as fh:
                run(d, f[:-5], json.load(fh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
