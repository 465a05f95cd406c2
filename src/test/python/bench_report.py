#!/usr/bin/env python3
"""Turns the raw runs of jobs/bench into the markdown report (standard library only).

    python3 src/test/python/bench_report.py report --runs target/bench/STAMP/runs.tsv \\
        --root . --out bench-results/bench-STAMP.md --meta key=value ...

runs.tsv (tab-separated, one line per process run by jobs/bench): label, kind (ours | reference),
run number, process wall seconds, CPU seconds (user + sys, may be empty), 1-minute load before,
after, CPU seconds used by all other processes during the run (may be empty), log prefix (LOG.out / LOG.err, output folder LOG/), the shell-quoted command.

Work time per run: advspark's round summary ("time  S s (...)" on stdout); the reference's
totals.seconds_total in LOG/summary.json. The table shows the median per configuration.
"""

import argparse
import json
import os
import re
import statistics
import sys

CORES = os.cpu_count() or 1

OURS_TIME = re.compile(r"^\s*time\s+([0-9.]+) s \(")
OURS_IMAGES = re.compile(r"^\s*images\s+(\d+) attacked, (\d+) failed")
OURS_SUCCESS = re.compile(r"^\s*success\s+untargeted ([0-9.]+)%")
OURS_BATCH = re.compile(r"batch of (\d+) images \(\d+x\d+\) attacked in (\d+) ms")
OURS_LOAD = re.compile(r"ensemble of \d+ models loaded in (\d+) ms")


def parse_ours(log):
    run = dict(images=None, work=None, success=None, batch_s=0.0, batches=0, model_load_s=0.0)
    with open(log + ".out") as f:
        for line in f:
            if m := OURS_TIME.match(line):
                run["work"] = float(m.group(1))
            elif m := OURS_IMAGES.match(line):
                run["images"] = int(m.group(1))
                run["failed"] = int(m.group(2))
            elif m := OURS_SUCCESS.match(line):
                run["success"] = float(m.group(1)) / 100.0
    with open(log + ".err") as f:
        for line in f:
            if m := OURS_BATCH.search(line):
                run["batches"] += 1
                run["batch_s"] += int(m.group(2)) / 1000.0
            elif m := OURS_LOAD.search(line):
                run["model_load_s"] += int(m.group(1)) / 1000.0
    if run["work"] is None or run["images"] is None:
        raise ValueError(f"{log}.out has no round summary (time / images lines)")
    return run


def parse_reference(log):
    with open(os.path.join(log, "summary.json")) as f:
        s = json.load(f)
    t = s["totals"]
    return dict(images=int(t["images"]), work=float(t["seconds_total"]), success=float(t["untargeted_success_rate"]),
                attack_s=float(t["seconds_attack"]), threads=s["config"].get("threads"),
                batch_size=s["config"].get("batchSize"), failed=0)


def read_runs(path):
    runs = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            label, kind, rep, wall, cpu, l0, l1, others, log, cmd = line.split("\t", 9)
            r = parse_ours(log) if kind == "ours" else parse_reference(log)
            r.update(label=label, kind=kind, rep=int(rep), wall=float(wall), cpu=float(cpu) if cpu else None,
                     load_before=float(l0), load_after=float(l1), log=log, cmd=cmd,
                     others=float(others) if others else None)
            # Share of the machine's CPU capacity that other processes took while this run went on.
            r["others_share"] = r["others"] / (r["wall"] * CORES) if r["others"] is not None else None
            runs.append(r)
    return runs


def median(values):
    return statistics.median(values)


def fmt(v, digits=2):
    return "n/a" if v is None else f"{v:.{digits}f}"


def pct(v):
    return "n/a" if v is None else f"{100 * v:.0f}%"


def summarise(runs):
    """One row per configuration (in order of first appearance), medians over its runs."""
    labels = list(dict.fromkeys(r["label"] for r in runs))
    rows = []
    for label in labels:
        rs = [r for r in runs if r["label"] == label]
        images = rs[0]["images"]
        if any(r["images"] != images for r in rs):
            raise ValueError(f"{label}: runs attacked different numbers of images")
        work = median([r["work"] for r in rs])
        wall = median([r["wall"] for r in rs])
        rows.append(dict(label=label, kind=rs[0]["kind"], runs=len(rs), images=images, work=work, wall=wall,
                         work_per_image=work / images, wall_per_image=wall / images,
                         success=median([r["success"] for r in rs]),
                         others_share=max((r["others_share"] for r in rs if r["others_share"] is not None),
                                          default=None)))
    ref = next((r for r in rows if r["kind"] == "reference"), None)
    for r in rows:
        r["ratio_work"] = r["work_per_image"] / ref["work_per_image"] if ref else None
        r["ratio_wall"] = r["wall_per_image"] / ref["wall_per_image"] if ref else None
    return rows


