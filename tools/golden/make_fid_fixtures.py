#!/usr/bin/python3
"""Fréchet distance and Inception-Score golden values from SciPy/NumPy (Debian's python3-scipy).

Run: /usr/bin/python3 tools/golden/make_fid_fixtures.py   (writes tests/fixtures/fid.json)
"""
import json, os
import numpy as np
from scipy import linalg

rng = np.random.default_rng(11)

def fid(f1, f2):
    m1, m2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))

cases = []
def add(name, f1, f2):
    f1 = f1.astype(np.float32); f2 = f2.astype(np.float32)
    cases.append({"name": name, "d": f1.shape[1], "n1": f1.shape[0], "n2": f2.shape[0],
                  "f1": f1.ravel().tolist(), "f2": f2.ravel().tolist(), "fid": fid(f1.astype(np.float64), f2.astype(np.float64))})

add("same_distribution", rng.standard_normal((400, 16)), rng.standard_normal((400, 16)))
add("shifted_scaled", rng.standard_normal((300, 12)), 1.5 * rng.standard_normal((300, 12)) + 0.7)
a = rng.standard_normal((200, 20)) @ rng.standard_normal((20, 20))
add("correlated", a, a[::-1] * 0.9 + 0.1 * rng.standard_normal((200, 20)))
low = rng.standard_normal((150, 3)) @ rng.standard_normal((3, 10))        # rank 3 in 10 dimensions: nearly singular
add("nearly_singular", low + 1e-4 * rng.standard_normal((150, 10)), rng.standard_normal((150, 10)))

logits = rng.standard_normal((100, 10)) * 3
p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
def inception(p, splits=10):
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0, keepdims=True)
        scores.append(np.exp((part * (np.log(part) - np.log(py))).sum(1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
m, s = inception(p.astype(np.float32).astype(np.float64))
path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "fid.json")
json.dump({"generator": "tools/golden/make_fid_fixtures.py", "cases": cases,
           "is": {"probs": p.astype(np.float32).ravel().tolist(), "n": 100, "classes": 10, "mean": m, "std": s}}, open(path, "w"))
print("wrote", [(c["name"], round(c["fid"], 5)) for c in cases], "IS", m, s)
