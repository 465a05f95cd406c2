#!/usr/bin/env python3
"""Re-export a traced classifier as a *scripted* model with dropout sites, for advspark's
`attack.augment = ["dropout(p=...)"]` (Ghost Networks: Li et al., "Learning Transferable
Adversarial Examples via Ghost Networks", AAAI 2020).

Usage (PyTorch lives in the system Python):

    /usr/bin/python3 tools/ghost_model.py --arch cifar-resnet \\
        --source /work/shared/models/cifar10/resnet20.pt --out target/ghost [--name resnet20_ghost]
    /usr/bin/python3 tools/ghost_model.py --arch tiny-b --source demo/models/tiny_b.pt \\
        --out demo/models --name ghost_b

Why a re-export: a traced model (torch.jit.trace) has its dropout frozen in whatever mode it was
traced in, and DJL 0.36 can only put a *whole* module in train mode (module.train()), which would
also switch every BatchNorm to batch statistics. So advspark does not toggle modes at all: a model
supports dropout when its TorchScript exports two extra methods, and the masks are passed in.

    forward(x) -> Tensor                      unchanged eval-mode classifier (bit-identical to the
                                              source model's forward)
    dropout_shapes(x) -> List[List[int]]      per-image shape of the activation at every dropout
                                              site for input x, in the order masks are consumed
    forward_masked(x, masks: List[Tensor])    forward(x) with the activation at site k multiplied
                                              by masks[k] (shape [N, *dropout_shapes(x)[k]]);
                                              everything else, BatchNorm included, stays in eval mode

advspark draws the masks itself (Bernoulli keep 1-p, scaled 1/(1-p): inverted dropout as
nn.Dropout) from its per-image random streams, so runs are reproducible and parity tests can replay
them. The methods are stateless: concurrent tasks sharing one loaded module cannot disturb each
other, and eval-mode predictions (forward) never see dropout.

Sites: after the stem and after every residual block (post-activation), i.e. Ghost Networks'
"dropout erosion" applied densely to the base network's blocks.

Architectures (weights are read from the source file's state_dict, whose names follow our own
definitions; the reloaded script is checked against the source on random inputs):

    cifar-resnet  CIFAR ResNet-6n+2 (He et al. 2016, sec. 4.2, option-A zero-padding shortcuts),
                  the definition behind /work/shared/models/cifar10/resnet{20,32,56}.pt; depth is
                  read from the weights
    tiny-b        the demo's tiny_b (tools/make_demo.py TinyB)

The card is the source card with name/file/export/sha256/size updated and the sites described;
clean_top1 carries over because forward is verified identical to the source's.
"""

import argparse
import hashlib
import json
import os
import sys
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

HERE = os.path.dirname(os.path.abspath(__file__))


class ExportError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# The scripted wrapper: stages with a dropout site after each, then a head
# ----------------------------------------------------------------------------------------------

class SiteNet(nn.Module):
    """`forward = head(stage_k(...stage_1(x)))`; site k is the output of stage k."""

    def __init__(self, stages: List[nn.Module], head: nn.Module):
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return self.head(x)

    @torch.jit.export
    def dropout_shapes(self, x: Tensor) -> List[List[int]]:
        shapes: List[List[int]] = []
        for stage in self.stages:
            x = stage(x)
            shapes.append(list(x.shape[1:]))
        return shapes

    @torch.jit.export
    def forward_masked(self, x: Tensor, masks: List[Tensor]) -> Tensor:
        if len(masks) != len(self.stages):
            raise ValueError("forward_masked: need one mask per dropout site")
        i = 0
        for stage in self.stages:
            x = stage(x) * masks[i]
            i += 1
        return self.head(x)


# ----------------------------------------------------------------------------------------------
# CIFAR ResNet (option A), same parameter names as the shared traced models
# ----------------------------------------------------------------------------------------------

class ZeroPadShortcut(nn.Module):
    """Option-A shortcut: subsample by 2 and zero-pad the channels (planes // 4 on each side)."""

    def __init__(self, pad: int):
        super().__init__()
        self.pad = pad

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x[:, :, ::2, ::2], [0, 0, 0, 0, self.pad, self.pad])


