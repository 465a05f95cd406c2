#!/usr/bin/env python3
"""Generate advspark's own small, self-contained demo set: images, labels and three tiny models.

Usage (PyTorch 1.13 lives in the system Python):

    /usr/bin/python3 tools/make_demo.py [--out demo] [--train-images 4800] [--threads 2]

Writes, deterministically (fixed seeds; the images are bit-identical on every run, the model
weights are on the same machine/torch build):

    demo/data/images/<ImageId>.png   48 synthetic 64x64 8-bit RGB PNGs (8 per class)
    demo/data/dev.csv                ImageId,TrueLabel,TargetClass (0-based labels, sorted by ImageId)
    demo/data/labels.txt             one class name per line (line i = label i)
    demo/models/tiny_{a,b,c}.pt      TorchScript (torch.jit.trace, eval mode, float32, CPU)
    demo/models/tiny_{a,b,c}.json    model cards, same format as /work/shared/models/README.md

The images are procedural "shapes and textures" (6 classes) with random position, size, colours
and background noise. The models are trained from scratch on thousands of *freshly generated*
images (never the 48 demo images) and follow the shared model contract: the input is already
resized (bilinear, align_corners=False, no antialias) from the 64x64 image to the card's
`input_size` and normalised `(x - mean) / std` on the [0,1] scale; the output is raw logits.
The three models deliberately differ in input size, normalisation, architecture and label
convention so that the pipeline's per-model preprocessing is exercised:

    tiny_a  32x32, ImageNet mean/std, 6 outputs, label_offset 0   (plain VGG-style CNN)
    tiny_b  48x48, mean=std=0.5, 7 outputs, column 0 = unused "background", label_offset 1
            (BatchNorm + residual blocks)
    tiny_c  64x64 (no resize), 6 outputs, label_offset 0 (strided convs, ELU) - held-out target
"""

import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

CLASSES = ["circle", "square", "triangle", "cross", "stripes", "checkerboard"]
SIZE = 64
DEMO_PER_CLASS = 8

# Seeds: demo images, training images, validation images and model init are all independent.
SEED_DEMO = 20240601
SEED_TRAIN = 1
SEED_VAL = 2
SEED_TORCH = 1234


# ----------------------------------------------------------------------------------------------
# Procedural images
# ----------------------------------------------------------------------------------------------

def _random_colour_pair(rng):
    """Two RGB colours (float 0..255) that differ clearly, so the class pattern stays visible."""
    while True:
        a = rng.uniform(0, 255, size=3)
        b = rng.uniform(0, 255, size=3)
        if np.abs(a - b).sum() > 180:
            return a, b


