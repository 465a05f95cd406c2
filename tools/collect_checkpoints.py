#!/usr/bin/env python3
"""Collect a checkpoint group for advspark: the checkpoints of one training run as surrogates.

LGV (Gubri et al., ECCV 2022) fine-tunes a trained model with SGD at a high constant learning rate
and keeps a few checkpoints per epoch; MoreBayesian (Li et al., ICLR 2023) samples models around
the trained weights. advspark attacks such a group with `attack.augment = ["checkpoints(per-step=k)"]`
(k members per step and image) after a model entry `{ group = "DIR", role = surrogate }`
(docs/models.md "Checkpoint groups").

Two ways to use it (PyTorch lives in the system Python):

1. In your own training loop, whatever it is:

    sys.path.insert(0, "advspark/tools"); from collect_checkpoints import Collector
    col = Collector("out/lgv", "resnet20-lgv", module="cifar_archs.py", constructor="CifarResNet(20)",
                    base_card="resnet20.json")        # input size, mean/std, dataset, label offset
    for step, (x, y) in enumerate(loader):
        ...  # your optimiser step
        if (step + 1) % every == 0:
            col.add(model, note=f"step {step + 1}")    # one TorchScript + card per call
    col.finish(recipe={...})                           # writes out/lgv/group.json

   Each add() exports the model's current weights through tools/export_model.py (--source python:
   your module file and constructor expression, the weights loaded strictly, traced in eval mode,
   the trace checked against the eager model) as <name>_<i:03d>.pt/.json.

2. The LGV recipe as a script, on a Tianchi-layout image folder (DIR/dev.csv, DIR/images/):

    /usr/bin/python3 tools/collect_checkpoints.py --module cifar_archs.py --constructor 'CifarResNet(20)' \\
        --weights resnet20.pth --base-card resnet20.json --data DIR [--label-base 0] --out OUT --name NAME \\
        [--epochs 10] [--per-epoch 4] [--lr 0.05] [--momentum 0.9] [--weight-decay 1e-4] [--batch-size 64] \\
        [--offset 0] [--limit N] [--seed 0]

   Defaults are LGV's (Gubri et al. 2022, as torchattacks' LGV also sets them): 10 epochs of SGD at
   the constant learning rate 0.05, momentum 0.9, weight decay 1e-4, 4 checkpoints per epoch (40
   models), BatchNorm in train mode while training. The images are shuffled each epoch with a
   torch.Generator seeded by --seed; inputs are resized (bilinear, as advspark) to the card's input
   size and normalised with its mean/std. Train on images you will not attack (--offset/--limit).

group.json (the group card; advspark reads "members", the rest is provenance):
    {"format": "advspark-checkpoint-group", "name": ..., "members": [{"file": "x_000.pt",
     "card": "x_000.json", "note": ...}, ...], "base": {...}, "recipe": {...}, "created_by": ...}
"""

import argparse
import copy
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_model  # noqa: E402

GROUP_CARD = "group.json"
FORMAT = "advspark-checkpoint-group"
# LGV's collection settings (Gubri et al., ECCV 2022, sec. 3/4; torchattacks.LGV's defaults).
LGV = dict(epochs=10, per_epoch=4, lr=0.05, momentum=0.9, weight_decay=1e-4)


class Collector:
    """Exports checkpoints of a model being trained into one advspark checkpoint group."""

    def __init__(self, out, name, module, constructor, base_card, threads=None):
        """out: the group folder; module/constructor: as export_model.py --source python; base_card:
        the trained model's card (input_size, mean, std, dataset, label_offset, dataset_classes are
        copied, so every member is preprocessed like the model it came from)."""
        self.out, self.name, self.module, self.constructor = out, name, module, constructor
        with open(base_card) as f:
            self.base = json.load(f)
        self.base_card = os.path.abspath(base_card)
        self.threads = threads
        self.members = []
        os.makedirs(out, exist_ok=True)
        if os.path.exists(os.path.join(out, GROUP_CARD)):
            raise export_model.ExportError(f"{out} already holds a {GROUP_CARD}: collect into a new folder")

    def add(self, model, note=""):
        """Exports `model`'s current weights as the next member; returns its card (a dict)."""
        i = len(self.members)
        member = f"{self.name}_{i:03d}"
        with tempfile.TemporaryDirectory(prefix="collect_checkpoints_") as tmp:
            weights = os.path.join(tmp, member + ".pth")
            # A copy: the caller's model keeps training (and stays in its own mode).
            torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, weights)
            b = self.base
            argv = ["--source", "python", "--module", self.module, "--constructor", self.constructor,
                    "--weights", weights, "--input-size", str(b["input_size"][0]),
                    "--mean", ",".join(str(v) for v in b["mean"]), "--std", ",".join(str(v) for v in b["std"]),
                    "--dataset", b.get("dataset", "imagenet"), "--label-offset", str(b.get("label_offset", 0)),
                    "--dataset-classes", str(b["dataset_classes"]), "--out", self.out, "--name", member,
                    "--notes", f"checkpoint {i} of group {self.name}" + (f" ({note})" if note else "")]
            if b.get("licence"):
                argv += ["--licence", b["licence"]]
            if self.threads:
                argv += ["--threads", str(self.threads)]
            card = export_model.export(export_model.parse_args(argv))
        self.members.append(dict(file=member + ".pt", card=member + ".json", note=note))
        return card

    def finish(self, recipe=None):
        """Writes the group card; returns its path."""
        if not self.members:
            raise export_model.ExportError("no checkpoint was added: an empty group cannot be attacked")
        group = dict(format=FORMAT, name=self.name, members=self.members,
                     base=dict(card=self.base_card, name=self.base.get("name"), source=self.base.get("source"),
                               sha256=self.base.get("sha256")),
                     module=os.path.abspath(self.module), constructor=self.constructor, recipe=recipe or {},
                     created_by=f"advspark tools/collect_checkpoints.py, torch {torch.__version__}")
        path = os.path.join(self.out, GROUP_CARD)
        with open(path, "w", newline="\n") as f:
            json.dump(group, f, indent=2)
            f.write("\n")
        return path


