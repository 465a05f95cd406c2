#!/usr/bin/env python3
"""Replay budget-search policies on a finished round's fixed-budget PNGs, before paying for them.

A round with one fixed-eps attack per budget (`fixed-4`, `fixed-8`, ... as jobs/experiment-score-aware
writes them) holds every PNG a ladder search over those budgets could keep: an attempt at eps e is
the attack at e, with the same random streams (docs/score-aware.md). This tool predicts those PNGs
once on the target and validation models (PyTorch, PIL's JPEG), then scores ladder policies
(`attack.search` with `mode = "ladder"`: budget grid, validation variants, `met-top-k`, `margin`)
under the Tianchi 2019 score, on all images and on each half (even / odd rows), beside the fixed
budgets and the per-image oracle (the best budget for each image, known only with the targets).
A policy that wins on one half only is selection noise; it then reports a 2-fold cross-validation:
the best policy fitted on one half, scored on the other.

    /usr/bin/python3 tools/replay_budget_search.py --data ../shared/data/nips17-dev-300 --label-base 1 \\
        --images target/experiments/score-aware-nips17/images --budgets 4,8,12,16,24,32 \\
        --target ../shared/models/imagenet/mobilenet_v2_1.0_224.pt:none,jpeg:75 \\
        --validation ../shared/models/imagenet/mobilenet_v1_0.5_160.pt:none,jpeg:75,bits:4 --score-eps 32

Models are TorchScript files with their advspark cards (M.json beside M.pt). Defenses: none, jpeg:Q,
bits:B (as `jpeg(Q) > model`, `bits(B) > model`; PIL's JPEG coder, not advspark's, so a few images
may differ from a real round). The score of an image is the mean over the target variants of
2 (2 - d/eps) when the top-1 is another label (5 (2 - d/eps) for the target class), d the PNG's
L-inf in 0..255. Analysis only: nothing here is in advspark's run path.
"""
import argparse
import csv
import io
import itertools
import json
import os

import numpy as np

try:  # the walk and the scoring are testable without PyTorch
    import torch
    import torch.nn.functional as F
    from PIL import Image
except ImportError:  # pragma: no cover
    torch = None


def ladder(grid, met, margin):
    """Index into grid of the budget a ladder keeps: the smallest met, `margin` places above it
    (capped at the largest), or the largest when none is met; and the attempts it made (as
    advspark's ScoreAware.walk: every budget up to the smallest met, then the kept one)."""
    for j in range(len(grid)):
        if met(grid[j]):
            keep = min(j + margin, len(grid) - 1)
            return keep, j + 1 + (1 if keep > j else 0)
    return len(grid) - 1, len(grid)


def image_score(top1s, label, target, linf, eps):
    """Tianchi 2019 score of one PNG: mean over target variants (top-1 of each)."""
    s = 0.0
    for t in top1s:
        if t != label:
            s += (5.0 if t == target else 2.0) * (2.0 - linf / eps)
    return s / len(top1s)


class Model:
    def __init__(self, path):
        with open(os.path.splitext(path)[0] + ".json") as f:
            card = json.load(f)
        self.size = [int(v) for v in card["input_size"]]
        self.mean = torch.tensor(card["mean"], dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(card["std"], dtype=torch.float32).view(1, 3, 1, 1)
        self.offset, self.classes = int(card["label_offset"]), int(card["dataset_classes"])
        self.net = torch.jit.load(path, map_location="cpu").eval()
        self.name = os.path.splitext(os.path.basename(path))[0]

    def top5(self, arrays, batch=25):
        out = []
        for i in range(0, len(arrays), batch):
            x = torch.from_numpy(np.stack([a.transpose(2, 0, 1) for a in arrays[i:i + batch]])).float() / 255.0
            if list(x.shape[-2:]) != self.size:
                x = F.interpolate(x.double(), size=self.size, mode="bilinear", align_corners=False).float()
            with torch.no_grad():
                z = self.net((x - self.mean) / self.std)
            z = (z[0] if isinstance(z, tuple) else z)[:, self.offset:self.offset + self.classes]
            out.extend(z.topk(5, dim=1).indices.tolist())
        return out


def defend(a, spec):
    if spec == "none":
        return a
    name, arg = spec.split(":")
    if name == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="JPEG", quality=int(arg))
        buf.seek(0)
        return np.asarray(Image.open(buf).convert("RGB"), dtype=np.uint8)
    if name == "bits":
        levels = (1 << int(arg)) - 1
        q = np.round(a.astype(np.float64) / 255.0 * levels) / levels
        return np.clip(np.floor(q * 255.0 + 0.5), 0, 255).astype(np.uint8)
    raise SystemExit("unknown defense " + spec + " (none, jpeg:Q, bits:B)")


def model_arg(s):
    path, _, defs = s.partition(":")
    return path, (defs.split(",") if defs else ["none"])


