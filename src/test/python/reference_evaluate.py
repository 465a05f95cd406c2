#!/usr/bin/env python3
"""Independent reference for `advspark evaluate`: decode PNGs with PIL, apply a defense with PIL /
numpy, predict with PyTorch (/usr/bin/python3, torch 1.13).

    reference_evaluate.py --data DIR --pngs DIR --model M.pt --defense none,jpeg:75,bits:4 \
        --out preds.json [--threads 2] [--batch-size 16]

Writes {"<defense>": {"<ImageId>": [clean_top1, adv_top1], ...}, ...} for each defense of the
comma-separated list, with 0-based dataset labels (argmax of the card's dataset columns). One
process for every defense: the model is loaded and each PNG decoded once. JPEG is PIL's encoder (libjpeg, quality q, its default 4:2:0) and decoder;
bits(b) is round(round(x (2^b-1)) / (2^b-1) * 255) on x = v / 255.
"""
import argparse
import io
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_attack import Member, read_dataset  # noqa: E402


def load(path):
    with Image.open(path) as img:  # decoded now, so the file is closed: many images are held at once
        return img.convert("RGB")


def defend(img, spec):
    if spec == "none":
        return np.asarray(img, dtype=np.uint8)
    name, arg = spec.split(":")
    if name == "jpeg":
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=int(arg))
        buf.seek(0)
        return np.asarray(Image.open(buf).convert("RGB"), dtype=np.uint8)
    if name == "bits":
        levels = (1 << int(arg)) - 1
        x = np.asarray(img, dtype=np.float64) / 255.0
        q = np.round(x * levels) / levels
        return np.clip(np.floor(q * 255.0 + 0.5), 0, 255).astype(np.uint8)
    raise SystemExit("unknown defense " + spec)


def predict(member, arrays, batch_size):
    out = []
    for i in range(0, len(arrays), batch_size):
        x = torch.from_numpy(np.stack([a.transpose(2, 0, 1) for a in arrays[i:i + batch_size]])).float() / 255.0
        with torch.no_grad():
            out.extend(member.logits(x).argmax(dim=1).tolist())
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--pngs", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--defense", default="none", help="comma-separated: none, jpeg:Q, bits:B")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    m = Member(a.model, 1.0)
    rows = [r for r in read_dataset(a.data, 0) if os.path.exists(os.path.join(a.pngs, r["image_id"]))]
    clean_imgs = [load(r["path"]) for r in rows]
    adv_imgs = [load(os.path.join(a.pngs, r["image_id"])) for r in rows]
    out = {}
    for d in a.defense.split(","):
        clean = predict(m, [defend(i, d) for i in clean_imgs], a.batch_size)
        adv = predict(m, [defend(i, d) for i in adv_imgs], a.batch_size)
        out[d] = {r["image_id"]: [c, v] for r, c, v in zip(rows, clean, adv)}
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
