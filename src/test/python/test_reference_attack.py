"""Self-test of reference_attack.py.

Run from the repository root:

    /usr/bin/python3 -m unittest discover -s src/test/python -p 'test_*.py'

1. `dump` + `step`: the reference writes a per-step dump (2 CIFAR-10 images, resnet20), then checks
   it in `step` mode in a fresh process; a dump of the reference must agree with itself exactly
   (grad_rel_l2 == 0, next_x agreement 1.0, trajectory agreement 1.0).
2. `step` must notice a wrong gradient (a dump whose grad file is scaled by 1.1).
3. `e2e` smoke test on 2 CIFAR images with 2 steps: PNGs written inside the eps-ball, summary complete.

Needs /work/shared/models/cifar10/resnet20.pt and /work/shared/data/cifar10-300 (skipped otherwise).
Both processes use one thread so that the float reductions run in the same order.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "reference_attack.py")
MODEL = "/work/shared/models/cifar10/resnet20.pt"
DATA = "/work/shared/data/cifar10-300"
HAVE_SHARED = os.path.isfile(MODEL) and os.path.isfile(os.path.join(DATA, "dev.csv"))


def run(*args):
    res = subprocess.run([sys.executable, SCRIPT] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    if res.returncode != 0:
        raise AssertionError(f"reference_attack.py {' '.join(args)} failed:\n{res.stderr}")
    return res.stdout


@unittest.skipUnless(HAVE_SHARED, "shared CIFAR-10 model/data not available")
class ReferenceAttackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ref_attack_test_")
        cls.dump = os.path.join(cls.tmp, "dump")
        run("dump", "--data", DATA, "--label-base", "0", "--model", MODEL + ":1.0", "--eps", "8", "--steps", "4",
            "--limit", "2", "--threads", "1", "--out", cls.dump)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_dump_format(self):
        with open(os.path.join(self.dump, "meta.json")) as f:
            meta = json.load(f)
        self.assertEqual(meta["shape"], [2, 3, 32, 32])
        self.assertEqual(meta["steps"], 4)
        self.assertAlmostEqual(meta["stepSizePixels"], 2.0)
        n = 2 * 3 * 32 * 32
        for name in ["clean"] + [f"step_{t}_{k}" for t in range(4) for k in ("x", "m", "grad", "next_x", "next_m")]:
            self.assertEqual(os.path.getsize(os.path.join(self.dump, name + ".f32")), 4 * n, name)

    def test_step_self_parity(self):
        report = json.loads(run("step", "--dump", self.dump, "--threads", "1"))
        self.assertEqual(len(report["steps"]), 4)
        self.assertEqual(report["max_grad_rel_l2"], 0.0)
        self.assertEqual(report["min_next_x_agree"], 1.0)
        for s in report["steps"]:
            self.assertEqual(s["next_m_rel_l2"], 0.0)
            self.assertEqual(s["sign_flip_fraction"], 0.0)
            self.assertEqual(s["update_only_next_x_agree"], 1.0)
        traj = report["trajectory"]
        self.assertEqual(traj["trajectory_agree_1level"], 1.0)
        self.assertEqual(traj["trajectory_agree_1e6"], 1.0)
        self.assertEqual(traj["written_equal"], 1.0)
        with open(os.path.join(self.dump, "parity.json")) as f:
            self.assertEqual(json.load(f), report)

    def test_step_detects_wrong_gradient(self):
        bad = os.path.join(self.tmp, "bad")
        shutil.copytree(self.dump, bad)
        path = os.path.join(bad, "step_1_grad.f32")
        g = np.fromfile(path, dtype="<f4")
        (g * np.float32(1.1)).astype("<f4").tofile(path)
        report = json.loads(run("step", "--dump", bad, "--threads", "1"))
        self.assertAlmostEqual(report["steps"][1]["grad_rel_l2"], 0.1, places=4)
        self.assertEqual(report["steps"][0]["grad_rel_l2"], 0.0)
        # g / mean(|g|) is scale invariant: the update computed from the scaled gradient still matches.
        self.assertLess(report["steps"][1]["update_only_next_m_rel_l2"], 1e-6)

    def test_e2e_smoke(self):
        out = os.path.join(self.tmp, "e2e")
        run("e2e", "--data", DATA, "--label-base", "0", "--model", MODEL, "--eps", "8", "--steps", "2",
            "--limit", "2", "--batch-size", "2", "--threads", "1", "--out", out)
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        totals = summary["totals"]
        for key in ("images", "untargeted_success_rate", "targeted_success_rate", "mean_l2", "max_linf",
                    "seconds_total", "seconds_attack", "images_per_second"):
            self.assertIn(key, totals)
        self.assertEqual(totals["images"], 2)
        self.assertLessEqual(totals["max_linf"], 8.0)
        for row in summary["images"]:
            self.assertEqual(set(row), {"image_id", "true_label", "target_label", "clean_pred", "adv_pred",
                                        "untargeted_success", "targeted_success", "linf", "l2"})
            adv = np.asarray(Image.open(os.path.join(out, "images", row["image_id"])), dtype=np.int32)
            clean = np.asarray(Image.open(os.path.join(DATA, "images", row["image_id"])), dtype=np.int32)
            self.assertEqual(adv.shape, clean.shape)
            self.assertEqual(np.abs(adv - clean).max(), row["linf"])
            self.assertAlmostEqual(np.sqrt(((adv - clean) ** 2).sum()), row["l2"], places=6)


if __name__ == "__main__":
    unittest.main()
