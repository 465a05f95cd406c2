#!/usr/bin/env python3
"""Export an image classifier (torchvision, timm, or your own code) as TorchScript + model card for advspark.

Usage (PyTorch lives in the system Python):

    /usr/bin/python3 tools/export_model.py --source torchvision --arch resnet50 \\
        [--weights DEFAULT|IMAGENET1K_V2|path.pth|random] [--input-size 224] --out DIR \\
        [--trace|--script] [--num-classes N] [--label-offset K] [--dataset imagenet] \\
        [--eval-dir DIR --label-base 1] [--name NAME] [--licence SPDX] [--mean a,b,c --std a,b,c]

    /usr/bin/python3 tools/export_model.py --source python --module FILE.py --constructor 'CifarResNet(20)' \
        --weights X.pth --input-size 32 --dataset cifar10 --out DIR [--name NAME] \
        [--taps layer2,layer3.1] [--backward 'sgm(gamma=0.2)'|'linbp(stage=layer3.1)'|'bpa(stage=layer3.1)']

    /usr/bin/python3 tools/export_model.py --source torchscript --model DIR/x.pt --dtype bf16 --out DIR

Writes DIR/<name>.pt and DIR/<name>.json (the model card, docs/models.md; the exporting guide is
docs/exporting.md). The card's dataset follows the model's classes (1000: imagenet, 10: cifar10,
100: cifar100, else custom) unless --dataset names it.

PyTorch: tested with torch 1.13.1 and torchvision 0.14.1 (advspark's tests export with them).
advspark loads the files with libtorch 2.7.1: TorchScript written by an older torch loads there;
one written by a torch newer than 2.7 may use operators libtorch 2.7.1 lacks, which
`advspark attack --check` reports when it loads the model. --help needs no PyTorch.

--source python: FILE.py is imported as a module, the constructor expression is evaluated in its
namespace (e.g. 'CifarResNet(20)', 'resnet4b()'), and --weights (a state_dict file; a
"state_dict"/"model" wrapper and "module." prefixes are unwrapped) is loaded with strict=True.
The module must take the normalised NCHW tensor and return [N, classes] logits; mean/std default
to ImageNet's (override with --mean/--std), --input-size is required.

--taps NAME[,NAME...] (submodule names as in model.named_modules(), e.g. layer2, layer3.1): the
TorchScript returns the tuple (logits, tap_1, ..., tap_k) in the order given, each tap the
submodule's output [N, *shape]; the card lists them as "taps": [{"name", "shape"}] with the
per-image shape (e.g. [C, H, W]). Each tapped submodule must run exactly once per forward. For
each tap k the TorchScript also has a method from_tap_<k>(x, a) -> logits: the forward with tap
k's output replaced by a ([N, *shape]), which feature-level losses differentiate with respect to
a (at most 16 taps).

--backward SPEC changes the backward pass only (the forward is checked bit-identical to the plain
trace): sgm(gamma=G) scales the gradient through every residual branch by G (Wu et al. 2020);
linbp(stage=B) makes the ReLUs inside the residual branches of block B and every later block
linear in the backward (Guo et al. 2020); bpa(stage=B,temperature=T) gives those ReLUs the SiLU
derivative and every max-pool a softmax(T x) backward over its window (Wang et al. 2023). The
card records "backward" (the canonical spec) and "backward_sites" (where it acts). Residual
blocks are the submodules named layer<k>.<i> (torchvision ResNets, the CIFAR ResNets); see
docs/exporting.md for the rules and what differs from TransferAttack. Taps and --backward need
--trace (the default).

--dtype bf16|fp16 (default float32) writes a reduced-precision export for advspark.precision
(docs/precision.md): the model's parameters and buffers converted to that format, wrapped so the
file still takes float32 input and returns float32 logits (the cast sits at the model's boundary;
autograd returns a float32 input gradient). Files are named <name>.<dtype>.pt / .json, beside the
float32 export, and the card says "precision": "bf16". --source torchscript --model x.pt [--card
x.json] converts an existing advspark export (its card is copied, precision, file, size and sha256
updated); this is how the bundled TorchScript-only models get one. A bf16 export is checked
against the float32 model (logits' cosine on seeded inputs; clean_top1 again with --eval-dir); an
fp16 one cannot run on a CPU and is written unchecked. Not yet with --taps, --backward or models
that export dropout sites (their extra methods would stay float32).

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
import re
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    _Module = torch.nn.Module
    _TORCH_MISSING = None
except ImportError as _missing:  # --help works without PyTorch; an export needs it
    np = torch = F = None
    _Module = object
    _TORCH_MISSING = _missing

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


def build_python(args):
    """A user's own model: --module FILE.py, --constructor EXPR, --weights state_dict (strict)."""
    import importlib.util
    if not args.module or not args.constructor:
        raise ExportError("--source python needs --module FILE.py and --constructor EXPR")
    if not os.path.isfile(args.module):
        raise ExportError(f"--module {args.module}: no such file")
    if not args.weights or not os.path.isfile(args.weights):
        raise ExportError(f"--source python needs --weights FILE (a state_dict); got '{args.weights}'")
    if args.input_size is None:
        raise ExportError("--source python needs --input-size (the size the model was trained at)")
    mod_name = "advspark_user_" + os.path.splitext(os.path.basename(args.module))[0]
    spec = importlib.util.spec_from_file_location(mod_name, os.path.abspath(args.module))
    user = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.module)))  # its own sibling imports
    try:
        spec.loader.exec_module(user)
    except Exception as e:
        raise ExportError(f"--module {args.module} fails to import: {type(e).__name__}: {e}")
    finally:
        sys.path.pop(0)
    try:
        model = eval(args.constructor, vars(user))  # the user's own expression on the user's own code
    except Exception as e:
        raise ExportError(f"--constructor '{args.constructor}' fails in {args.module}: {type(e).__name__}: {e}")
    if not isinstance(model, torch.nn.Module):
        raise ExportError(f"--constructor '{args.constructor}' returned {type(model).__name__}, not a torch.nn.Module")
    try:
        model.load_state_dict(_load_state_dict_file(args.weights), strict=True)
    except RuntimeError as e:
        raise ExportError(f"state_dict of {args.weights} does not fit {args.constructor} of {args.module}: {e}")
    info = dict(mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD), input_size=args.input_size,
                source=f"file {os.path.abspath(args.weights)} (sha256 {sha256_of(args.weights)}) loaded strictly into "
                       f"{args.constructor} of {os.path.abspath(args.module)} (sha256 {sha256_of(args.module)})",
                licence="NOASSERTION", architecture=f"{os.path.basename(args.module)}: {args.constructor}",
                notes=[] if args.mean else ["mean/std: ImageNet's by default (--mean/--std not given)"])
    return model, info


