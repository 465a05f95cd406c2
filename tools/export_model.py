#!/usr/bin/env python3
"""Export a torchvision (or timm) image classifier as TorchScript + model card for advspark.

Usage (PyTorch lives in the system Python):

    /usr/bin/python3 tools/export_model.py --source torchvision --arch resnet50 \\
        [--weights DEFAULT|IMAGENET1K_V2|path.pth|random] [--input-size 224] --out DIR \\
        [--trace|--script] [--num-classes N] [--label-offset K] [--dataset imagenet] \\
        [--eval-dir DIR --label-base 1] [--name NAME] [--licence SPDX] [--mean a,b,c --std a,b,c]

Writes DIR/<name>.pt and DIR/<name>.json (card format of /work/shared/models/README.md).

The exported file is the bare classifier - nothing is wrapped around it:

- input: float32 [N, 3, H, W] with [H, W] = card.input_size, already resized (plain bilinear,
  align_corners=False, no antialias) and normalised (x - mean) / std on the [0,1] scale. The
  normalisation is NOT inside the model; the card carries mean/std (torchvision weights: taken
  from the weights' preset, i.e. 0.485,0.456,0.406 / 0.229,0.224,0.225; timm: from the model's
  pretrained_cfg).
- output: raw logits [N, num_classes].

Weights (torchvision):
  random         random initialisation (torchvision `weights=None`, seeded by --seed); never
                 touches the network.
  DEFAULT or an enum name such as IMAGENET1K_V1
                 torchvision's pretrained weights; torchvision downloads them into the torch hub
                 cache unless they are already there (this tool itself never downloads anything
                 else). Without network access, download the .pth elsewhere and pass its path.
  path.pth       a state_dict (optionally under "state_dict"/"model", "module." prefixes are
                 stripped) loaded strictly into `torchvision.models.get_model(arch, weights=None)`.

inception_v3 / googlenet: torchvision builds them with `transform_input=True` when pretrained
weights are requested. That flag re-normalises ImageNet-normalised input to the (x - 0.5) / 0.5
scale the original Google weights were trained on. We switch it off and write mean = std = 0.5
into the card instead, which is mathematically the same preprocessing and keeps the graph a
plain classifier. For a .pth file of those weights the model is built with transform_input=False,
so pass `--mean 0.5,0.5,0.5 --std 0.5,0.5,0.5` yourself. Both must be exported with --trace
(scripted, their forward returns a named tuple instead of a tensor).

Resize caveat: torchvision's own evaluation preset is "resize shorter side (antialiased) +
center crop"; the advspark contract is a direct bilinear resize to input_size without antialias,
so accuracy measured with --eval-dir can be a little lower than torchvision's published numbers.

--eval-dir DIR --label-base B measures clean top-1 on a Tianchi-layout folder (DIR/dev.csv with
ImageId,TrueLabel[,TargetClass], images in DIR/images/ or DIR/) with exactly that contract:
0-based label = TrueLabel - B, prediction = argmax(logits[:, K:K+C]) with K = --label-offset and
C = dataset classes.
"""

import argparse
import csv
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class ExportError(Exception):
    """A user-facing error: printed without a traceback by main()."""


# ----------------------------------------------------------------------------------------------
# Building the model
# ----------------------------------------------------------------------------------------------

