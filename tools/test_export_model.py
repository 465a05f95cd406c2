"""Unit test of tools/export_model.py (no network: randomly initialised weights only).

Run from the repository root:

    /usr/bin/python3 -m unittest tools/test_export_model.py

Exports a traced resnet18 (also measuring clean_top1 on the repository's demo set) and a scripted
mobilenet_v2 at a small input size, reloads them with torch.jit.load and checks output shape,
frozen parameters, input gradients and the model card (complete, parseable, size/sha256 right).
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_model  # noqa: E402

CARD_FIELDS = ["name", "file", "format", "dataset", "input_size", "mean", "std", "num_classes",
               "dataset_classes", "label_offset", "interpolation", "source", "licence", "training",
               "clean_top1", "clean_top1_split", "clean_top1_n", "architecture", "notes", "export",
               "size_bytes", "sha256"]
DEMO_DATA = os.path.join(HERE, "..", "demo", "data")


class ExportModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.mkdtemp(prefix="export_model_test_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def _export(self, extra):
        rc = export_model.main(["--source", "torchvision", "--weights", "random", "--out", self.tmp] + extra)
        self.assertEqual(rc, 0)

    def _check(self, name, size, classes, offset=0):
        with open(os.path.join(self.tmp, name + ".json")) as f:
            card = json.load(f)
        self.assertEqual(sorted(card), sorted(CARD_FIELDS))
        self.assertEqual(card["name"], name)
        self.assertEqual(card["file"], name + ".pt")
        self.assertEqual(card["format"], "torchscript")
        self.assertEqual(card["input_size"], [size, size])
        self.assertEqual(card["num_classes"], classes)
        self.assertEqual(card["label_offset"], offset)
        self.assertEqual(card["dataset_classes"], classes - offset)
        self.assertEqual(card["interpolation"], "bilinear")
        self.assertEqual(len(card["mean"]), 3)
        self.assertEqual(len(card["std"]), 3)

        path = os.path.join(self.tmp, card["file"])
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(card["size_bytes"], len(data))
        self.assertEqual(card["sha256"], hashlib.sha256(data).hexdigest())

        model = torch.jit.load(path)
        model.eval()
        self.assertTrue(all(not p.requires_grad for p in model.parameters()))
        x = torch.rand(3, 3, size, size, requires_grad=True)
        y = model(x)
        self.assertEqual(tuple(y.shape), (3, classes))
        (g,) = torch.autograd.grad(y[:, 0].sum(), x)
        self.assertTrue(torch.isfinite(g).all())
        return card

    def test_resnet18_traced(self):
        args = ["--arch", "resnet18", "--trace", "--input-size", "64", "--num-classes", "7", "--label-offset", "1",
                "--dataset", "demo-shapes", "--name", "r18"]
        has_demo = os.path.isfile(os.path.join(DEMO_DATA, "dev.csv"))
        if has_demo:
            args += ["--eval-dir", DEMO_DATA, "--label-base", "0"]
        self._export(args)
        card = self._check("r18", 64, 7, offset=1)
        self.assertIn("trace", card["export"])
        self.assertEqual(card["mean"], [0.485, 0.456, 0.406])
        if has_demo:
            self.assertEqual(card["clean_top1_split"], "data")
            self.assertEqual(card["clean_top1_n"], 48)
            self.assertTrue(0.0 <= card["clean_top1"] <= 1.0)

    def test_mobilenet_v2_scripted(self):
        self._export(["--arch", "mobilenet_v2", "--script", "--input-size", "96"])
        card = self._check("mobilenet_v2", 96, 1000)
        self.assertIn("script", card["export"])
        self.assertIsNone(card["clean_top1"])

    def test_timm_or_clear_error(self):
        try:
            import timm  # noqa: F401
        except ImportError:
            rc = export_model.main(["--source", "timm", "--arch", "resnet18", "--weights", "random",
                                    "--out", self.tmp])
            self.assertEqual(rc, 2)
        else:
            self.skipTest("timm is installed")


if __name__ == "__main__":
    unittest.main()
