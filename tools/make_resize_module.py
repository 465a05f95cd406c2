#!/usr/bin/env python3
"""Generate the TorchScript bilinear-resize module that advspark's model wrapper runs.

Usage (PyTorch 1.13 lives in the system Python):

    /usr/bin/python3 tools/make_resize_module.py [--out src/main/resources/io/advspark/model/bilinear_resize.pt]

Why a generated module: the model cards' resize contract is exactly
`F.interpolate(x, size, mode="bilinear", align_corners=False)` (no antialiasing). DJL's own
`interpolate` always antialiases, and a resize rebuilt from DJL gathers differs from ATen's
kernel by float rounding, which the MobileNets' ReLU6 clips amplify into 1e-3 gradient
differences. Scripting the one call lets libtorch run its own `upsample_bilinear2d` forward and
backward kernels (also about 4x faster than the gathers). The module has no parameters; the
output size is passed as a 2-element int64 tensor because DJL's forward takes tensors only.
The product only loads the committed file; Python is never on its run path.
"""
import argparse
import os

import torch
import torch.nn.functional as F


class BilinearResize(torch.nn.Module):
    def forward(self, x: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
        # The kernel F.interpolate(mode="bilinear", align_corners=False) dispatches to, called
        # directly so the scripted graph is one op (no mode branching to compile at load).
        # In float64: float32 ATen kernels differ between PyTorch releases (1.13 computes source
        # indices in double, 2.x in float), in float64 every release computes the same weights, so
        # the rounded result does not depend on the libtorch build or device.
        out = torch.ops.aten.upsample_bilinear2d(x.double(), [int(size[0]), int(size[1])], False, None)
        return out.to(x.dtype)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join("src", "main", "resources", "io", "advspark", "model",
                                                  "bilinear_resize.pt"))
    args = ap.parse_args(argv)
    module = torch.jit.script(BilinearResize().eval())
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    x = torch.rand(2, 3, 29, 31, dtype=torch.float32)
    want = F.interpolate(x.double(), size=[13, 40], mode="bilinear", align_corners=False).float()
    got = module(x, torch.tensor([13, 40], dtype=torch.int64))
    assert torch.equal(want, got), "scripted resize differs from F.interpolate"
    module.save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
