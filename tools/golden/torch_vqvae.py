"""The VQ-VAE of MODELS.md as PyTorch modules, named as the engine names its tensors, so that
load_state_dict(strict=True) takes an engine checkpoint (the training state, every "train.*" entry, dropped)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Quantizer(nn.Module):
    def __init__(self, k=512, d=64):
        super().__init__()
        self.embedding = nn.Embedding(k, d)

    def forward(self, z):                       # z (M, D) -> codes (M), e (M, D)
        dist = (z * z).sum(1, keepdim=True) - 2 * z @ self.embedding.weight.t() + (self.embedding.weight ** 2).sum(1)[None]
        codes = dist.argmin(1)
        return codes, self.embedding(codes)


class VQVAE(nn.Module):
    def __init__(self, k=512, d=64):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Conv2d(64, d, 3, 1, 1))
        self.quantizer = Quantizer(k, d)
        self.decoder = nn.Sequential(nn.Conv2d(d, 64, 3, 1, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(32, 1, 4, 2, 1))

    def forward(self, x, beta=0.25, ema=False):
        """(reconstruction logits, codes (N, 49), loss terms per image) with the straight-through estimator;
        with an EMA codebook the codebook term is not part of the loss (the EMA moves the codes)."""
        ze = self.encoder(x)
        n, d = ze.shape[:2]
        z = ze.reshape(n, d, 49).transpose(1, 2).reshape(n * 49, d)
        codes, e = self.quantizer(z)
        zq = z + (e - z).detach()
        logits = self.decoder(zq.reshape(n, 49, d).transpose(1, 2).reshape(n, d, 7, 7))
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        codebook = ((z.detach() - e) ** 2).sum() / n
        commitment = ((z - e.detach()) ** 2).sum() / n
        loss = bce + beta * commitment + (0 if ema else codebook)
        return logits, codes.reshape(n, 49), bce, codebook, commitment, loss


def load(tensors, k, d):
    m = VQVAE(k, d)
    sd = {name: torch.from_numpy(v.copy()) for name, v in tensors.items() if not name.startswith("train.")}
    m.load_state_dict(sd, strict=True)
    return m
