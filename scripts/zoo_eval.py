#!/usr/bin/env python3
"""Analyses the stored `compare --json` outputs of scripts/zoo-eval (standard library only).

Prints Markdown: the verdict confusion table per relation kind for the calibration and check halves, the p-value
calibration of each method on independent pairs, per-method AUROC of the score, and a score threshold per method
chosen on the calibration half and checked on the check half.

The split: a pair belongs to the calibration half when the first byte of SHA-256("<a>|<b>", names sorted) is even.
"""
import hashlib
import json
import math
import os
import sys
from collections import defaultdict, OrderedDict

zoo, out = sys.argv[1], sys.argv[2]
pairs = json.load(open(os.path.join(zoo, "pairs.json")))
csu_path = os.path.join(zoo, "..", "reference", "independence-test-csu-zoo.json")
csu = {}
if os.path.exists(csu_path):
    for r in json.load(open(csu_path)):
        if r.get("p_value") is not None:
            csu[tuple(sorted((r["a"], r["b"])))] = r["p_value"]


def half(p):
    key = "|".join(sorted((p["a"], p["b"]))).encode()
    return "calibration" if hashlib.sha256(key).digest()[0] % 2 == 0 else "check"


rows = []
missing = 0
for p in pairs:
    f = os.path.join(out, "json", f"{p['a']}__{p['b']}.json")
    if not os.path.exists(f):
        missing += 1
        continue
    doc = json.load(open(f))
    if "comparisons" in doc:
        doc = doc["comparisons"][0]
    methods = {m["id"]: m for m in doc["methods"]}
    widths = [m.get("geometry", {}) or {} for m in doc["models"]]
    rows.append(dict(p=p, half=half(p), label=doc["verdict"]["label"], reason=doc["verdict"]["reason"],
                     methods=methods, doc=doc))


def hidden(doc, i):
    g = doc["models"][i].get("geometry") or {}
    for k in ("hidden_size", "hidden", "d_model", "residual_width"):
        if k in g:
            return g[k]
    return None


for r in rows:
    ha, hb = hidden(r["doc"], 0), hidden(r["doc"], 1)
    r["same_width"] = (ha is None or hb is None or ha == hb)

LABELS = ["derived", "independent", "inconclusive"]


def confusion(sub, title):
    print(f"\n#### {title} ({len(sub)} pairs)\n")
    print("| relation kind | pairs | derived | independent | inconclusive |")
    print("|---|---|---|---|---|")
    kinds = OrderedDict()
    for r in sorted(sub, key=lambda r: (not r["p"]["related"], r["p"]["kind"])):
        kinds.setdefault((r["p"]["related"], r["p"]["kind"]), []).append(r)
    for (rel, kind), rs in kinds.items():
        c = {l: sum(1 for r in rs if r["label"] == l) for l in LABELS}
        print(f"| {'related' if rel else 'unrelated'}: {kind} | {len(rs)} | {c['derived']} | {c['independent']} | {c['inconclusive']} |")
    for rel in (True, False):
        rs = [r for r in sub if r["p"]["related"] == rel]
        c = {l: sum(1 for r in rs if r["label"] == l) for l in LABELS}
        print(f"| **all {'related' if rel else 'unrelated'}** | {len(rs)} | {c['derived']} | {c['independent']} | {c['inconclusive']} |")
    rs = [r for r in sub if not r["p"]["related"] and r["same_width"]]
    c = sum(1 for r in rs if r["label"] == "independent")
    print(f"| unrelated, same residual width | {len(rs)} | {sum(1 for r in rs if r['label']=='derived')} | {c} ({100*c/max(1,len(rs)):.1f}%) | {sum(1 for r in rs if r['label']=='inconclusive')} |")


def auroc(pos, neg):
    if not pos or not neg:
        return float("nan")
    s = 0.0
    for x in pos:
        for y in neg:
            s += 1.0 if x > y else 0.5 if x == y else 0.0
    return s / (len(pos) * len(neg))


