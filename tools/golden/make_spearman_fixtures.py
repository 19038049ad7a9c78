#!/usr/bin/python3
"""Golden values for the router's rank statistics: scipy.stats.rankdata (average ties) and spearmanr.

Writes tests/fixtures/spearman.json. Run from the repository root: /usr/bin/python3 tools/golden/make_spearman_fixtures.py
"""
import json
import numpy as np
from scipy import stats

rng = np.random.default_rng(20261125)
cases = []
# continuous, correlated
a = rng.normal(size=200); b = a + rng.normal(scale=1.5, size=200)
cases.append(("correlated", a, b))
# heavy ties on both sides (rounded values), anti-correlated
a = np.round(rng.normal(size=150), 1); b = np.round(-a + rng.normal(scale=0.7, size=150), 0)
cases.append(("ties", a, b))
# monotone but non-linear: rho exactly 1
a = rng.uniform(0, 5, size=50); b = np.exp(a)
cases.append(("monotone", a, b))
out = []
for name, x, y in cases:
    out.append({
        "name": name, "a": x.tolist(), "b": y.tolist(),
        "ranks_a": stats.rankdata(x, method="average").tolist(),
        "spearman": float(stats.spearmanr(x, y).statistic),
    })
with open("tests/fixtures/spearman.json", "w") as f:
    json.dump({"tool": f"scipy {__import__('scipy').__version__}", "cases": out}, f)
print("wrote tests/fixtures/spearman.json")
