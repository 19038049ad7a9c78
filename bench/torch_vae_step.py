#!/usr/bin/python3
"""The same VAE training step in PyTorch, for comparison with `bench -- train-step` on the same machine.

  /usr/bin/python3 bench/torch_vae_step.py [--batch 64] [--reps 15] [--device cpu|cuda] [--json FILE]
"""
import torch_timing
import torch, torch.nn as nn, torch.nn.functional as F

a = torch_timing.options()

class Vae(nn.Module):
    def __init__(self, latent=32):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
                                 nn.Conv2d(64, 128, 3, 1, 1), nn.ReLU(), nn.Flatten(), nn.Linear(6272, 256), nn.ReLU())
        self.fc_mu, self.fc_logvar = nn.Linear(256, latent), nn.Linear(256, latent)
        self.dec = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 6272), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
                                 nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(32, 1, 3, 1, 1))
    def loss(self, x):
        h = self.enc(x)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.dec(z)
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
        return bce + kl

torch.manual_seed(0)
dev = torch.device(a.device)
m = Vae().to(dev)
opt = torch.optim.Adam(m.parameters(), lr=1e-3)
x = torch.rand(a.batch, 1, 28, 28, device=dev)
def step():
    opt.zero_grad(); m.loss(x).backward(); opt.step()
    if dev.type == "cuda": torch.cuda.synchronize()
torch_timing.measure(step, a.reps, {"suite": "train-step", "name": "vae adam (pytorch)", "device": f"torch-{a.device}", "batch": a.batch,
                                    "torch": torch.__version__, "threads": torch.get_num_threads()}, a.json)