# ----------------------------------------------------------------------------------------------
# Feature taps and backward-pass changes
# ----------------------------------------------------------------------------------------------
#
# Both are recorded into the traced graph by forward hooks (torch.jit.trace records whatever
# tensor ops run, hooks included) and, for ReLUs and max-pools, by replacing
# torch.nn.functional.relu / max_pool2d while tracing (nn.ReLU and nn.MaxPool2d call them too).
# TorchScript keeps no Python autograd.Function, so a changed backward is written as a
# straight-through identity whose forward value is exactly the original one:
#
#     y = f(x).detach() + (h(x) - h(x).detach())
#
# has the value f(x) + 0 = f(x) bit for bit (h(x) - h(x) is exactly 0 for finite h) and the
# gradient dh/dx. h = gamma * x gives a scaled gradient (SGM), h = x an identity (LinBP), h =
# silu(x) the SiLU derivative (BPA's ReLU), and h = the softmax-weighted sum of each window (the
# weights detached) BPA's max-pool.

BLOCK_RE = re.compile(r"(^|\.)layer\d+\.\d+$")
SHORTCUT_NAMES = ("skip", "shortcut", "downsample")
BACKWARD_DEFAULTS = {
    # gamma 0.2: Wu et al. 2020 (and TransferAttack's sgm.py) for ResNets with iterative attacks.
    "sgm": {"gamma": 0.2},
    # stage layer3.1: TransferAttack's linbp.py / bpa.py setting for ResNet-50 (linbp_layer /
    # bpa_layer '3_1'); temperature 10: TransferAttack's bpa.py temp_coef.
    "linbp": {"stage": "layer3.1"},
    "bpa": {"stage": "layer3.1", "temperature": 10.0},
}