def _load_state_dict_file(path):
    sd = torch.load(path, map_location="cpu")
    if isinstance(sd, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if key in sd and isinstance(sd[key], dict):
                sd = sd[key]
                break
    if not isinstance(sd, dict):
        raise ExportError(f"{path} does not contain a state_dict (got {type(sd).__name__})")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


def build_torchvision(args):
    """Returns (model, info) where info has mean, std, default input size, source, licence, notes."""
    import torchvision
    from torchvision import models

    available = models.list_models(module=models)  # classification models only
    if args.arch not in available:
        raise ExportError(f"unknown torchvision classification architecture '{args.arch}'; "
                          f"available: {', '.join(available)}")
    kwargs = {}
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    info = dict(mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD), notes=[],
                input_size=299 if args.arch == "inception_v3" else 224)
    tv = f"torchvision {torchvision.__version__}"
    w = args.weights

    if w == "random":
        torch.manual_seed(args.seed)
        model = models.get_model(args.arch, weights=None, **kwargs)
        info.update(source=f"random initialisation ({tv} {args.arch}, torch.manual_seed({args.seed}))",
                    licence="NOASSERTION")
        info["notes"].append("randomly initialised weights: for pipeline tests only")
    elif os.path.isfile(w):
        model = models.get_model(args.arch, weights=None, **kwargs)
        if getattr(model, "transform_input", False):
            model.transform_input = False
        try:
            model.load_state_dict(_load_state_dict_file(w), strict=True)
        except RuntimeError as e:
            raise ExportError(f"state_dict of {w} does not fit torchvision {args.arch}"
                              f"{' with num_classes=%d' % args.num_classes if args.num_classes else ''}: {e}")
        info.update(source=f"file {os.path.abspath(w)} (sha256 {sha256_of(w)}) loaded into {tv} {args.arch}",
                    licence="NOASSERTION")
        if args.arch in ("inception_v3", "googlenet"):
            info["notes"].append("built with transform_input=False: for Google's original weights the card "
                                 "needs mean = std = 0.5 (--mean/--std)")
            if args.mean is None:
                print(f"warning: {args.arch} from a .pth file is built with transform_input=False; if the weights "
                      "are torchvision's pretrained ones pass --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5", file=sys.stderr)
    else:
        try:
            enum = models.get_model_weights(args.arch)
            weights = enum.DEFAULT if w == "DEFAULT" else enum[w]
        except KeyError:
            raise ExportError(f"--weights '{w}' is neither 'random', an existing file, 'DEFAULT' nor one of "
                              f"{[e.name for e in models.get_model_weights(args.arch)]}")
        try:
            model = models.get_model(args.arch, weights=weights, **kwargs)
        except ValueError as e:  # e.g. --num-classes that does not fit the pretrained head
            raise ExportError(str(e))
        except Exception as e:  # typically URLError: no network and not in the hub cache
            raise ExportError(f"could not load {weights} ({weights.url}): {e}. Without network access, download "
                              f"that file elsewhere and pass it with --weights path.pth")
        preset = weights.transforms()
        info["mean"], info["std"] = [float(v) for v in preset.mean], [float(v) for v in preset.std]
        info["input_size"] = int(preset.crop_size[0])
        if getattr(model, "transform_input", False):
            # See module docstring: same preprocessing, expressed in the card instead of the graph.
            model.transform_input = False
            info["mean"], info["std"] = [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]
            info["notes"].append("torchvision transform_input switched off; mean = std = 0.5 in the card "
                                 "is the same preprocessing")
        meta = weights.meta
        licence = meta.get("license")
        info.update(source=f"pytorch/vision@v{torchvision.__version__}:{weights} ({weights.url})",
                    licence="BSD-3-Clause" if licence is None else f"NOASSERTION (see {licence})")
        acc = meta.get("_metrics", {}).get("ImageNet-1K", {}).get("acc@1")
        if acc is not None:
            info["notes"].append(f"torchvision reports ImageNet-1K val acc@1 {acc} with its own resize+crop preset")
    info["architecture"] = f"torchvision {args.arch}"
    return model, info


