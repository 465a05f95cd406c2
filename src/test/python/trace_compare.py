#!/usr/bin/env python3
"""Compare two Chrome traces of libtorch's profiler (advspark's and PyTorch's) op by op.

Usage: trace_compare.py OURS.json THEIRS.json STEPS [--top N]. Prints a markdown table of the ops
with the largest self time: ms per step on each side and the difference. Self time is the
event's duration minus that of the events nested in it on the same thread.
"""
import argparse
import collections
import json


def self_times(path):
    with open(path) as f:
        d = json.load(f)
    events = d["traceEvents"] if isinstance(d, dict) else d
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            by_thread[e.get("tid")].append(e)
    out = collections.Counter()
    for es in by_thread.values():
        es.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []
        for e in es:
            ts, dur = float(e["ts"]), float(e["dur"])
            while stack and float(stack[-1]["ts"]) + float(stack[-1]["dur"]) <= ts:
                stack.pop()
            if stack:
                out[stack[-1]["name"]] -= dur
            out[e["name"]] += dur
            stack.append(e)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("steps", type=int)
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args(argv)
    ours, theirs = self_times(a.ours), self_times(a.theirs)
    names = sorted(set(ours) | set(theirs), key=lambda n: -max(ours[n], theirs[n]))[:a.top]
    per = lambda v: v / 1e3 / a.steps  # noqa: E731  (us -> ms per step)
    print("| op | advspark ms/step | reference ms/step | difference |")
    print("|---|---:|---:|---:|")
    for n in names:
        print(f"| `{n}` | {per(ours[n]):.2f} | {per(theirs[n]):.2f} | {per(ours[n] - theirs[n]):+.2f} |")
    to, tt = sum(ours.values()), sum(theirs.values())
    print(f"| **all ops** | **{per(to):.2f}** | **{per(tt):.2f}** | **{per(to - tt):+.2f}** |")


if __name__ == "__main__":
    main()