def parse_backward(text):
    """'sgm(gamma=0.5)' -> ('sgm', {'gamma': 0.5}) with defaults filled in; 'none' -> None."""
    if text is None or text.strip() in ("", "none"):
        return None
    m = re.fullmatch(r"\s*([a-z]+)\s*(?:\((.*)\))?\s*", text)
    if not m or m.group(1) not in BACKWARD_DEFAULTS:
        raise ExportError(f"--backward '{text}': expected none, {', '.join(k + '(...)' for k in BACKWARD_DEFAULTS)}")
    kind = m.group(1)
    params = dict(BACKWARD_DEFAULTS[kind])
    for item in filter(None, (p.strip() for p in (m.group(2) or "").split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in params:
            raise ExportError(f"--backward '{text}': unknown parameter '{key}' of {kind} "
                              f"(it takes {', '.join(params)})")
        if isinstance(params[key], float):
            try:
                params[key] = float(value)
            except ValueError:
                raise ExportError(f"--backward '{text}': {key} must be a number, got '{value}'")
        else:
            params[key] = value.strip()
    if kind == "sgm" and not 0.0 <= params["gamma"] <= 1.0:
        raise ExportError(f"--backward '{text}': gamma must be in [0, 1]")
    if kind == "bpa" and not params["temperature"] > 0:
        raise ExportError(f"--backward '{text}': temperature must be positive")
    return kind, params


def backward_spec(change):
    """The canonical spec the card records, every parameter written out."""
    if change is None:
        return "none"
    kind, params = change
    return kind + "(" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()) + ")"


def _scaled_grad(y, gamma):
    return y.detach() + gamma * (y - y.detach())


def _linear_backward(out, x):
    return out.detach() + (x - x.detach())


def _silu_backward(out, x):
    s = F.silu(x)
    return out.detach() + (s - s.detach())


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _softmax_pool_backward(out, x, kernel_size, stride, padding, temperature):
    """BPA's max-pool: the gradient of each output spread over its window by softmax(T * window)."""
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride if stride else kernel_size)
    ph, pw = _pair(padding)
    n, c = x.shape[0], x.shape[1]
    ho, wo = out.shape[2], out.shape[3]
    # The window is what max-pool compares: padded places (-inf to max-pool) get no weight.
    padded = F.pad(x.detach(), [pw, pw, ph, ph], value=float("-inf"))
    w = F.softmax(temperature * F.unfold(padded, (kh, kw), stride=(sh, sw)).view(n, c, kh * kw, ho * wo), dim=2)
    vals = F.unfold(x, (kh, kw), padding=(ph, pw), stride=(sh, sw)).view(n, c, kh * kw, ho * wo)
    h = (w.detach() * vals).sum(2).view(n, c, ho, wo)
    return out.detach() + (h - h.detach())


