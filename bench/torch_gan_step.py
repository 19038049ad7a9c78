#!/usr/bin/python3
"""The same GAN training step in PyTorch (MODELS.md's DCGAN, tools/golden/torch_gan.py), for comparison
with `bench -- train-step --model gan` on the same machine: a discriminator update on a real and a
detached fake batch, then a generator update with the non-saturating loss.

  /usr/bin/python3 bench/torch_gan_step.py [--batch 64] [--reps 15] [--device cpu|cuda] [--threads T] [--json FILE]
"""
import os, sys
import torch_timing
import torch, torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "golden"))
import torch_gan

a = torch_timing.options()

torch.manual_seed(0)
dev = torch.device(a.device)
g, d = torch_gan.generator().to(dev), torch_gan.discriminator().to(dev)
og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
x = torch.rand(a.batch, 1, 28, 28, device=dev) * 2 - 1
ones, zeros = torch.ones(a.batch, 1, device=dev), torch.zeros(a.batch, 1, device=dev)

def step():
    fake = g(torch.randn(a.batch, 100, device=dev))
    od.zero_grad()
    (F.binary_cross_entropy_with_logits(d(x), ones) + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)).backward()
    od.step()
    og.zero_grad()
    F.binary_cross_entropy_with_logits(d(fake), ones).backward()
    og.step()
    if dev.type == "cuda": torch.cuda.synchronize()

torch_timing.measure(step, a.reps, {"suite": "train-step", "name": "gan adam (pytorch)", "device": f"torch-{a.device}", "batch": a.batch,
                                    "torch": torch.__version__, "threads": torch.get_num_threads()}, a.json)
