#!/usr/bin/python3
"""Golden values from PyTorch for the engine's conventions (Debian's python3-torch).

Run:  /usr/bin/python3 tools/golden/make_fixtures.py   (writes tests/fixtures/torch_ops.json)
Every case stores its inputs, the cotangent g used for backward (L = sum(g * y)), the outputs and
the gradients, computed in float64, so the C# tests need no Python.
"""
import json, math, os
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(20261124)
D = torch.float64
cases = []

def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}

def rnd(*shape, lo=None, hi=None):
    if lo is None:
        return torch.randn(*shape, dtype=D)
    return lo + (hi - lo) * torch.rand(*shape, dtype=D)

def case(name, op, params, inputs, fn, grad_inputs):
    leaves = {k: v.clone().requires_grad_(k in grad_inputs) for k, v in inputs.items()}
    y = fn(**leaves)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    outputs = {"y": t(y)}
    for k in grad_inputs:
        outputs["d" + k] = t(leaves[k].grad)
    ins = {k: t(v) for k, v in inputs.items()}
    ins["g"] = t(g)
    cases.append({"name": name, "op": op, "params": params, "inputs": ins, "outputs": outputs})
    return leaves, y

# ---- convolutions
for name, xs, ws, s, p in [("conv2d_k3s2p1", (2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
                           ("conv2d_k4s2p1", (1, 2, 8, 8), (3, 2, 4, 4), 2, 1),
                           ("conv2d_k5s3p2", (2, 1, 11, 9), (2, 1, 5, 5), 3, 2)]:
    case(name, "conv2d", {"stride": s, "padding": p},
         {"x": rnd(*xs), "w": rnd(*ws), "b": rnd(ws[0])},
         lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p), ["x", "w", "b"])

for name, xs, ws, s, p, op_ in [("conv_transpose2d_k4s2p1", (2, 3, 4, 5), (3, 2, 4, 4), 2, 1, 0),
                                ("conv_transpose2d_k3s1p1", (2, 2, 5, 4), (2, 3, 3, 3), 1, 1, 0),
                                ("conv_transpose2d_k3s2p0_op1", (1, 2, 3, 4), (2, 2, 3, 3), 2, 0, 1)]:
    case(name, "conv_transpose2d", {"stride": s, "padding": p, "output_padding": op_},
         {"x": rnd(*xs), "w": rnd(*ws), "b": rnd(ws[1])},
         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op_), ["x", "w", "b"])

# ---- batch norm: training (with the running statistics after one step) and eval
for name, xs in [("batch_norm2d_train", (4, 3, 3, 5)), ("batch_norm1d_train", (6, 5))]:
    c = xs[1]
    x, gamma, beta = rnd(*xs), rnd(c, lo=0.5, hi=1.5), rnd(c)
    rm, rv = torch.zeros(c, dtype=D), torch.ones(c, dtype=D)
    case(name, "batch_norm_train", {"momentum": 0.1, "eps": 1e-5}, {"x": x, "gamma": gamma, "beta": beta},
         lambda x, gamma, beta: F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5),
         ["x", "gamma", "beta"])
    cases[-1]["outputs"]["running_mean"] = t(rm)
    cases[-1]["outputs"]["running_var"] = t(rv)

rm, rv = rnd(3), rnd(3, lo=0.5, hi=2.0)
case("batch_norm2d_eval", "batch_norm_eval", {"eps": 1e-5},
     {"x": rnd(2, 3, 4, 4), "gamma": rnd(3), "beta": rnd(3), "running_mean": rm, "running_var": rv},
     lambda x, gamma, beta, running_mean, running_var: F.batch_norm(x, running_mean, running_var, gamma, beta, training=False, eps=1e-5),
     ["x", "gamma", "beta"])

# ---- pooling
for name, xs, k, s, p in [("max_pool2d_k2s2", (2, 3, 6, 5), 2, 2, 0), ("max_pool2d_k3s2p1", (1, 2, 7, 7), 3, 2, 1)]:
    case(name, "max_pool2d", {"kernel": k, "stride": s, "padding": p}, {"x": rnd(*xs)},
         lambda x: F.max_pool2d(x, k, s, p), ["x"])