def build_timm(args):
    try:
        import timm
    except ImportError:
        raise ExportError("--source timm requested but timm is not installed in this Python "
                          f"({sys.executable}); install it (e.g. `pip install timm`) or use --source torchvision")
    kwargs = {}
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    w = args.weights
    if w == "random":
        torch.manual_seed(args.seed)
        model = timm.create_model(args.arch, pretrained=False, **kwargs)
        source, licence = f"random initialisation (timm {timm.__version__} {args.arch}, seed {args.seed})", "NOASSERTION"
    elif os.path.isfile(w):
        model = timm.create_model(args.arch, pretrained=False, **kwargs)
        model.load_state_dict(_load_state_dict_file(w), strict=True)
        source, licence = f"file {os.path.abspath(w)} (sha256 {sha256_of(w)}) loaded into timm {args.arch}", "NOASSERTION"
    elif w == "DEFAULT":
        model = timm.create_model(args.arch, pretrained=True, **kwargs)
        source, licence = f"timm {timm.__version__} pretrained {args.arch}", "NOASSERTION"
    else:
        raise ExportError("with --source timm, --weights must be DEFAULT, random or a file")
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", {}) or {}
    if cfg.get("license"):
        licence = cfg["license"]
    info = dict(mean=[float(v) for v in cfg.get("mean", IMAGENET_MEAN)],
                std=[float(v) for v in cfg.get("std", IMAGENET_STD)],
                input_size=int(cfg.get("input_size", (3, 224, 224))[-1]),
                source=source, licence=licence, architecture=f"timm {args.arch}",
                notes=[f"mean/std/input size from timm pretrained_cfg; timm's own eval uses "
                       f"interpolation={cfg.get('interpolation')}, crop_pct={cfg.get('crop_pct')}"])
    return model, info


# ----------------------------------------------------------------------------------------------
# Export, evaluation, card
# ----------------------------------------------------------------------------------------------

def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_tianchi(folder, label_base, limit=None):
    """[(path, 0-based label)] from DIR/dev.csv; images in DIR/images/ or DIR/."""
    img_dir = os.path.join(folder, "images")
    if not os.path.isdir(img_dir):
        img_dir = folder
    with open(os.path.join(folder, "dev.csv"), newline="") as f:
        rows = [(os.path.join(img_dir, r["ImageId"]), int(r["TrueLabel"]) - label_base) for r in csv.DictReader(f)]
    return rows[:limit] if limit else rows