print(f"# Zoo evaluation ({len(rows)} of {len(pairs)} pairs evaluated{', %d missing' % missing if missing else ''})")
print("\nSplit: calibration half = pairs whose SHA-256(\"a|b\", names sorted) starts with an even byte; check half = the rest.")
print("\n## Verdicts")
for h in ("calibration", "check"):
    confusion([r for r in rows if r["half"] == h], f"{h} half")
confusion(rows, "both halves")

method_ids = []
for r in rows:
    for m in r["methods"]:
        if m not in method_ids:
            method_ids.append(m)

print("\n## p-value calibration on unrelated pairs (null: independent initialisations)\n")
print("Target per test: 2–8% of p-values below 0.05 and none below 1e-3.\n")
print("| method | unrelated pairs with a p-value | p < 0.05 | p < 1e-3 | smallest p | histogram of p (10 bins of 0.1) |")
print("|---|---|---|---|---|---|")
bars = " ▁▂▃▄▅▆▇█"
for mid in method_ids:
    ps = [r["methods"][mid]["p_value"] for r in rows if not r["p"]["related"] and mid in r["methods"]
          and r["methods"][mid].get("status") == "ok" and r["methods"][mid].get("p_value") is not None]
    if not ps:
        continue
    bins = [0] * 10
    for p in ps:
        bins[min(9, int(p * 10))] += 1
    mx = max(bins)
    hist = "".join(bars[round(8 * b / mx)] for b in bins) + " " + "/".join(str(b) for b in bins)
    lt05 = sum(1 for p in ps if p < 0.05)
    lt3 = sum(1 for p in ps if p < 1e-3)
    print(f"| {mid} | {len(ps)} | {lt05} ({100*lt05/len(ps):.1f}%) | {lt3} | {min(ps):.3g} | `{hist}` |")


# Unrelated pairs are not independent draws: a model and its format copies, fine-tunes and merges share one
# initialisation, so one unlucky draw between two initialisations repeats in every pair of their descendants. Group
# the unrelated pairs by the pair of root initialisations (from meta.json parents) and count each group once.
def roots(name, seen=None):
    meta = os.path.join(zoo, name, "meta.json")
    parents = json.load(open(meta)).get("parents") or [] if os.path.exists(meta) else []
    if not parents:
        return frozenset([name])
    return frozenset().union(*(roots(q) for q in parents))


groups = defaultdict(list)
for r in rows:
    if r["p"]["related"] or not r["same_width"]:
        continue
    ra, rb = roots(r["p"]["a"]), roots(r["p"]["b"])
    groups[tuple(sorted(("+".join(sorted(ra)), "+".join(sorted(rb)))))].append(r)
if groups:
    print("\n## Unrelated same-width pairs grouped by their two root initialisations\n")
    print("Each group is one draw of two independent initialisations, repeated through copies and descendants; the smallest")
    print("p-value per method within a group is shown.\n")
    print("| roots | pairs | independent | inconclusive | derived | smallest p per method |")
    print("|---|---|---|---|---|---|")
    all_indep = 0
    for key in sorted(groups):
        rs = groups[key]
        c = {lab: sum(1 for r in rs if r["label"] == lab) for lab in LABELS}
        if c["independent"] == len(rs):
            all_indep += 1
        mins = []
        for mid in method_ids:
            ps = [r["methods"][mid]["p_value"] for r in rs if mid in r["methods"] and r["methods"][mid].get("p_value") is not None]
            if ps:
                mins.append(f"{mid} {min(ps):.2g}")
        print(f"| {key[0]} × {key[1]} | {len(rs)} | {c['independent']} | {c['inconclusive']} | {c['derived']} | {', '.join(mins)} |")
    print(f"\n{all_indep} of {len(groups)} root pairs have every pair `independent`.")

