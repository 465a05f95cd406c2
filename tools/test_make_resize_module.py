"""Unit test of tools/make_resize_module.py and of the module the jar carries.

Run from the repository root:

    /usr/bin/python3 -m unittest tools/test_make_resize_module.py

The committed src/main/resources/io/advspark/model/bilinear_resize.pt must compute exactly what
the script generates today (float64 bilinear, align_corners=False, rounded to float32), forward
and input gradient, for down- and up-scaling and non-square sizes; and its scripted code must be
the script's (so nobody edits one without the other).
"""

import os
import sys
import tempfile
import unittest
import zipfile

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COMMITTED = os.path.join(ROOT, "src", "main", "resources", "io", "advspark", "model", "bilinear_resize.pt")
sys.path.insert(0, HERE)
import make_resize_module  # noqa: E402


def code_of(path):
    """The scripted forward's source, without the module path the class was scripted under."""
    with zipfile.ZipFile(path) as z:
        texts = [z.read(n).decode() for n in z.namelist() if "/code/" in n and n.endswith(".py")]
    self_ = [t for t in texts if "def forward" in t]
    body = self_[0][self_[0].index("def forward"):]
    return body.replace("__torch__.make_resize_module.", "__torch__.")


class MakeResizeModuleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.fresh = os.path.join(cls.tmp, "bilinear_resize.pt")
        make_resize_module.main(["--out", cls.fresh])

    def test_committed_module_is_the_scripts(self):
        self.assertEqual(code_of(COMMITTED), code_of(self.fresh))

    def test_matches_float64_interpolate_forward_and_gradient(self):
        m = torch.jit.load(COMMITTED)
        torch.manual_seed(0)
        for (h, w), (oh, ow) in [((299, 299), (128, 128)), ((299, 299), (224, 224)), ((32, 40), (71, 13))]:
            x = torch.rand(2, 3, h, w, requires_grad=True)
            v = torch.randn(2, 3, oh, ow)
            got = m(x, torch.tensor([oh, ow]))
            (g_got,) = torch.autograd.grad((got * v).sum(), x)
            want = F.interpolate(x.double(), size=[oh, ow], mode="bilinear", align_corners=False).float()
            (g_want,) = torch.autograd.grad((want * v).sum(), x)
            self.assertEqual(got.dtype, torch.float32)
            self.assertTrue(torch.equal(got, want), (h, w, oh, ow))
            self.assertTrue(torch.equal(g_got, g_want), (h, w, oh, ow))


if __name__ == "__main__":
    unittest.main()