def read_png(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="Tianchi-layout folder: dev.csv and images/")
    p.add_argument("--label-base", type=int, default=1)
    p.add_argument("--images", required=True, help="the round's images/ folder, holding fixed-<e>/")
    p.add_argument("--budgets", required=True, help="comma-separated, 0..255, as in the attack names")
    p.add_argument("--target", action="append", required=True, help="M.pt:none,jpeg:75 (repeatable)")
    p.add_argument("--validation", required=True, help="M.pt:none,jpeg:75,bits:4")
    p.add_argument("--score-eps", type=float, default=32)
    p.add_argument("--grids", help="semicolon-separated budget lists (default: every suffix of --budgets)")
    p.add_argument("--limit", type=int)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    budgets = [int(float(b)) for b in a.budgets.split(",")]
    with open(os.path.join(a.data, "dev.csv"), newline="") as f:
        rows = list(csv.DictReader(f))[:a.limit]
    labels = [int(r["TrueLabel"]) - a.label_base for r in rows]
    targets = [int(r["TargetClass"]) - a.label_base if r.get("TargetClass") else -1 for r in rows]
    clean = [read_png(os.path.join(a.data, "images", r["ImageId"])) for r in rows]
    tmodels = [(Model(path), defs) for path, defs in map(model_arg, a.target)]
    vpath, vdefs = model_arg(a.validation)
    vmodel = Model(vpath)
    top1, vtop5, linf = {}, {}, {}
    for e in budgets:
        adv = [read_png(os.path.join(a.images, "fixed-%d" % e, r["ImageId"])) for r in rows]
        linf[e] = [int(np.abs(x.astype(int) - c.astype(int)).max()) for x, c in zip(adv, clean)]
        top1[e] = list(zip(*[[t[0] for t in m.top5([defend(x, d) for x in adv])] for m, ds in tmodels for d in ds]))
        vtop5[e] = {d: vmodel.top5([defend(x, d) for x in adv]) for d in vdefs}
    n = len(rows)
    score = {e: [image_score(top1[e][i], labels[i], targets[i], linf[e][i], a.score_eps) for i in range(n)]
             for e in budgets}
    halves = [list(range(0, n, 2)), list(range(1, n, 2)), list(range(n))]
    mean = lambda xs: sum(xs) / len(xs)
    print("| policy | attempts / image | even rows | odd rows | all |")
    print("|---|---:|---:|---:|---:|")
    fixed_score = {e: [mean([score[e][i] for i in h]) for h in halves] for e in budgets}
    for e in budgets:
        print("| fixed-%d | 1 | %s |" % (e, " | ".join("%.4f" % v for v in fixed_score[e])))
    print("| oracle (knows the targets) | - | %s |" % " | ".join(
        "%.4f" % mean([max(score[e][i] for e in budgets) for i in h]) for h in halves))
    grids = ([[int(float(b)) for b in g.split(",")] for g in a.grids.split(";")] if a.grids
             else [budgets[j:] for j in range(len(budgets) - 1)])
    policies = []
    for g in grids:
        for k in range(1, len(vdefs) + 1):
            for vs in itertools.combinations(vdefs, k):
                for topk in (1, 3, 5):
                    for margin in (0, 1, 2):
                        if margin < len(g):
                            policies.append((tuple(g), vs, topk, margin))

    def run(pol, idx):
        g, vs, topk, margin = pol
        tot, att = 0.0, 0
        for i in idx:
            met = lambda e: all(labels[i] not in vtop5[e][d][i][:topk] for d in vs)
            j, attempts = ladder(list(g), met, margin)
            tot += score[g[j]][i]
            att += attempts
        return tot / len(idx), att / len(idx)

    # Each policy's score on the even rows, the odd rows and all, and its attempts: computed once.
    scored = {pol: [run(pol, h)[0] for h in halves] + [run(pol, halves[2])[1]] for pol in policies}
    for pol in sorted(policies, key=lambda q: -scored[q][2])[:20]:
        even, odd, s_all, att = scored[pol]
        print("| ladder %s val=%s top-%d margin %d | %.2f | %.4f | %.4f | %.4f |" % (
            list(pol[0]), "+".join(pol[1]), pol[2], pol[3], att, even, odd, s_all))
    for fit, test in ((0, 1), (1, 0)):
        pol = max(policies, key=lambda q: scored[q][fit])
        bf = max(budgets, key=lambda e: fixed_score[e][fit])
        print("cross-validation: fitted on the %s rows: ladder %s val=%s top-%d margin %d scores %.4f on the %s rows;"
              " the best fixed budget there (%d) %.4f" % (
                  ("even", "odd")[fit], list(pol[0]), "+".join(pol[1]), pol[2], pol[3], scored[pol][test],
                  ("even", "odd")[test], bf, fixed_score[bf][test]))

if __name__ == "__main__":
    main()