print("\n## Scores: AUROC (related vs unrelated) and a threshold chosen on the calibration half\n")
print("Threshold: the score midpoint maximising balanced accuracy on the calibration half; accuracy is then checked on the check half.\n")
print("| method | pairs with a score | AUROC (all) | threshold (calibration) | balanced acc. calibration | balanced acc. check | max unrelated score | min related score |")
print("|---|---|---|---|---|---|---|---|")


def scores(sub, mid, rel):
    return [r["methods"][mid]["score"] for r in sub if r["p"]["related"] == rel and mid in r["methods"]
            and r["methods"][mid].get("status") == "ok" and isinstance(r["methods"][mid].get("score"), (int, float))]


def bal(sub, mid, t):
    pos, neg = scores(sub, mid, True), scores(sub, mid, False)
    if not pos or not neg:
        return float("nan")
    return 0.5 * (sum(1 for x in pos if x > t) / len(pos) + sum(1 for x in neg if x <= t) / len(neg))


cal = [r for r in rows if r["half"] == "calibration"]
chk = [r for r in rows if r["half"] == "check"]
for mid in method_ids:
    pos, neg = scores(rows, mid, True), scores(rows, mid, False)
    if not pos or not neg:
        continue
    vals = sorted(set(scores(cal, mid, True) + scores(cal, mid, False)))
    best, bt = -1, float("nan")
    for i in range(len(vals) - 1):
        t = 0.5 * (vals[i] + vals[i + 1])
        b = bal(cal, mid, t)
        if b > best:
            best, bt = b, t
    print(f"| {mid} | {len(pos)+len(neg)} | {auroc(pos, neg):.3f} | {bt:.4g} | {best:.3f} | {bal(chk, mid, bt):.3f} | {max(neg):.4g} | {min(pos):.4g} |")

if csu:
    print("\n## neuron-match against the published independence test (csu, p < 1e-3)\n")
    both = miss = 0
    missed = []
    for r in rows:
        k = tuple(sorted((r["p"]["a"], r["p"]["b"])))
        if k in csu and csu[k] < 1e-3:
            nm = r["methods"].get("neuron-match", {})
            p = nm.get("p_value")
            if p is not None and p < 1e-3:
                both += 1
            else:
                miss += 1
                missed.append(f"{k[0]} / {k[1]} (csu {csu[k]:.2g}, neuron-match {p})")
    print(f"csu rejects for {both + miss} evaluated pairs; neuron-match also rejects (p < 1e-3) for {both}, not for {miss}.")
    for m in missed[:20]:
        print(f"- {m}")

print("\n## Inconclusive and wrong verdicts (first 20)\n")
n = 0
for r in rows:
    wrong = (r["p"]["related"] and r["label"] != "derived") or (not r["p"]["related"] and r["label"] != "independent")
    if wrong and n < 20:
        n += 1
        print(f"- {r['p']['a']} / {r['p']['b']} ({'related' if r['p']['related'] else 'unrelated'}, {r['half']}): **{r['label']}** — {r['reason']}")

print("\n## Power: the weakest related effect\n")
print("Per related pair, the smallest p-value of the exact tests (null kind `exact_permutation`); the largest of those is the weakest derivation the tests still found. `VerdictRules.PowerNote` states the calibration half's figure.\n")
print("| half | related pairs | weakest pair | its smallest exact p |")
print("|---|---|---|---|")
for h in ("calibration", "check"):
    best = None
    n = 0
    for r in rows:
        if r["half"] != h or not r["p"]["related"]:
            continue
        ps = [m["p_value"] for m in r["methods"].values() if m.get("null_kind") == "exact_permutation" and m.get("status") == "ok" and m.get("p_value") is not None]
        if not ps:
            continue
        n += 1
        if best is None or min(ps) > best[0]:
            best = (min(ps), f"{r['p']['a']} / {r['p']['b']} ({r['p']['kind']})")
    if best:
        print(f"| {h} | {n} | {best[1]} | {best[0]:.3g} |")