class Surgery:
    """Taps and a backward change installed on an eval-mode model for one trace.

    A dry run of the plain model first records, per residual block (submodules named
    layer<k>.<i>, in execution order): its ReLU calls (F.relu or nn.ReLU) and which of them
    returns the block's output (the ReLU after the sum: never changed), the last parametric
    submodule outside its shortcut (children named skip/shortcut/downsample), which ends the
    residual branch; and each tap's shape. The traced run then changes exactly those places.
    """

    def __init__(self, model, taps, change, example):
        self.model, self.taps, self.change = model, list(taps), change
        self.modules = dict(model.named_modules())
        for t in self.taps:
            if t not in self.modules or t == "":
                raise ExportError(f"--taps: the model has no submodule '{t}' (names as in model.named_modules(), "
                                  f"e.g. {', '.join(n for n in list(self.modules)[1:6])})")
        if len(set(self.taps)) != len(self.taps):
            raise ExportError(f"--taps {','.join(self.taps)}: a name is repeated")
        self.blocks = [n for n in self.modules if BLOCK_RE.search(n)]
        self.sites = []
        self._block_stack, self._relu_index = [], {}
        self._recording = None
        self.tap_values = {}
        self._dry_run(example)

    # -- the dry run -------------------------------------------------------------------------
    def _dry_run(self, example):
        rec = self._recording = dict(order=[], relus={}, outputs={}, leaves={}, tap_calls={}, tap_shapes={})
        handles = []
        try:
            for name in self.blocks:
                handles += self._block_hooks(name, record=True)
            for name, mod in self.modules.items():
                if name and not list(mod.children()) and any(True for _ in mod.parameters(recurse=False)):
                    handles.append(mod.register_forward_hook(self._leaf_hook(name)))
            for name in self.taps:
                handles.append(self.modules[name].register_forward_hook(self._tap_record_hook(name)))
            with torch.no_grad(), self._patched(record=True):
                self.model(example)
        finally:
            for h in handles:
                h.remove()
            self._recording = None
        for name in self.taps:
            calls = rec["tap_calls"].get(name, 0)
            if calls != 1:
                raise ExportError(f"--taps {name}: that submodule runs {calls} times per forward; tap one that runs once")
        self.tap_shapes = {n: rec["tap_shapes"][n] for n in self.taps}
        self.block_order = rec["order"]
        if self.change is None:
            return
        if not self.block_order:
            raise ExportError(f"--backward {backward_spec(self.change)}: no residual blocks found (submodules named "
                              f"layer<k>.<i>, as in torchvision's and the CIFAR ResNets); this model has "
                              f"{', '.join(list(self.modules)[1:8])}, ...")
        kind, params = self.change
        if kind == "sgm":
            self.active = list(self.block_order)
            self.branch_ends = {}
            for b in self.active:
                ends = [n for n in rec["leaves"].get(b, [])
                        if not any(part in SHORTCUT_NAMES for part in n[len(b) + 1:].split("."))]
                if not ends:
                    raise ExportError(f"--backward sgm: block {b} has no parametric submodule outside its shortcut")
                self.branch_ends[ends[-1]] = b
                self.sites.append(f"{ends[-1]} (end of the residual branch of {b})")
        else:
            stage = params["stage"]
            if stage not in self.block_order:
                starts = [b for b in self.block_order if b.startswith(stage + ".")]
                if not starts:
                    raise ExportError(f"--backward {kind}: stage '{stage}' is not a residual block of this model "
                                      f"(blocks: {', '.join(self.block_order)})")
                stage = starts[0]
            self.change = (kind, dict(params, stage=stage))  # the card names the block it starts at
            self.active = self.block_order[self.block_order.index(stage):]
            self.branch_relus = {}
            for b in self.active:
                calls = rec["relus"].get(b, [])
                out_idx = [i for i, is_out in enumerate(calls) if is_out]
                branch = [i for i in range(len(calls)) if i not in out_idx]
                if not branch:
                    raise ExportError(f"--backward {kind}: block {b} calls no ReLU (F.relu / nn.ReLU) inside its "
                                      "residual branch; ReLUs called as torch.relu or x.relu() are not reachable")
                self.branch_relus[b] = set(branch)
                self.sites.append(f"{b}: ReLU call(s) {','.join(str(i + 1) for i in branch)} of {len(calls)}")
            if kind == "bpa":
                pools = rec.get("pools", 0)
                self.sites.append(f"every max-pool ({pools} call(s))")

    def _block_hooks(self, name, record):
        mod = self.modules[name]

        def pre(m, inp):
            self._block_stack.append(name)
            self._relu_index[name] = 0
            if record:
                if name in self._recording["order"]:
                    raise ExportError(f"residual block {name} runs more than once per forward")
                self._recording["order"].append(name)
                self._recording["relus"][name] = []

        def post(m, inp, out):
            self._block_stack.pop()
            if record:
                self._recording["relus"][name] = [o is out for o in self._recording["relus"][name]]
        return [mod.register_forward_pre_hook(pre), mod.register_forward_hook(post)]

    def _leaf_hook(self, name):
        def hook(m, inp, out):
            if self._block_stack:
                self._recording["leaves"].setdefault(self._block_stack[-1], []).append(name)
        return hook

    def _tap_record_hook(self, name):
        def hook(m, inp, out):
            if not isinstance(out, torch.Tensor):
                raise ExportError(f"--taps {name}: that submodule returns {type(out).__name__}, not a tensor")
            self._recording["tap_calls"][name] = self._recording["tap_calls"].get(name, 0) + 1
            self._recording["tap_shapes"][name] = [int(d) for d in out.shape[1:]]
        return hook

    # -- F.relu / F.max_pool2d replacements -------------------------------------------------
    def _patched(self, record):
        surgery = self
        orig_relu, orig_pool = F.relu, F.max_pool2d

        def relu(input, inplace=False):
            block = surgery._block_stack[-1] if surgery._block_stack else None
            if record:
                out = orig_relu(input, inplace=inplace)
                if block is not None:
                    surgery._recording["relus"][block].append(out)
                return out
            if block is None or block not in surgery.branch_relus_or_empty():
                return orig_relu(input, inplace=inplace)
            i = surgery._relu_index[block]
            surgery._relu_index[block] = i + 1
            if i not in surgery.branch_relus[block]:
                return orig_relu(input, inplace=inplace)
            out = orig_relu(input)
            return _linear_backward(out, input) if surgery.change[0] == "linbp" else _silu_backward(out, input)

        def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                       return_indices=False):
            if record:
                surgery._recording["pools"] = surgery._recording.get("pools", 0) + 1
            out = orig_pool(input, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode,
                            return_indices=return_indices)
            if record or surgery.change is None or surgery.change[0] != "bpa":
                return out
            if return_indices or ceil_mode or _pair(dilation) != (1, 1):
                raise ExportError("--backward bpa: a max-pool with return_indices, ceil_mode or dilation is not "
                                  "supported")
            return _softmax_pool_backward(out, input, kernel_size, stride, padding, surgery.change[1]["temperature"])

        class Ctx:
            def __enter__(self):
                F.relu, F.max_pool2d = relu, max_pool2d

            def __exit__(self, *exc):
                F.relu, F.max_pool2d = orig_relu, orig_pool
        return Ctx()

    def branch_relus_or_empty(self):
        return getattr(self, "branch_relus", {})

    # -- the traced run ----------------------------------------------------------------------
    def trace(self, example):
        """torch.jit.trace of (logits, *taps) with the backward change in the graph."""
        handles = []
        for mod in self.modules.values():
            if isinstance(mod, torch.nn.ReLU):
                mod.inplace = False  # same values; a tap must not be overwritten by a later in-place ReLU
        try:
            for name in self.blocks:
                handles += self._block_hooks(name, record=False)
            if self.change is not None and self.change[0] == "sgm":
                gamma = self.change[1]["gamma"]
                for end in self.branch_ends:
                    handles.append(self.modules[end].register_forward_hook(lambda m, i, o: _scaled_grad(o, gamma)))
            for name in self.taps:
                handles.append(self.modules[name].register_forward_hook(self._tap_hook(name)))
            wrapper = _TapsWrapper(self.model, self.taps, self.tap_values)
            with torch.no_grad(), self._patched(record=False):
                if not self.taps:
                    return torch.jit.trace(wrapper, example, check_trace=False)
                # forward, and per tap k a method from_tap_<k>(x, a): the forward with tap k's
                # output replaced by a (logits only), so a loss can differentiate with respect
                # to a tap (feature-level attacks' aggregate gradients) or feed a changed
                # activation on (ILPD's decayed perturbation).
                inputs = {"forward": example}
                for k, name in enumerate(self.taps):
                    a = torch.zeros([example.shape[0]] + self.tap_shapes[name], dtype=example.dtype)
                    inputs[f"from_tap_{k}"] = (example, a)
                return torch.jit.trace_module(wrapper, inputs, check_trace=False)
        finally:
            for h in handles:
                h.remove()

    def _tap_hook(self, name):
        def hook(m, inp, out):
            self.tap_values[name] = out
            replaced = self.tap_values.get(("replace", name))
            return replaced if replaced is not None else None
        return hook