def evaluate(model, card, folder, label_base, batch_size=32, limit=None):
    """Clean top-1 with the advspark contract (plain bilinear resize, normalise, column offset)."""
    from PIL import Image
    rows = load_tianchi(folder, label_base, limit)
    mean = torch.tensor(card["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(card["std"], dtype=torch.float32).view(1, 3, 1, 1)
    off, c = card["label_offset"], card["dataset_classes"]
    correct = 0
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            chunk = rows[i:i + batch_size]
            arrs = [np.asarray(Image.open(p).convert("RGB")).transpose(2, 0, 1) for p, _ in chunk]
            x = torch.from_numpy(np.ascontiguousarray(np.stack(arrs))).float() / 255.0
            if list(x.shape[-2:]) != card["input_size"]:
                x = F.interpolate(x, size=card["input_size"], mode="bilinear", align_corners=False)
            pred = model((x - mean) / std)[:, off:off + c].argmax(1)
            correct += int((pred == torch.tensor([y for _, y in chunk])).sum())
    return correct / len(rows), len(rows)


def export(args):
    model, info = build_timm(args) if args.source == "timm" else build_torchvision(args)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)

    size = args.input_size or info["input_size"]
    mean = [float(v) for v in args.mean.split(",")] if args.mean else info["mean"]
    std = [float(v) for v in args.std.split(",")] if args.std else info["std"]
    if len(mean) != 3 or len(std) != 3:
        raise ExportError("--mean/--std need three comma-separated values")
    example = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))

    with torch.no_grad():
        eager = model(example)
    if not isinstance(eager, torch.Tensor) or eager.dim() != 2:
        raise ExportError(f"{args.arch} does not return a [N, classes] tensor in eval mode (got {type(eager)})")
    if args.script and args.arch in ("inception_v3", "googlenet"):
        raise ExportError(f"{args.arch} cannot be exported with --script (its scripted forward returns a named "
                          "tuple); use --trace")
    with torch.no_grad():
        ts = torch.jit.script(model) if args.script else torch.jit.trace(model, example[:1])
    ts.eval()

    name = args.name or args.arch
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, name + ".pt")
    ts.save(path)

    # Reload what was written and check it against the eager model.
    loaded = torch.jit.load(path)
    loaded.eval()
    with torch.no_grad():
        diff = (loaded(example) - eager).abs().max().item()
    if diff > 1e-3 * max(1.0, eager.abs().max().item()):
        raise ExportError(f"exported model differs from the eager one by {diff}")
    num_classes = int(eager.shape[1])
    off = args.label_offset
    dataset_classes = args.dataset_classes if args.dataset_classes is not None else num_classes - off
    if off < 0 or dataset_classes <= 0 or off + dataset_classes > num_classes:
        raise ExportError(f"label offset {off} + dataset classes {dataset_classes} exceed the {num_classes} outputs")

    card = {
        "name": name,
        "file": name + ".pt",
        "format": "torchscript",
        "dataset": args.dataset,
        "input_size": [size, size],
        "mean": mean,
        "std": std,
        "num_classes": num_classes,
        "dataset_classes": dataset_classes,
        "label_offset": off,
        "interpolation": "bilinear",
        "source": info["source"],
        "licence": args.licence or info["licence"],
        "training": args.training,
        "clean_top1": None,
        "clean_top1_split": None,
        "clean_top1_n": None,
        "architecture": info["architecture"],
        "notes": "; ".join(info["notes"] + ([args.notes] if args.notes else [])),
        "export": f"torch {torch.__version__} torch.jit.{'script' if args.script else 'trace'}, eval mode, "
                  f"float32, CPU, by advspark tools/export_model.py",
        "size_bytes": os.path.getsize(path),
        "sha256": sha256_of(path),
    }
    if args.eval_dir:
        t0 = time.time()
        acc, n = evaluate(loaded, card, args.eval_dir, args.label_base, limit=args.eval_limit)
        card.update(clean_top1=round(acc, 4), clean_top1_split=os.path.basename(os.path.normpath(args.eval_dir)),
                    clean_top1_n=n)
        print(f"clean top-1 {acc:.4f} on {n} images of {args.eval_dir} ({time.time() - t0:.1f}s)")

    card_path = os.path.join(args.out, name + ".json")
    with open(card_path, "w", newline="\n") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({card['size_bytes']} bytes, max |exported - eager| = {diff:.3g}) and {card_path}")
    return card


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=["torchvision", "timm"], default="torchvision")
    ap.add_argument("--arch", required=True, help="architecture name, e.g. resnet50")
    ap.add_argument("--weights", default="DEFAULT", help="DEFAULT | <enum name> | path.pth | random")
    ap.add_argument("--input-size", type=int, default=None,
                    help="square input size (default: from the weights' preset / pretrained_cfg, else 224)")
    ap.add_argument("--out", required=True, help="output folder")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--trace", action="store_true", help="torch.jit.trace (default)")
    mode.add_argument("--script", action="store_true", help="torch.jit.script")
    ap.add_argument("--num-classes", type=int, default=None, help="classifier outputs (random / file weights)")
    ap.add_argument("--label-offset", type=int, default=0, help="output column of dataset class 0")
    ap.add_argument("--dataset-classes", type=int, default=None, help="default: num_classes - label_offset")
    ap.add_argument("--dataset", default="imagenet")
    ap.add_argument("--name", default=None, help="file stem / card name (default: arch)")
    ap.add_argument("--mean", default=None, help="override card mean, e.g. 0.5,0.5,0.5")
    ap.add_argument("--std", default=None, help="override card std")
    ap.add_argument("--licence", default=None, help="SPDX id of the weights' licence (default: inferred)")
    ap.add_argument("--training", default="standard", choices=["standard", "adversarial", "certified"])
    ap.add_argument("--notes", default=None, help="extra text for the card's notes")
    ap.add_argument("--seed", type=int, default=0, help="seed for --weights random")
    ap.add_argument("--eval-dir", default=None, help="Tianchi-layout folder to measure clean_top1 on")
    ap.add_argument("--label-base", type=int, default=0, help="dataset label of class 0 in --eval-dir's dev.csv")
    ap.add_argument("--eval-limit", type=int, default=None, help="evaluate only the first N images")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        export(args)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