class CifarBlock(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.skip = ZeroPadShortcut(planes // 4) if stride != 1 or cin != planes else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.skip(x))


class CifarResNet(nn.Module):
    def __init__(self, n: int, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, (planes, stride) in enumerate([(16, 1), (32, 2), (64, 2)]):
            blocks = []
            for j in range(n):
                blocks.append(CifarBlock(cin, planes, stride if j == 0 else 1))
                cin = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(torch.mean(x, [2, 3]))


class CifarStem(nn.Module):
    def __init__(self, conv: nn.Module, bn: nn.Module):
        super().__init__()
        self.conv1 = conv
        self.bn1 = bn

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.bn1(self.conv1(x)))


class MeanLinear(nn.Module):
    def __init__(self, linear: nn.Module):
        super().__init__()
        self.linear = linear

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(torch.mean(x, [2, 3]))


def cifar_resnet(state):
    n = sum(1 for k in state if k.startswith("layer1.") and k.endswith(".conv1.weight"))
    if n == 0:
        raise ExportError("the source's weights do not look like a CIFAR ResNet (no layer1.*.conv1.weight)")
    model = CifarResNet(n, num_classes=state["linear.weight"].shape[0])
    model.load_state_dict(state, strict=True)
    stages = [CifarStem(model.conv1, model.bn1)]
    for layer in (model.layer1, model.layer2, model.layer3):
        stages.extend(layer)
    return model, SiteNet(stages, MeanLinear(model.linear)), f"CIFAR ResNet-{6 * n + 2}"


# ----------------------------------------------------------------------------------------------
# The demo's tiny_b
# ----------------------------------------------------------------------------------------------

class PoolFc(nn.Module):
    def __init__(self, fc: nn.Module):
        super().__init__()
        self.fc = fc

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def tiny_b(state):
    sys.path.insert(0, HERE)
    import make_demo  # noqa: E402

    model = make_demo.TinyB(state["fc.weight"].shape[0])
    model.load_state_dict(state, strict=True)
    stages = [model.stem] + list(model.blocks)
    return model, SiteNet(stages, PoolFc(model.fc)), "tiny_b"


ARCHS = {"cifar-resnet": cifar_resnet, "tiny-b": tiny_b}


# ----------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------

def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def close(a, b, what):
    diff = (a - b).abs().max().item()
    if diff > 1e-5 * max(1.0, b.abs().max().item()):
        raise ExportError(f"{what} differs by {diff}")
    return diff


def export(args):
    src = os.path.abspath(args.source)
    card_path = os.path.splitext(src)[0] + ".json"
    with open(card_path) as f:
        card = json.load(f)
    traced = torch.jit.load(src)
    traced.eval()
    state = {k: v for k, v in traced.state_dict().items()}
    model, net, arch = ARCHS[args.arch](state)
    model.eval()
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)

    h, w = card["input_size"]
    x = torch.randn(4, 3, h, w, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = traced(x)
        close(model(x), ref, "our eager definition vs the source model")
        scripted = torch.jit.script(net)
    scripted.eval()

    name = args.name or card["name"] + "_ghost"
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, name + ".pt")
    scripted.save(path)

    # Reload what was written and check the contract.
    loaded = torch.jit.load(path)
    loaded.eval()
    with torch.no_grad():
        diff = close(loaded(x), ref, "scripted forward vs the source model")
        shapes = loaded.dropout_shapes(x)
        ones = [torch.ones([x.shape[0]] + s) for s in shapes]
        if not torch.equal(loaded.forward_masked(x, ones), loaded(x)):
            raise ExportError("forward_masked with all-ones masks differs from forward")
        g = torch.Generator().manual_seed(1)
        drop = [(torch.rand([x.shape[0]] + s, generator=g) >= 0.5).float() * 2 for s in shapes]
        if torch.equal(loaded.forward_masked(x, drop), loaded(x)):
            raise ExportError("forward_masked ignores its masks")
    if any(p.requires_grad for p in loaded.parameters()):
        raise ExportError("parameters must be frozen")

    per_image = sum(int(torch.tensor(s).prod()) for s in shapes)
    card = dict(card)
    card.update(
        name=name,
        file=name + ".pt",
        architecture=f"{card.get('architecture', arch)}; scripted with {len(shapes)} dropout sites "
                     f"(after the stem and every residual block, {per_image} activations per image at "
                     f"{h}x{w}) for advspark's dropout augmentation",
        notes=(card.get("notes") or "") + ("; " if card.get("notes") else "")
              + f"re-exported from {os.path.basename(src)} (sha256 {sha256_of(src)}); forward is the source "
                f"model's (max abs diff {diff:.3g} on random inputs), so clean_top1 carries over; methods "
                "dropout_shapes(x) and forward_masked(x, masks) as documented in tools/ghost_model.py",
        export=f"torch {torch.__version__} torch.jit.script (eval mode, float32, CPU) by advspark "
               f"tools/ghost_model.py --arch {args.arch}",
        dropout_sites=[[int(v) for v in s] for s in shapes],
        size_bytes=os.path.getsize(path),
        sha256=sha256_of(path),
    )
    out_card = os.path.join(args.out, name + ".json")
    with open(out_card, "w", newline="\n") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({card['size_bytes']} bytes, {len(shapes)} dropout sites, "
          f"max |scripted - source| = {diff:.3g}) and {out_card}")
    return card


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=sorted(ARCHS))
    ap.add_argument("--source", required=True, help="traced .pt with its card (.json) beside it")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--name", default=None, help="file stem / card name (default: <source name>_ghost)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        export(args)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