def table(rows):
    out = [
        "| configuration | images | work s | work s/image | images/s | ratio ours/ref (work, time/image) "
        "| process wall s | wall s/image | ratio ours/ref (wall) | untargeted success | others' CPU (max) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['label']} | {r['images']} | {r['work']:.1f} | {r['work_per_image']:.3f} | "
            f"{r['images'] / r['work']:.2f} | {fmt(r['ratio_work'])} | {r['wall']:.1f} | "
            f"{r['wall_per_image']:.3f} | {fmt(r['ratio_wall'])} | {100 * r['success']:.1f}% | "
            f"{pct(r['others_share'])} |")
    return "\n".join(out)


def runs_table(runs, root):
    out = [
        "| configuration | run | images | work s | process wall s | CPU s | CPU/wall | others' CPU s (share) "
        "| load1 before | load1 after | inside batches s | log |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        if r["kind"] == "ours":
            inside = f"{r['batch_s']:.1f} ({r['batches']} batch(es), summed over tasks)"
        else:
            inside = f"{r['attack_s']:.1f} (attack only)"
        cpu_ratio = r["cpu"] / r["wall"] if r["cpu"] is not None and r["wall"] > 0 else None
        out.append(
            f"| {r['label']} | {r['rep']} | {r['images']} | {r['work']:.1f} | {r['wall']:.1f} | {fmt(r['cpu'], 1)} | "
            f"{fmt(cpu_ratio)} | {fmt(r['others'], 1)} ({pct(r['others_share'])}) | {r['load_before']:.2f} | {r['load_after']:.2f} | {inside} | "
            f"{os.path.relpath(r['log'], root)}.* |")
    return "\n".join(out)


EXPLAIN = """\
- **work s**: advspark: the round's own wall time (the `time` line of its summary: after JVM, Spark and
  libtorch start-up; includes model broadcast and load, reading and decoding PNGs, predictions, the
  attack, encoding and writing PNGs, writing the Parquet records and the summary query).
  reference: `totals.seconds_total` of summary.json (reading PNGs, predictions, attack, writing and
  re-reading PNGs; model load and Python start-up excluded).
- **process wall s**: the whole process as measured by jobs/bench, start-up included.
- **ratio ours/ref**: advspark's seconds per image divided by the reference's; < 1 means advspark is faster.
- **inside batches s** (per-run table): advspark: sum of the per-batch times it logs (clean and
  adversarial predictions, attack, quantising, PNG encode + write; not the PNG reads), summed over
  concurrent tasks; reference: `seconds_attack` (the attack loop only).
- **CPU/wall**: cores the process kept busy on average (2 = both cores of this machine).
- **others' CPU**: CPU time that every other process on the machine used while the run went on
  (from /proc/stat, minus the run's own CPU time), as a share of the machine's capacity over the
  run (table: the largest over a configuration's runs). Above ~10 % the run shared its cores and
  its time is inflated; the OpenMP reference is hit hardest (a preempted thread stalls every
  parallel region). Load averages are recorded too but lag by about a minute."""


def report(args):
    runs = read_runs(args.runs)
    if not runs:
        raise SystemExit("bench_report: no runs in " + args.runs)
    meta = dict(kv.split("=", 1) for kv in args.meta)
    rows = summarise(runs)
    tab = table(rows)
    commands = list(dict.fromkeys((r["label"], r["cmd"]) for r in runs))
    lines = [
        f"# advspark benchmark {meta.get('stamp', '')}",
        "",
        f"- round: {meta.get('round', '?')}",
        f"- machine: {meta.get('machine', '?')}",
        f"- load averages (1/5/15 min): start {meta.get('load_start', '?')}, end {meta.get('load_end', '?')}",
        f"- processes above 10% CPU at start: {meta.get('busy_start', '?').strip()}",
        f"- commit: {meta.get('commit', '?')}",
        f"- {meta.get('java', '?')}; torch {meta.get('torch', '?')}",
        f"- runs: {meta.get('repeat', '?')}; scratch outputs and logs: {meta.get('work', '?')}",
        "",
        "## Result",
        "",
        tab,
        "",
        EXPLAIN,
        "",
        "## Runs",
        "",
        runs_table(runs, args.root),
        "",
        "## Commands (run from the repository root)",
        "",
    ]
    for label, cmd in commands:
        lines += [f"{label}:", "", "```", cmd, "```", ""]
    text = "\n".join(lines)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print()
    print(tab)
    print()
    ref = next((r for r in rows if r["kind"] == "reference"), None)
    if ref:
        for r in rows:
            if r["kind"] == "ours":
                print(f"{r['label']}: {r['ratio_work']:.2f}x the reference's time per image "
                      f"(work), {r['ratio_wall']:.2f}x including start-up")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    rp = sub.add_parser("report")
    rp.add_argument("--runs", required=True)
    rp.add_argument("--root", default=".")
    rp.add_argument("--out", required=True)
    rp.add_argument("--meta", action="append", default=[], help="key=value shown in the report header")
    args = ap.parse_args(argv)
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
