#!/usr/bin/env python3
"""Renders a JMH JSON result file (-rf json) as the Markdown table used in RESULTS.md.

    python3 jmh/table.py results.json

One row per benchmark and parameter set: score ± error, unit, gc.alloc.rate.norm (B/op) and,
for the batch benchmarks, the items/s secondary result and the allocation per item.
"""
import json
import sys


def fmt(x):
    if x != x:  # NaN
        return "NaN"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def main(path):
    rows = json.load(open(path))
    print("| benchmark | params | score ± error | unit | items/s | gc.alloc.rate.norm B/op | B/item |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        name = r["benchmark"].rsplit(".", 2)
        bench = name[-2] + "." + name[-1]
        params = r.get("params", {})
        p = " ".join(f"{k}={v}" for k, v in params.items())
        m = r["primaryMetric"]
        sec = r.get("secondaryMetrics", {})
        items = sec.get("items")
        alloc = sec.get("gc.alloc.rate.norm")
        per_item = ""
        n = int(params.get("n", 0)) or (16 if "ProducerScaling" in bench else 0)
        if alloc and n:
            per_item = fmt(alloc["score"] / n)
        print(f"| {bench} | {p} | {fmt(m['score'])} ± {fmt(m['scoreError'])} | {m['scoreUnit']} | "
              f"{fmt(items['score']) if items else ''} | {fmt(alloc['score']) if alloc else ''} | {per_item} |")
    ratios(rows)


JUC = ["tpe", "tpe-barrier", "fjp", "fjp-barrier", "single"]


def ratios(rows):
    """The target ratios, computed within this one run."""
    qrf = {}
    flush = {}
    flushers = {}
    for r in rows:
        b = r["benchmark"]
        p = r.get("params", {})
        if b.endswith("QueueRunFlushBenchmark.batch"):
            items = r["secondaryMetrics"].get("items", r["primaryMetric"])["score"]
            qrf[(p["impl"], p["n"])] = items
        elif "FlushLatencyBenchmark" in b:
            flush[(b.rsplit(".", 1)[1], p.get("kind", ""))] = r["primaryMetric"]["score"]
        elif "ConcurrentFlushBenchmark" in b:
            flushers[(p.get("impl", ""), b.rsplit(".", 1)[1])] = r["primaryMetric"]["score"]
    if qrf:
        present = [j for j in JUC if any(impl == j for impl, _ in qrf)]
        print()
        print("| items/s ratio | n | " + " | ".join("vs " + j for j in present) + " |")
        print("|---|---|" + "---|" * len(present))
        for (impl, n), v in sorted(qrf.items(), key=lambda kv: (int(kv[0][1]), kv[0][0])):
            if impl.startswith("wq-"):
                cells = [f"{v / qrf[(j, n)]:.2f}x" if (j, n) in qrf else "" for j in present]
                print(f"| {impl} | {n} | " + " | ".join(cells) + " |")
    if flushers:
        print()
        print("| concurrent flushers | k1 us/flush | k2 | k4 | k4 / k1 |")
        print("|---|---|---|---|---|")
        for impl in sorted({i for i, _ in flushers}):
            k = [flushers.get((impl, f"k{x}")) for x in (1, 2, 4)]
            ratio = f"{k[2] / k[0]:.2f}" if k[0] and k[2] else ""
            print(f"| {impl} | " + " | ".join(fmt(x) if x else "" for x in k) + f" | {ratio} |")
    juc = flush.get(("jucBarrierFlushIdle", ""))
    if juc:
        print()
        print("| empty flush | ns | / j.u.c barrier flush |")
        print("|---|---|---|")
        for (m, kind), v in sorted(flush.items()):
            if m == "queueFlushIdle":
                print(f"| queue.flush() {kind} | {fmt(v)} | {v / juc:.4f} |")
        print(f"| j.u.c barrier flush (TPE 2) | {fmt(juc)} | 1 |")


if __name__ == "__main__":
    main(sys.argv[1])