class _TapsWrapper(_Module):
    def __init__(self, model, taps, values):
        super().__init__()
        self.model = model
        self._taps, self._values = taps, values

    def forward(self, x):
        self._values.clear()
        logits = self.model(x)
        if not self._taps:
            return logits
        return (logits,) + tuple(self._values[n] for n in self._taps)

    def _from_tap(self, k, x, a):
        self._values.clear()
        self._values[("replace", self._taps[k])] = a
        try:
            return self.model(x)
        finally:
            self._values.clear()


# from_tap_<k> for up to 16 taps (trace_module traces methods the class defines).
for _k in range(16):
    setattr(_TapsWrapper, f"from_tap_{_k}", (lambda k: lambda self, x, a: self._from_tap(k, x, a))(_k))


# ----------------------------------------------------------------------------------------------
# Export, evaluation, card
# ----------------------------------------------------------------------------------------------

def dataset_for(classes):
    """The card's dataset when --dataset does not name it: what the class count says."""
    return {1000: "imagenet", 10: "cifar10", 100: "cifar100"}.get(classes, "custom")


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


# ----------------------------------------------------------------------------------------------
# Reduced precision (--dtype)
# ----------------------------------------------------------------------------------------------

DTYPES = {"bf16": "bfloat16", "fp16": "float16"}


class _Bf16Boundary(_Module):
    """float32 in and out, the model inside in bfloat16 (scripted: the cast is part of the file)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        return self.inner(x.to(torch.bfloat16)).float()


class _Bf16ChannelsLastBoundary(_Module):
    """As _Bf16Boundary, the input also made channels-last (NHWC), oneDNN's brgemm kernels' layout."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        return self.inner(x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)).float()


