#!/usr/bin/python3
"""Golden values for the VQ-VAE (Debian's python3-torch and python3-numpy).

Run:  /usr/bin/python3 tools/golden/make_vqvae_fixtures.py
Writes tests/fixtures/vqvae.json: PyTorch's state_dict names and shapes of the VQ-VAE of MODELS.md and its
parameter count; and three EMA codebook updates computed in NumPy (float64) from fixed encoder outputs, the
formulas of the VQ-VAE paper's appendix with Laplace smoothing, starting from N = 1, m = e (as the engine):
    n_k = #{i: code_i = k}, s_k = sum of those z_i
    N <- g N + (1 - g) n ;  m <- g m + (1 - g) s
    e_k = m_k / ((N_k + eps) / (sum N + K eps) * sum N)
"""
import json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import torch_vqvae

root = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")
m = torch_vqvae.VQVAE()
out = {
    "state": [[k, list(v.shape)] for k, v in m.state_dict().items()],
    "params": sum(p.numel() for p in m.parameters()),
}

rng = np.random.default_rng(20261125)
K, D, M, g, eps = 6, 3, 10, 0.99, 1e-5
e = rng.normal(size=(K, D)).round(4)
e0 = e.copy()
N = np.ones(K)
msum = e.copy()
steps = []
for t in range(3):
    z = (rng.normal(size=(M, D)) * 1.5).round(4)
    dist = ((z[:, None, :] - e[None, :, :]) ** 2).sum(2)
    codes = dist.argmin(1)
    n = np.bincount(codes, minlength=K).astype(float)
    s = np.zeros((K, D))
    np.add.at(s, codes, z)
    N = g * N + (1 - g) * n
    msum = g * msum + (1 - g) * s
    total = N.sum()
    e = msum / ((N + eps) / (total + K * eps) * total)[:, None]
    steps.append({"z": z.ravel().tolist(), "codes": codes.tolist(), "codebook": e.ravel().tolist(),
                  "cluster_size": N.tolist(), "embed_sum": msum.ravel().tolist()})
out["ema"] = {"k": K, "d": D, "m": M, "decay": g, "eps": eps, "codebook0": e0.ravel().tolist(), "steps": steps}

with open(os.path.join(root, "vqvae.json"), "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.join(root, "vqvae.json"), "params", out["params"])