def render(cls, rng):
    """Render one SIZE x SIZE image of class index `cls` as an HWC uint8 array."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5  # pixel centres
    bg, fg = _random_colour_pair(rng)
    name = CLASSES[cls]

    if name in ("stripes", "checkerboard"):
        # Textures fill the image: rotated stripes / rotated checkerboard with a random period.
        period = rng.uniform(8.0, 16.0)
        theta = rng.uniform(0, math.pi)
        u = (xx * math.cos(theta) + yy * math.sin(theta)) / period + rng.uniform(0, 1)
        if name == "stripes":
            mask = (np.floor(u) % 2) == 0
        else:
            v = (-xx * math.sin(theta) + yy * math.cos(theta)) / period + rng.uniform(0, 1)
            mask = ((np.floor(u) + np.floor(v)) % 2) == 0
    else:
        # Shapes on a plain background: random centre and size, kept mostly inside the image.
        r = rng.uniform(11.0, 24.0)
        cx = rng.uniform(r * 0.8, SIZE - r * 0.8)
        cy = rng.uniform(r * 0.8, SIZE - r * 0.8)
        dx, dy = xx - cx, yy - cy
        if name == "circle":
            mask = dx * dx + dy * dy <= r * r
        elif name == "square":
            # Axis-aligned or slightly rotated square of half-side ~0.85 r.
            a = rng.uniform(-0.35, 0.35)
            u = dx * math.cos(a) + dy * math.sin(a)
            v = -dx * math.sin(a) + dy * math.cos(a)
            h = 0.85 * r
            mask = (np.abs(u) <= h) & (np.abs(v) <= h)
        elif name == "triangle":
            # Upright equilateral-ish triangle with a random small rotation (barycentric test).
            a = rng.uniform(-0.3, 0.3)
            pts = [(cx + r * math.sin(a + k * 2 * math.pi / 3), cy - r * math.cos(a + k * 2 * math.pi / 3))
                   for k in range(3)]
            mask = np.ones_like(xx, dtype=bool)
            for i in range(3):
                (x1, y1), (x2, y2) = pts[i], pts[(i + 1) % 3]
                # Inside = same side of every edge as the centre.
                side = (x2 - x1) * (yy - y1) - (y2 - y1) * (xx - x1)
                ref = (x2 - x1) * (cy - y1) - (y2 - y1) * (cx - x1)
                mask &= side * ref >= 0
        elif name == "cross":
            a = rng.uniform(-0.3, 0.3)
            u = dx * math.cos(a) + dy * math.sin(a)
            v = -dx * math.sin(a) + dy * math.cos(a)
            w = r * rng.uniform(0.22, 0.32)
            mask = ((np.abs(u) <= r) & (np.abs(v) <= w)) | ((np.abs(v) <= r) & (np.abs(u) <= w))
        else:
            raise ValueError(name)

    img = np.where(mask[..., None], fg, bg)
    # Background noise: per-pixel Gaussian noise of random strength plus a smooth brightness ramp.
    img = img + rng.normal(0.0, rng.uniform(4.0, 20.0), size=img.shape)
    ramp = (xx * rng.uniform(-0.4, 0.4) + yy * rng.uniform(-0.4, 0.4))[..., None]
    img = img + ramp
    return np.clip(np.floor(img + 0.5), 0, 255).astype(np.uint8)


def make_set(n, seed):
    """n images with balanced classes (cls = i mod 6) as (uint8 NHWC array, int64 labels)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(CLASSES)
    imgs = np.stack([render(int(c), rng) for c in labels])
    return imgs, labels.astype(np.int64)


def to_tensor01(imgs_nhwc_u8):
    """uint8 NHWC -> float32 NCHW in [0,1], exactly as a PNG decoder + /255 would give."""
    return torch.from_numpy(np.ascontiguousarray(imgs_nhwc_u8.transpose(0, 3, 1, 2))).float() / 255.0


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------

class TinyA(nn.Module):
    """VGG-style: 3 x (conv3x3-BN-ReLU-maxpool), global average pool, linear. 32x32 input."""

    def __init__(self, n_out=6):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 16x16
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 8x8
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 4x4
        )
        self.fc = nn.Linear(64, n_out)

    def forward(self, x):
        x = self.features(x)
        return self.fc(x.mean(dim=(2, 3)))


class _ResBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        s = x if self.short is None else self.short(x)
        return F.relu(y + s)


class TinyB(nn.Module):
    """Small ResNet with BatchNorm: stem + 3 residual blocks (stride 2), avg pool, linear.
    48x48 input; 7 outputs where column 0 is an unused 'background' class (TF-slim style)."""

    def __init__(self, n_out=7):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(_ResBlock(16, 16, 2), _ResBlock(16, 32, 2), _ResBlock(32, 48, 2))  # 6x6
        self.fc = nn.Linear(48, n_out)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class TinyC(nn.Module):
    """All-convolutional: strided 5x5/3x3 convs with ELU, no pooling layers, flatten + 2 linear.
    64x64 input (the demo images' own size, so no resize)."""

    def __init__(self, n_out=6):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 24, 5, stride=2, padding=2), nn.ELU(),   # 32
            nn.Conv2d(24, 32, 3, stride=2, padding=1), nn.ELU(),  # 16
            nn.Conv2d(32, 48, 3, stride=2, padding=1), nn.ELU(),  # 8
            nn.Conv2d(48, 48, 3, stride=2, padding=1), nn.ELU(),  # 4
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(48 * 4 * 4, 64), nn.ELU(), nn.Linear(64, n_out))

    def forward(self, x):
        return self.head(self.features(x))


IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]

