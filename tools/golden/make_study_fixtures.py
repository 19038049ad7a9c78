#!/usr/bin/python3
"""Golden values for a study's statistics and sample-quality metrics, from SciPy/NumPy (Debian's python3-scipy).

- Student's t: scipy.stats.t.cdf / t.ppf at whole and fractional degrees of freedom.
- Welch's t-test: scipy.stats.ttest_ind(equal_var=False) (t, p) and the Welch-Satterthwaite df and 95 % interval.
- 95 % confidence intervals of a mean: scipy.stats.t.interval.
- Holm's step-down adjustment of p-values (Holm 1979; R's p.adjust(method="holm")), written here with NumPy from its
  definition, and the four-test example worked by hand in the C# test.
- Precision, recall, density and coverage: the reference implementation's formulas (the `prdc` package of Naeem et al.
  2020, reproduced here with NumPy: Euclidean distances, k-th nearest other neighbour, strict inequalities).

Run: /usr/bin/python3 tools/golden/make_study_fixtures.py   (writes tests/fixtures/study.json)
"""
import json, os
import numpy as np
from scipy import stats

rng = np.random.default_rng(23)
out = {"t": [], "welch": [], "summaries": [], "prdc": [], "holm": []}

for df in [1, 2, 2.5, 3.7, 4, 10, 29.3, 200]:
    for t in [-6.0, -2.1, -0.3, 0.0, 0.8, 1.96, 4.5]:
        out["t"].append({"t": t, "df": df, "cdf": float(stats.t.cdf(t, df))})
    for p in [0.005, 0.025, 0.3, 0.9, 0.975, 0.999]:
        out["t"].append({"p": p, "df": df, "ppf": float(stats.t.ppf(p, df))})

def welch(a, b, name):
    a, b = np.asarray(a, float), np.asarray(b, float)
    r = stats.ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    diff = a.mean() - b.mean()
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    out["welch"].append({"name": name, "a": a.tolist(), "b": b.tolist(), "t": float(r.statistic), "p": float(r.pvalue),
                         "df": float(df), "difference": float(diff), "low": float(diff - half), "high": float(diff + half)})

welch([160.89, 101.06, 115.54], [64.87, 37.70, 88.0], "gan_vs_qgan_five_epochs")
welch([0.84, 0.83, 0.85], [0.82, 0.845, 0.80], "close_means")
welch(rng.normal(0, 1, 5), rng.normal(0.5, 3, 7), "unequal_sizes_and_variances")
welch([1.0, 2.0], [10.0, 14.0, 9.0, 12.0], "two_values")

for name, x in [("three", [160.89, 101.06, 115.54]), ("five", rng.normal(3, 2, 5).tolist()), ("two", [1.0, 4.0])]:
    x = np.asarray(x, float)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    out["summaries"].append({"name": name, "x": x.tolist(), "mean": float(x.mean()), "sd": float(x.std(ddof=1)), "low": float(lo), "high": float(hi)})

def prdc(real, fake, k):
    def pairwise(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    def kth(x):
        d = pairwise(x, x)
        return np.partition(d, k, axis=-1)[:, k]          # k+1-th smallest including itself (0) = k-th nearest other
    rr, fr = kth(real), kth(fake)
    d = pairwise(real, fake)
    precision = (d < rr[:, None]).any(axis=0).mean()
    recall = (d < fr[None, :]).any(axis=1).mean()
    density = (1.0 / k) * (d < rr[:, None]).sum(axis=0).mean()
    coverage = (d.min(axis=1) < rr).mean()
    return float(precision), float(recall), float(density), float(coverage)

def add_prdc(name, real, fake, k=5):
    real = real.astype(np.float32); fake = fake.astype(np.float32)
    p, r, d, c = prdc(real.astype(np.float64), fake.astype(np.float64), k)
    out["prdc"].append({"name": name, "k": k, "d": real.shape[1], "n_real": real.shape[0], "n_fake": fake.shape[0],
                        "real": real.ravel().tolist(), "fake": fake.ravel().tolist(),
                        "precision": p, "recall": r, "density": d, "coverage": c})

add_prdc("same_distribution", rng.standard_normal((300, 8)), rng.standard_normal((250, 8)))
add_prdc("fake_collapsed", rng.standard_normal((300, 8)), 0.2 * rng.standard_normal((200, 8)) + 0.5)   # high precision, low recall
add_prdc("fake_spread", rng.standard_normal((200, 6)), 2.5 * rng.standard_normal((220, 6)))              # low precision, high recall
add_prdc("k3", rng.standard_normal((150, 12)), rng.standard_normal((150, 12)) + 0.3, k=3)

def holm(name, p):
    p = np.asarray(p, float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    steps = np.minimum(1.0, (m - np.arange(m)) * p[order])      # (m - j) p_(j), j = 0 .. m-1
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(steps)               # never below an earlier (smaller) p's
    out["holm"].append({"name": name, "p": p.tolist(), "adjusted": adjusted.tolist()})

hrng = np.random.default_rng(1979)   # its own generator: the fixtures above stay as they were
holm("four", [0.01, 0.04, 0.03, 0.005])
holm("ties_and_one", [0.02, 0.02, 0.5, 1.0, 0.001])
holm("random_ten", hrng.uniform(0, 0.2, 10).tolist())
holm("large_capped", [0.3, 0.6, 0.45])

path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "study.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
