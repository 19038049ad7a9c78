#!/usr/bin/python3
"""Golden values for the GAN and the .npy format (Debian's python3-torch and python3-numpy).

Run:  /usr/bin/python3 tools/golden/make_gan_fixtures.py
Writes tests/fixtures/gan.json (PyTorch's state_dict names, shapes and parameter counts of the DCGAN of
MODELS.md; the GAN losses and their gradients on fixed logits, in float64) and tests/fixtures/npy/*.npy
(files written by numpy.save, read and re-written byte for byte by the engine's tests).
"""
import json, os, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import torch_gan

root = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")
torch.manual_seed(20261124)


def state(m):
    return [[k, list(v.shape)] for k, v in m.state_dict().items()]


g, d = torch_gan.generator(), torch_gan.discriminator()
out = {
    "generator_state": state(g), "discriminator_state": state(d),
    "generator_params": sum(p.numel() for p in g.parameters()),
    "discriminator_params": sum(p.numel() for p in d.parameters()),
}
real = torch.randn(6, 1, dtype=torch.float64) * 2
fake = torch.randn(6, 1, dtype=torch.float64) * 2
rl, fl = real.clone().requires_grad_(), fake.clone().requires_grad_()
d_loss = F.binary_cross_entropy_with_logits(rl, torch.ones_like(rl)) + F.binary_cross_entropy_with_logits(fl, torch.zeros_like(fl))
d_loss.backward()
fl2 = fake.clone().requires_grad_()
g_loss = F.binary_cross_entropy_with_logits(fl2, torch.ones_like(fl2))
g_loss.backward()
out["losses"] = {
    "real_logits": real.reshape(-1).tolist(), "fake_logits": fake.reshape(-1).tolist(),
    "d_loss": d_loss.item(), "g_loss": g_loss.item(),
    "d_loss_grad_real": rl.grad.reshape(-1).tolist(), "d_loss_grad_fake": fl.grad.reshape(-1).tolist(),
    "g_loss_grad_fake": fl2.grad.reshape(-1).tolist(),
}
with open(os.path.join(root, "gan.json"), "w") as f:
    json.dump(out, f, indent=1)

npy = os.path.join(root, "npy")
os.makedirs(npy, exist_ok=True)
np.save(os.path.join(npy, "latents_3x100_f4.npy"), ((np.arange(300) - 150) / 37).astype(np.float32).reshape(3, 100))
np.save(os.path.join(npy, "images_2x1x28x28_f4.npy"), (np.arange(2 * 784) / 1568).astype(np.float32).reshape(2, 1, 28, 28))
np.save(os.path.join(npy, "vector_5_f4.npy"), np.arange(5, dtype=np.float32))
np.save(os.path.join(npy, "latents_3x100_f8.npy"), np.zeros((3, 100), dtype=np.float64))
np.save(os.path.join(npy, "fortran_2x3_f4.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
print("wrote", os.path.join(root, "gan.json"), "and", npy)