SPECS = [
    dict(name="tiny_a", cls=TinyA, input_size=[32, 32], mean=IMAGENET_MEAN, std=IMAGENET_STD,
         num_classes=6, label_offset=0, epochs=8, lr=5e-3,
         architecture="VGG-style CNN: 3 x (conv3x3-BN-ReLU-maxpool2) 16/32/64 channels, global avg pool, linear; 32x32 input",
         notes="trained on 64x64 synthetic images resized to 32x32 (bilinear, align_corners=False, no antialias)"),
    dict(name="tiny_b", cls=TinyB, input_size=[48, 48], mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5],
         num_classes=7, label_offset=1, epochs=6, lr=5e-3,
         architecture="small ResNet: conv3x3-BN-ReLU stem + 3 residual blocks (16/32/48 channels, stride 2), avg pool, linear; 48x48 input",
         notes="7 outputs: column 0 is an unused 'background' class (never a training target), demo label L is column L+1; "
               "trained on 64x64 synthetic images resized to 48x48 (bilinear, align_corners=False, no antialias)"),
    dict(name="tiny_c", cls=TinyC, input_size=[64, 64], mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25],
         num_classes=6, label_offset=0, epochs=10, lr=2e-3,
         architecture="all-convolutional CNN: 4 strided convs (5x5/3x3, 24/32/48/48 channels) with ELU, flatten, 2 linear layers; 64x64 input",
         notes="held-out transfer target; takes the 64x64 demo images without resize"),
]


