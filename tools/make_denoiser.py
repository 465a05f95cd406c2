#!/usr/bin/env python3
"""Build advspark's tiny test purifiers (TorchScript image-to-image models) deterministically.

Usage (PyTorch 1.13 lives in the system Python):

    /usr/bin/python3 tools/make_denoiser.py --out-dir target/purifiers

Writes three files:

- `denoiser.pt`: a tiny convolutional denoiser, constructed (not trained, so it is the same on
  every machine and every run): a depthwise 3x3 Gaussian blur (sigma 1) with replicate padding,
  followed by clamp to [0,1]. Shape in = shape out, values in [0,1]: a valid `purify(path=...)`.
- `broken_shape.pt`: the same blur without padding, so [N,3,H,W] becomes [N,3,H-2,W-2].
- `broken_range.pt`: the blur mapped to 2x - 0.5, so outputs leave [0,1].

The two broken ones exist to test that a round refuses them when it loads. The models are scripted
(torch.jit.script), so they run at any image size.
"""
import argparse
import math
import os

import torch
import torch.nn.functional as F


def gaussian_kernel(sigma=1.0):
    k = torch.tensor([math.exp(-(i * i) / (2 * sigma * sigma)) for i in (-1, 0, 1)], dtype=torch.float32)
    k2 = torch.outer(k, k)
    return (k2 / k2.sum()).view(1, 1, 3, 3).repeat(3, 1, 1, 1)


class Denoiser(torch.nn.Module):
    """Depthwise 3x3 blur; mode picks the valid model or one of the broken ones."""

    def __init__(self, mode: str):
        super().__init__()
        self.register_buffer("weight", gaussian_kernel())
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "shape":
            return F.conv2d(x, self.weight, groups=3)
        y = F.conv2d(F.pad(x, [1, 1, 1, 1], mode="replicate"), self.weight, groups=3)
        if self.mode == "range":
            return 2.0 * y - 0.5
        return torch.clamp(y, 0.0, 1.0)


def build(mode):
    return torch.jit.script(Denoiser(mode).eval())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    for mode, name in (("ok", "denoiser.pt"), ("shape", "broken_shape.pt"), ("range", "broken_range.pt")):
        path = os.path.join(args.out_dir, name)
        build(mode).save(path)
        print(path)


if __name__ == "__main__":
    main()