class _Fp16Boundary(_Module):
    """float32 in and out, the model inside in float16."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        return self.inner(x.to(torch.float16)).float()


def reduced_precision(fp32_path, dtype, example, channels_last=False):
    """The TorchScript at fp32_path converted to dtype behind a float32 boundary, and its check text.

    Scripted rather than traced: tracing would have to run the model, which fp16 cannot on a CPU.
    """
    inner = torch.jit.load(fp32_path)
    inner.eval()
    extra = [m for m in inner._c._method_names() if m != "forward"]
    if extra:
        raise ExportError(f"--dtype {dtype}: {fp32_path} exports methods besides forward ({', '.join(sorted(extra))}: "
                          "taps or dropout sites), which would stay float32; not supported yet")
    reference = torch.jit.load(fp32_path)
    reference.eval()
    inner = inner.to(getattr(torch, DTYPES[dtype]))
    if channels_last:
        if dtype != "bf16":
            raise ExportError("--channels-last is for --dtype bf16")
        inner = inner.to(memory_format=torch.channels_last)
        wrapped = torch.jit.script(_Bf16ChannelsLastBoundary(inner))
    else:
        wrapped = torch.jit.script(_Bf16Boundary(inner) if dtype == "bf16" else _Fp16Boundary(inner))
    wrapped.eval()
    if dtype == "fp16":
        return wrapped, "not run: fp16 needs a GPU"
    with torch.no_grad():
        try:
            low = wrapped(example)
        except RuntimeError as e:
            raise ExportError(f"--dtype bf16: the converted model fails ({str(e).splitlines()[0]}): it probably keeps "
                              "float32 tensors outside its parameters and buffers (constants in the traced code); "
                              "export it again from its source with --dtype bf16") from e
        ref = reference(example)
    if low.dtype != torch.float32 or low.shape != ref.shape:
        raise ExportError(f"--dtype bf16: the converted model returns {low.dtype} {list(low.shape)}, expected float32 "
                          f"{list(ref.shape)}")
    cos = F.cosine_similarity(low.flatten(), ref.flatten(), dim=0).item()
    agree = (low.argmax(1) == ref.argmax(1)).float().mean().item()
    if cos < 0.98:
        raise ExportError(f"--dtype bf16: the converted model's logits have cosine {cos:.4f} with the float32 ones on "
                          "seeded inputs (expected >= 0.98): this model does not survive bf16")
    return wrapped, f"logits cosine {cos:.5f}, top-1 agreement {agree:.2f} with float32 on {example.shape[0]} seeded inputs"


def convert_torchscript(args):
    """--source torchscript: an existing export (file + card) converted to --dtype."""
    if args.dtype == "float32":
        raise ExportError("--source torchscript converts an existing export: give --dtype bf16 or fp16")
    if not args.model:
        raise ExportError("--source torchscript needs --model x.pt")
    card_path = args.card or os.path.splitext(args.model)[0] + ".json"
    try:
        with open(card_path) as f:
            card = json.load(f)
    except (OSError, ValueError) as e:
        raise ExportError(f"card {card_path}: {e}") from e
    if card.get("precision", "fp32") != "fp32":
        raise ExportError(f"{args.model} is already a {card['precision']} export (card {card_path})")
    if card.get("taps") or card.get("backward", "none") not in (None, "none"):
        raise ExportError(f"--dtype {args.dtype}: {args.model} has taps or a backward change (card {card_path}); "
                          "not supported yet")
    h, w = card["input_size"]
    example = torch.randn(8, 3, h, w, generator=torch.Generator().manual_seed(0))
    wrapped, checked = reduced_precision(args.model, args.dtype, example, args.channels_last)
    stem = args.name or os.path.splitext(os.path.basename(args.model))[0]
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{stem}.{args.dtype}.pt")
    wrapped.save(path)
    card = dict(card)
    # The float32 model's clean accuracy is not this file's: measured again with --eval-dir, else unknown.
    card.update(file=os.path.basename(path), precision=args.dtype, size_bytes=os.path.getsize(path),
                sha256=sha256_of(path), clean_top1=None, clean_top1_split=None, clean_top1_n=None)
    card["export"] = (f"{card.get('export', '')}; converted to {args.dtype} by advspark tools/export_model.py "
                      f"--source torchscript (torch {torch.__version__}), float32 boundary"
                      f"{', channels-last' if args.channels_last else ''}; check: {checked}")
    if args.eval_dir:
        _measure(card, torch.jit.load(path), args)
    out_card = os.path.join(args.out, f"{stem}.{args.dtype}.json")
    with open(out_card, "w", newline="\n") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({card['size_bytes']} bytes; {checked}) and {out_card}")
    return card


def _measure(card, model, args):
    t0 = time.time()
    acc, n = evaluate(model, card, args.eval_dir, args.label_base, limit=args.eval_limit)
    card.update(clean_top1=round(acc, 4), clean_top1_split=os.path.basename(os.path.normpath(args.eval_dir)),
                clean_top1_n=n)
    print(f"clean top-1 {acc:.4f} on {n} images of {args.eval_dir} ({time.time() - t0:.1f}s)")


def export(args):
    if args.source == "torchscript":
        return convert_torchscript(args)
    if args.dtype != "float32" and (args.taps or args.backward):
        raise ExportError(f"--dtype {args.dtype} with --taps or --backward is not supported yet (the taps and the "
                          "changed backward would stay float32)")
    if args.source == "python":
        model, info = build_python(args)
    else:
        if not args.arch:
            raise ExportError(f"--source {args.source} needs --arch")
        model, info = build_timm(args) if args.source == "timm" else build_torchvision(args)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    label = args.arch or args.constructor
    taps = [t.strip() for t in args.taps.split(",") if t.strip()] if args.taps else []
    if len(taps) > 16:
        raise ExportError(f"--taps: at most 16 taps, got {len(taps)}")
    change = parse_backward(args.backward)
    special = bool(taps) or change is not None
    if special and args.script:
        raise ExportError("--taps and --backward are recorded by torch.jit.trace: use --trace (the default)")

    size = args.input_size or info["input_size"]
    mean = [float(v) for v in args.mean.split(",")] if args.mean else info["mean"]
    std = [float(v) for v in args.std.split(",")] if args.std else info["std"]
    if len(mean) != 3 or len(std) != 3:
        raise ExportError("--mean/--std need three comma-separated values")
    example = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))

    with torch.no_grad():
        eager = model(example)
    if not isinstance(eager, torch.Tensor) or eager.dim() != 2:
        raise ExportError(f"{label} does not return a [N, classes] tensor in eval mode (got {type(eager)})")
    if args.script and args.arch in ("inception_v3", "googlenet"):
        raise ExportError(f"{args.arch} cannot be exported with --script (its scripted forward returns a named "
                          "tuple); use --trace")
    surgery = Surgery(model, taps, change, example[:1]) if special else None
    with torch.no_grad():
        if args.script:
            ts = torch.jit.script(model)
        elif surgery is not None:
            plain = torch.jit.trace(model, example[:1])  # the reference for "forward unchanged"
            ts = surgery.trace(example[:1])
        else:
            ts = torch.jit.trace(model, example[:1])
    ts.eval()

    name = args.name or (args.arch if args.source != "python"
                         else os.path.splitext(os.path.basename(args.weights))[0])
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, name + ".pt")
    ts.save(path)

    # Reload what was written and check it against the eager model.
    loaded = torch.jit.load(path)
    loaded.eval()
    with torch.no_grad():
        out = loaded(example)
        logits = out[0] if taps else out
        diff = (logits - eager).abs().max().item()
        if surgery is not None:
            # Taps and backward changes must leave the forward exactly as the plain trace computes it.
            ref = plain(example)
            if not torch.equal(logits, ref):
                raise ExportError(f"the exported forward differs from the plain trace by "
                                  f"{(logits - ref).abs().max().item()} (taps/--backward must not change it)")
            if taps:
                if not isinstance(out, tuple) or len(out) != 1 + len(taps):
                    raise ExportError(f"exported model returns {type(out).__name__}, expected a tuple of "
                                      f"{1 + len(taps)} tensors")
                for t, v in zip(taps, out[1:]):
                    if [int(d) for d in v.shape] != [example.shape[0]] + surgery.tap_shapes[t]:
                        raise ExportError(f"tap {t} has shape {list(v.shape)} in the exported model, expected "
                                          f"{[example.shape[0]] + surgery.tap_shapes[t]}")
                for k, (t, v) in enumerate(zip(taps, out[1:])):
                    # Feeding a tap its own value back must give the forward's logits exactly.
                    again = getattr(loaded, f"from_tap_{k}")(example, v)
                    if not torch.equal(again, logits):
                        raise ExportError(f"from_tap_{k} ({t}) fed the tap's own value differs from the forward by "
                                          f"{(again - logits).abs().max().item()}")
    if diff > 1e-3 * max(1.0, eager.abs().max().item()):
        raise ExportError(f"exported model differs from the eager one by {diff}")
    precision_note = None
    if args.dtype != "float32":
        # The float32 file was the conversion's input and reference; the reduced one replaces it.
        wrapped, precision_note = reduced_precision(path, args.dtype, example, args.channels_last)
        os.remove(path)
        path = os.path.join(args.out, f"{name}.{args.dtype}.pt")
        wrapped.save(path)
        loaded = torch.jit.load(path)
        loaded.eval()
    num_classes = int(eager.shape[1])
    off = args.label_offset
    dataset_classes = args.dataset_classes if args.dataset_classes is not None else num_classes - off
    if off < 0 or dataset_classes <= 0 or off + dataset_classes > num_classes:
        raise ExportError(f"label offset {off} + dataset classes {dataset_classes} exceed the {num_classes} outputs")

    card = {
        "name": name,
        "file": os.path.basename(path),
        "format": "torchscript",
        "dataset": args.dataset or dataset_for(dataset_classes),
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
        "taps": [{"name": t, "shape": surgery.tap_shapes[t]} for t in taps],
        "backward": backward_spec(surgery.change if surgery is not None else None),
        "backward_sites": surgery.sites if surgery is not None else [],
        "notes": "; ".join(info["notes"] + ([args.notes] if args.notes else [])),
        "export": f"torch {torch.__version__} torch.jit.{'script' if args.script else 'trace'}, eval mode, "
                  f"float32, CPU, by advspark tools/export_model.py"
                  + (f"; converted to {args.dtype} behind a float32 boundary"
                     f"{', channels-last' if args.channels_last else ''}; check: {precision_note}"
                     if precision_note else ""),
        "precision": "fp32" if args.dtype == "float32" else args.dtype,
        "size_bytes": os.path.getsize(path),
        "sha256": sha256_of(path),
    }
    if args.eval_dir and args.dtype != "fp16":
        _measure(card, loaded, args)

    card_path = os.path.splitext(path)[0] + ".json"
    with open(card_path, "w", newline="\n") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({card['size_bytes']} bytes, max |exported - eager| = {diff:.3g}) and {card_path}")
    return card


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=["torchvision", "timm", "python", "torchscript"], default="torchvision")
    ap.add_argument("--model", default=None, help="--source torchscript: the advspark export (x.pt) to convert")
    ap.add_argument("--card", default=None, help="--source torchscript: its card (default: x.json beside it)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bf16", "fp16"],
                    help="format of the exported layers (default float32); bf16/fp16 write <name>.<dtype>.pt "
                    "behind a float32 boundary")
    ap.add_argument("--channels-last", action="store_true",
                    help="with --dtype bf16: weights and input in channels-last (NHWC) layout inside the file, "
                    "which lets oneDNN pick its brgemm (and, on AMX CPUs, AMX) kernels; same results up to rounding")
    ap.add_argument("--arch", default=None, help="architecture name, e.g. resnet50 (torchvision, timm)")
    ap.add_argument("--module", default=None, help="--source python: the .py file defining the model")
    ap.add_argument("--constructor", default=None,
                    help="--source python: expression building the model in that module, e.g. 'CifarResNet(20)'")
    ap.add_argument("--taps", default=None, help="submodules whose outputs the TorchScript also returns, "
                    "e.g. layer2,layer3.1")
    ap.add_argument("--backward", default=None, help="backward-pass change: none | sgm(gamma=0.2) | "
                    "linbp(stage=layer3.1) | bpa(stage=layer3.1,temperature=10)")
    ap.add_argument("--weights", default="DEFAULT", help="DEFAULT | <enum name> | path.pth | random "
                    "(--source python: path.pth)")
    ap.add_argument("--input-size", type=int, default=None,
                    help="square input size (default: from the weights' preset / pretrained_cfg, else 224)")
    ap.add_argument("--out", required=True, help="output folder")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--trace", action="store_true", help="torch.jit.trace (default)")
    mode.add_argument("--script", action="store_true", help="torch.jit.script")
    ap.add_argument("--num-classes", type=int, default=None, help="classifier outputs (random / file weights)")
    ap.add_argument("--label-offset", type=int, default=0, help="output column of dataset class 0")
    ap.add_argument("--dataset-classes", type=int, default=None, help="default: num_classes - label_offset")
    ap.add_argument("--dataset", default=None, help="the dataset the outputs label (default: from the class count:"
                    " imagenet, cifar10, cifar100 or custom)")
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
    if _TORCH_MISSING is not None:
        print(f"error: exporting needs PyTorch in this Python ({_TORCH_MISSING}); e.g. apt-get install python3-torch"
              " python3-torchvision, or pip install torch torchvision", file=sys.stderr)
        return 2
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