def preprocess(x01, spec):
    """The model contract: bilinear resize (skipped when the size matches), then (x - mean) / std."""
    if list(x01.shape[-2:]) != spec["input_size"]:
        x01 = F.interpolate(x01, size=spec["input_size"], mode="bilinear", align_corners=False)
    mean = torch.tensor(spec["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(spec["std"], dtype=torch.float32).view(1, 3, 1, 1)
    return (x01 - mean) / std


def predict(model, x01, spec, batch=256):
    """0-based dataset predictions: argmax over the dataset columns [off, off + 6)."""
    off = spec["label_offset"]
    preds = []
    with torch.no_grad():
        for i in range(0, x01.shape[0], batch):
            z = model(preprocess(x01[i:i + batch], spec))[:, off:off + len(CLASSES)]
            preds.append(z.argmax(1))
    return torch.cat(preds)


def train(spec, x_train, y_train, x_val, y_val, log):
    torch.manual_seed(SEED_TORCH)
    model = spec["cls"](spec["num_classes"])
    # Resize + normalise once up front (no augmentation needed: every image is freshly random).
    inputs = preprocess(x_train, spec)
    targets = y_train + spec["label_offset"]  # training target = output column
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    n, bs = inputs.shape[0], 64
    steps_total = spec["epochs"] * ((n + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=spec["lr"], total_steps=steps_total)
    g = torch.Generator().manual_seed(SEED_TORCH)
    for epoch in range(spec["epochs"]):
        model.train()
        perm = torch.randperm(n, generator=g)
        total = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = F.cross_entropy(model(inputs[idx]), targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * idx.numel()
        model.eval()
        val = (predict(model, x_val, spec) == y_val).float().mean().item()
        log(f"  {spec['name']} epoch {epoch + 1}/{spec['epochs']}: loss {total / n:.4f}, val acc {val:.4f}")
    model.eval()
    return model, val


def export(model, spec, models_dir):
    """Trace in eval mode, freeze parameters (requires_grad False), save the .pt file."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    example = torch.zeros(1, 3, *spec["input_size"], dtype=torch.float32)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    traced.eval()
    path = os.path.join(models_dir, spec["name"] + ".pt")
    traced.save(path)
    return path


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------

def write_demo_data(data_dir, log):
    """The 48 demo images (class = index mod 6, so any prefix of the CSV has mixed classes)."""
    img_dir = os.path.join(data_dir, "images")
    os.makedirs(img_dir, exist_ok=True)
    imgs, labels = make_set(DEMO_PER_CLASS * len(CLASSES), SEED_DEMO)
    rows = []
    for i, (img, y) in enumerate(zip(imgs, labels)):
        image_id = f"{i:04d}.png"
        # Fixed, reproducible target != true label (same idea as cifar10-300's TargetClass).
        t = (int(y) + 1 + (i % (len(CLASSES) - 1))) % len(CLASSES)
        assert t != y
        Image.fromarray(img, mode="RGB").save(os.path.join(img_dir, image_id), format="PNG", optimize=True)
        rows.append((image_id, int(y), t))
    rows.sort()
    with open(os.path.join(data_dir, "dev.csv"), "w", newline="\n") as f:
        f.write("ImageId,TrueLabel,TargetClass\n")
        for r in rows:
            f.write(f"{r[0]},{r[1]},{r[2]}\n")
    with open(os.path.join(data_dir, "labels.txt"), "w", newline="\n") as f:
        f.write("\n".join(CLASSES) + "\n")
    log(f"wrote {len(rows)} images to {img_dir}, {data_dir}/dev.csv, {data_dir}/labels.txt")
    return rows


def load_demo_from_disk(data_dir, rows):
    """Read the demo PNGs back (what every consumer will see) as float32 NCHW [0,1]."""
    arrs = [np.asarray(Image.open(os.path.join(data_dir, "images", r[0])).convert("RGB")) for r in rows]
    return to_tensor01(np.stack(arrs)), torch.tensor([r[1] for r in rows], dtype=torch.int64)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo"),
                    help="output folder (default: <repo>/demo)")
    ap.add_argument("--train-images", type=int, default=7200, help="freshly generated training images")
    ap.add_argument("--val-images", type=int, default=600, help="freshly generated validation images")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    t_start = time.time()
    log = lambda s: print(s, flush=True)  # noqa: E731
    out = os.path.abspath(args.out)
    data_dir, models_dir = os.path.join(out, "data"), os.path.join(out, "models")
    os.makedirs(models_dir, exist_ok=True)

    rows = write_demo_data(data_dir, log)
    x_demo, y_demo = load_demo_from_disk(data_dir, rows)

    t0 = time.time()
    xtr_u8, y_train = make_set(args.train_images, SEED_TRAIN)
    xva_u8, y_val = make_set(args.val_images, SEED_VAL)
    x_train, x_val = to_tensor01(xtr_u8), to_tensor01(xva_u8)
    y_train, y_val = torch.from_numpy(y_train), torch.from_numpy(y_val)
    log(f"generated {args.train_images} training + {args.val_images} validation images in {time.time() - t0:.1f}s")

    for spec in SPECS:
        t0 = time.time()
        model, val_acc = train(spec, x_train, y_train, x_val, y_val, log)
        path = export(model, spec, models_dir)

        # Re-measure on the demo PNGs with the reloaded TorchScript file, exactly per the contract.
        loaded = torch.jit.load(path)
        loaded.eval()
        assert all(not p.requires_grad for p in loaded.parameters())
        acc = (predict(loaded, x_demo, spec) == y_demo).float().mean().item()
        # Sanity: gradients w.r.t. the input flow through the exported graph.
        xg = preprocess(x_demo[:2], spec).requires_grad_(True)
        (gx,) = torch.autograd.grad(loaded(xg).sum(), xg)
        assert torch.isfinite(gx).all() and gx.abs().sum() > 0

        card = {
            "name": spec["name"],
            "file": spec["name"] + ".pt",
            "format": "torchscript",
            "dataset": "demo-shapes",
            "input_size": spec["input_size"],
            "mean": spec["mean"],
            "std": spec["std"],
            "num_classes": spec["num_classes"],
            "dataset_classes": len(CLASSES),
            "label_offset": spec["label_offset"],
            "interpolation": "bilinear",
            "source": "advspark tools/make_demo.py (trained from scratch on procedurally generated images)",
            "licence": "Apache-2.0",
            "training": "standard",
            "clean_top1": round(acc, 4),
            "clean_top1_split": "demo",
            "clean_top1_n": int(y_demo.numel()),
            "architecture": spec["architecture"],
            "notes": spec["notes"] + f"; {spec['epochs']} epochs Adam/OneCycle on {args.train_images} generated "
                                     f"images, validation accuracy {val_acc:.4f} on {args.val_images} others",
            "export": f"torch {torch.__version__} torch.jit.trace, eval mode, float32, CPU",
            "size_bytes": os.path.getsize(path),
            "sha256": sha256_of(path),
        }
        with open(os.path.join(models_dir, spec["name"] + ".json"), "w", newline="\n") as f:
            json.dump(card, f, indent=2)
            f.write("\n")
        log(f"wrote {path} ({card['size_bytes']} bytes) + card: clean_top1 {acc:.4f} on {card['clean_top1_n']} "
            f"demo images, val {val_acc:.4f} ({time.time() - t0:.1f}s)")

    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    log(f"done in {time.time() - t_start:.1f}s; {out} holds {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