# ---- softmax and losses
case("softmax", "softmax", {"axis": -1}, {"x": rnd(4, 7)}, lambda x: F.softmax(x, -1), ["x"])
case("log_softmax", "log_softmax", {"axis": 1}, {"x": rnd(2, 5, 3)}, lambda x: F.log_softmax(x, 1), ["x"])
logits = 4 * rnd(3, 7)
target = rnd(3, 7, lo=0.0, hi=1.0)
case("bce_with_logits_mean", "bce_with_logits", {"reduction": "mean"}, {"x": logits, "t": target},
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="mean").reshape(1), ["x", "t"])
case("bce_with_logits_sum", "bce_with_logits", {"reduction": "sum"}, {"x": 20 * rnd(2, 9), "t": rnd(2, 9, lo=0.0, hi=1.0)},
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="sum").reshape(1), ["x"])
targets = [3, 0, 1, 3, 2]
case("cross_entropy", "cross_entropy", {"targets": targets}, {"x": rnd(5, 4)},
     lambda x: F.cross_entropy(x, torch.tensor(targets)).reshape(1), ["x"])
case("mse", "mse", {}, {"a": rnd(4, 3), "b": rnd(4, 3)}, lambda a, b: F.mse_loss(a, b).reshape(1), ["a", "b"])
case("gaussian_kl", "gaussian_kl", {}, {"mu": rnd(3, 4), "logvar": rnd(3, 4)},
     lambda mu, logvar: (-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / mu.shape[0]).reshape(1), ["mu", "logvar"])

# ---- optimisers: three steps from given gradients
def optim_case(name, make, params):
    p0 = rnd(5)
    grads = [rnd(5) for _ in range(3)]
    p = p0.clone().requires_grad_(True)
    opt = make([p])
    for g in grads:
        opt.zero_grad()
        p.grad = g.clone()
        opt.step()
    cases.append({"name": name, "op": "optimizer", "params": params,
                  "inputs": {"p": t(p0), "g1": t(grads[0]), "g2": t(grads[1]), "g3": t(grads[2])},
                  "outputs": {"p": t(p)}})

optim_case("adam", lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
           {"type": "adam", "lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1})
optim_case("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.5, 0.99), eps=1e-8, weight_decay=0.05),
           {"type": "adamw", "lr": 1e-2, "beta1": 0.5, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.05})
optim_case("sgd_momentum_nesterov", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
           {"type": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True})

# ---- gradient clipping by global norm
ga, gb = 3 * rnd(4), 3 * rnd(2, 3)
pa, pb = ga.clone().requires_grad_(True), gb.clone().requires_grad_(True)
pa.grad, pb.grad = ga.clone(), gb.clone()
norm = torch.nn.utils.clip_grad_norm_([pa, pb], 1.0)
cases.append({"name": "clip_grad_norm", "op": "clip_grad_norm", "params": {"max_norm": 1.0},
              "inputs": {"a": t(ga), "b": t(gb)},
              "outputs": {"a": t(pa.grad), "b": t(pb.grad), "norm": t(norm.reshape(1))}})

# ---- cosine annealing (PyTorch's closed form, per step)
base, tmax, eta_min = 1e-3, 10, 1e-5
opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=tmax, eta_min=eta_min)
lrs = []
for _ in range(tmax + 1):
    lrs.append(opt.param_groups[0]["lr"])
    opt.step(); sched.step()
cases.append({"name": "cosine_lr", "op": "cosine_lr", "params": {"base": base, "t_max": tmax, "eta_min": eta_min},
              "inputs": {}, "outputs": {"lr": {"shape": [len(lrs)], "data": lrs}}})

# ---- the VAE of MODELS.md as a PyTorch module with the engine's parameter names
class Vae(nn.Module):
    def __init__(self, latent=32):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
                                 nn.Conv2d(64, 128, 3, 1, 1), nn.ReLU(), nn.Flatten(), nn.Linear(6272, 256), nn.ReLU())
        self.fc_mu = nn.Linear(256, latent)
        self.fc_logvar = nn.Linear(256, latent)
        self.dec = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 6272), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
                                 nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(32, 1, 3, 1, 1))

vae = Vae()
state = [{"name": k, "shape": list(v.shape)} for k, v in vae.state_dict().items()]
vae_info = {"parameters": sum(p.numel() for p in vae.parameters()), "state_dict": state}

out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "torch_ops.json")
with open(out, "w") as f:
    json.dump({"generator": "tools/golden/make_fixtures.py", "torch": torch.__version__, "cases": cases, "vae": vae_info}, f)
print(f"wrote {len(cases)} cases to {os.path.normpath(out)} (torch {torch.__version__}); VAE parameters {vae_info['parameters']}")
