"""Unit test of tools/ghost_model.py (no network, no shared files: a randomly initialised traced
CIFAR ResNet-8 made here, and the repository's demo tiny_b).

Run from the repository root:

    /usr/bin/python3 -m unittest tools/test_ghost_model.py

Checks the contract advspark relies on: forward equals the traced source, dropout_shapes lists one
site per stage, forward_masked with all-ones masks is forward bit for bit (BatchNorm stays in eval
mode), masks act, input gradients flow through the masks, parameters are frozen, and the card is
the source card with the export fields updated.
"""

import json
import os
import shutil
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ghost_model  # noqa: E402


class GhostModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.mkdtemp(prefix="ghost_model_test_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def _traced_resnet8(self):
        torch.manual_seed(0)
        model = ghost_model.CifarResNet(1)
        # Non-trivial BatchNorm statistics, so train mode would be visibly different.
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        model.eval()
        src = os.path.join(self.tmp, "src")
        os.makedirs(src, exist_ok=True)
        with torch.no_grad():
            torch.jit.trace(model, torch.zeros(1, 3, 32, 32)).save(os.path.join(src, "r8.pt"))
        card = {"name": "r8", "file": "r8.pt", "format": "torchscript", "input_size": [32, 32],
                "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "num_classes": 10, "architecture": "ResNet-8",
                "notes": "", "clean_top1": 0.5}
        with open(os.path.join(src, "r8.json"), "w") as f:
            json.dump(card, f)
        return os.path.join(src, "r8.pt")

    def _contract(self, path, sites):
        m = torch.jit.load(path)
        m.eval()
        self.assertTrue(all(not p.requires_grad for p in m.parameters()))
        x = torch.rand(3, 3, 32 if "r8" in path else 48, 32 if "r8" in path else 48)
        shapes = m.dropout_shapes(x)
        self.assertEqual(len(shapes), sites)
        ones = [torch.ones([3] + s) for s in shapes]
        with torch.no_grad():
            self.assertTrue(torch.equal(m.forward_masked(x, ones), m(x)))
            half = [(torch.rand([3] + s) >= 0.5).float() * 2 for s in shapes]
            self.assertFalse(torch.equal(m.forward_masked(x, half), m(x)))
        xg = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(m.forward_masked(xg, half).sum(), xg)
        self.assertTrue(torch.isfinite(g).all() and g.abs().sum() > 0)
        with self.assertRaises(Exception):
            m.forward_masked(x, ones[:-1])  # one mask per site
        return m

    def test_cifar_resnet(self):
        src = self._traced_resnet8()
        out = os.path.join(self.tmp, "out")
        self.assertEqual(ghost_model.main(["--arch", "cifar-resnet", "--source", src, "--out", out]), 0)
        m = self._contract(os.path.join(out, "r8_ghost.pt"), 4)  # stem + 3 blocks
        x = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            self.assertTrue(torch.equal(m(x), torch.jit.load(src)(x)))
        with open(os.path.join(out, "r8_ghost.json")) as f:
            card = json.load(f)
        self.assertEqual(card["name"], "r8_ghost")
        self.assertEqual(card["file"], "r8_ghost.pt")
        self.assertEqual(card["clean_top1"], 0.5)
        self.assertEqual(card["dropout_sites"], [[16, 32, 32], [16, 32, 32], [32, 16, 16], [64, 8, 8]])
        self.assertIn("torch.jit.script", card["export"])
        self.assertEqual(card["size_bytes"], os.path.getsize(os.path.join(out, "r8_ghost.pt")))

    def test_demo_tiny_b(self):
        out = os.path.join(self.tmp, "demo")
        src = os.path.join(HERE, "..", "demo", "models", "tiny_b.pt")
        self.assertEqual(ghost_model.main(["--arch", "tiny-b", "--source", src, "--out", out, "--name", "g"]), 0)
        self._contract(os.path.join(out, "g.pt"), 4)

    def test_wrong_architecture_is_refused(self):
        src = os.path.join(HERE, "..", "demo", "models", "tiny_a.pt")
        self.assertEqual(ghost_model.main(["--arch", "cifar-resnet", "--source", src, "--out", self.tmp]), 2)


if __name__ == "__main__":
    unittest.main()