def load_images(folder, label_base, offset, limit, size):
    """(x [N,3,size,size] in [0,1], y [N]) from a Tianchi-layout folder, rows offset..offset+limit."""
    from PIL import Image
    rows = export_model.load_tianchi(folder, label_base)
    rows = rows[offset:offset + limit] if limit else rows[offset:]
    if not rows:
        raise export_model.ExportError(f"no images in {folder} from row {offset}")
    arrs = [np.asarray(Image.open(p).convert("RGB")).transpose(2, 0, 1) for p, _ in rows]
    x = torch.from_numpy(np.ascontiguousarray(np.stack(arrs))).float() / 255.0
    if list(x.shape[-2:]) != [size, size]:
        x = F.interpolate(x, size=[size, size], mode="bilinear", align_corners=False)
    return x, torch.tensor([y for _, y in rows], dtype=torch.int64)


def collect(args):
    """LGV's recipe: SGD at a constant learning rate from the trained weights, per_epoch
    checkpoints per epoch, evenly spaced in its steps."""
    col = Collector(args.out, args.name, args.module, args.constructor, args.base_card, threads=args.threads)
    b = col.base
    model, _ = export_model.build_python(argparse.Namespace(module=args.module, constructor=args.constructor,
                                                             weights=args.weights, input_size=b["input_size"][0],
                                                             mean=None))
    x, y = load_images(args.data, args.label_base, args.offset, args.limit, b["input_size"][0])
    mean = torch.tensor(b["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(b["std"], dtype=torch.float32).view(1, 3, 1, 1)
    off, classes = int(b.get("label_offset", 0)), int(b["dataset_classes"])
    for p in model.parameters():
        p.requires_grad_(True)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    gen = torch.Generator().manual_seed(args.seed)
    n = x.shape[0]
    per_epoch_steps = (n + args.batch_size - 1) // args.batch_size
    # Steps (1-based, within an epoch) after which a checkpoint is kept: evenly spaced, the last
    # at the epoch's end.
    keep = sorted({max(1, round((j + 1) * per_epoch_steps / args.per_epoch)) for j in range(args.per_epoch)})
    losses = []
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        for s in range(per_epoch_steps):
            idx = order[s * args.batch_size:(s + 1) * args.batch_size]
            logits = model((x[idx] - mean) / std)[:, off:off + classes]
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
            if s + 1 in keep:
                model.eval()
                col.add(model, note=f"epoch {epoch + 1}, step {s + 1} of {per_epoch_steps}, loss {float(loss):.4f}")
                model.train()
    recipe = dict(method="LGV: SGD at a constant learning rate from trained weights (Gubri et al., ECCV 2022)",
                  epochs=args.epochs, per_epoch=args.per_epoch, lr=args.lr, momentum=args.momentum,
                  weight_decay=args.weight_decay, batch_size=args.batch_size, seed=args.seed,
                  data=os.path.abspath(args.data), label_base=args.label_base, offset=args.offset,
                  images=n, weights=os.path.abspath(args.weights),
                  weights_sha256=export_model.sha256_of(args.weights), losses=losses)
    path = col.finish(recipe)
    print(f"wrote {len(col.members)} checkpoints and {path}")
    return path


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", required=True, help="the .py file defining the model")
    ap.add_argument("--constructor", required=True, help="expression building it, e.g. 'CifarResNet(20)'")
    ap.add_argument("--weights", required=True, help="the trained state_dict to start from")
    ap.add_argument("--base-card", required=True, help="the trained model's card (preprocessing, classes)")
    ap.add_argument("--data", required=True, help="Tianchi-layout folder to fine-tune on (dev.csv, images/)")
    ap.add_argument("--label-base", type=int, default=0, help="dataset label of class 0 in dev.csv")
    ap.add_argument("--offset", type=int, default=0, help="first row of dev.csv to train on")
    ap.add_argument("--limit", type=int, default=None, help="rows to train on (default: all from --offset)")
    ap.add_argument("--out", required=True, help="the group folder to create")
    ap.add_argument("--name", required=True, help="group name; members are NAME_000.pt, ...")
    ap.add_argument("--epochs", type=int, default=LGV["epochs"])
    ap.add_argument("--per-epoch", type=int, default=LGV["per_epoch"], help="checkpoints kept per epoch")
    ap.add_argument("--lr", type=float, default=LGV["lr"], help="constant SGD learning rate")
    ap.add_argument("--momentum", type=float, default=LGV["momentum"])
    ap.add_argument("--weight-decay", type=float, default=LGV["weight_decay"])
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0, help="seeds the per-epoch shuffles")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    try:
        collect(args)
    except export_model.ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
