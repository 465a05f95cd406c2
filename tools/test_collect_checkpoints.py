"""Unit test of tools/collect_checkpoints.py: collects a checkpoint group by fine-tuning the shared
CIFAR ResNet-20 (../shared/models/cifar10/src/) for a few SGD steps on a handful of the shared CIFAR
images, into a temporary folder (no weights are shipped).

    /usr/bin/python3 -m unittest tools/test_collect_checkpoints.py
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
import collect_checkpoints  # noqa: E402
import export_model  # noqa: E402
from test_export_model import CIFAR_SRC, SHARED, need_shared  # noqa: E402

CIFAR = os.path.join(SHARED, "data", "cifar10-300")
MODELS = os.path.join(SHARED, "models", "cifar10")


class CollectCheckpointsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.mkdtemp(prefix="collect_checkpoints_test_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_lgv_recipe_on_cifar_resnet20(self):
        need_shared(self)
        out = os.path.join(self.tmp, "lgv")
        # 16 images (rows 100..115, away from the images the Java tests attack), batches of 4: 4 SGD
        # steps per epoch, 2 checkpoints per epoch, 2 epochs -> 4 members.
        rc = collect_checkpoints.main(["--module", os.path.join(CIFAR_SRC, "cifar_archs.py"),
                                       "--constructor", "CifarResNet(20)",
                                       "--weights", os.path.join(CIFAR_SRC, "resnet20.pth"),
                                       "--base-card", os.path.join(MODELS, "resnet20.json"),
                                       "--data", CIFAR, "--offset", "100", "--limit", "16", "--batch-size", "4",
                                       "--epochs", "2", "--per-epoch", "2", "--out", out, "--name", "r20lgv"])
        self.assertEqual(rc, 0)
        with open(os.path.join(out, "group.json")) as f:
            group = json.load(f)
        self.assertEqual(group["format"], "advspark-checkpoint-group")
        self.assertEqual([m["file"] for m in group["members"]], [f"r20lgv_{i:03d}.pt" for i in range(4)])
        self.assertEqual(group["recipe"]["lr"], 0.05)
        self.assertEqual(group["recipe"]["images"], 16)
        self.assertEqual(len(group["recipe"]["losses"]), 8)
        with open(os.path.join(MODELS, "resnet20.json")) as f:
            base = json.load(f)
        x = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
        outs = []
        for m in group["members"]:
            with open(os.path.join(out, m["card"])) as f:
                card = json.load(f)
            for k in ("input_size", "mean", "std", "num_classes", "dataset_classes", "label_offset", "dataset"):
                self.assertEqual(card[k], base[k], k)
            self.assertEqual(card["sha256"], export_model.sha256_of(os.path.join(out, m["file"])))
            ts = torch.jit.load(os.path.join(out, m["file"]))
            ts.eval()
            with torch.no_grad():
                outs.append(ts(x))
        plain = torch.jit.load(os.path.join(MODELS, "resnet20.pt")).eval()
        with torch.no_grad():
            z0 = plain(x)
        # SGD moved the weights: every checkpoint differs from the start and from the others.
        for i, z in enumerate(outs):
            self.assertFalse(torch.equal(z, z0), f"member {i} equals the trained model")
            self.assertTrue(torch.isfinite(z).all())
            for j in range(i):
                self.assertFalse(torch.equal(z, outs[j]), f"members {j} and {i} are equal")

    def test_collector_in_own_loop_and_refusals(self):
        need_shared(self)
        sys.path.insert(0, CIFAR_SRC)
        try:
            import cifar_archs
        finally:
            sys.path.pop(0)
        model = cifar_archs.CifarResNet(20)
        model.load_state_dict(torch.load(os.path.join(CIFAR_SRC, "resnet20.pth")))
        out = os.path.join(self.tmp, "own")
        col = collect_checkpoints.Collector(out, "mine", os.path.join(CIFAR_SRC, "cifar_archs.py"), "CifarResNet(20)",
                                            os.path.join(MODELS, "resnet20.json"))
        with self.assertRaises(export_model.ExportError):
            col.finish()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
        for step in range(2):
            model.train()
            loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            card = col.add(model, note=f"step {step}")
            self.assertEqual(card["name"], f"mine_{step:03d}")
            self.assertTrue(model.training, "add() must leave the caller's model in its mode")
        path = col.finish(recipe={"lr": 0.05})
        with open(path) as f:
            self.assertEqual(len(json.load(f)["members"]), 2)
        with self.assertRaises(export_model.ExportError):
            collect_checkpoints.Collector(out, "again", os.path.join(CIFAR_SRC, "cifar_archs.py"), "CifarResNet(20)",
                                          os.path.join(MODELS, "resnet20.json"))


if __name__ == "__main__":
    unittest.main()
