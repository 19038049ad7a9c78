"""The prior of `train prior` as PyTorch modules (a PixelCNN over the VQ-VAE's 7x7 code grid, with the VQ-VAE inside),
named as the engine names its tensors, so that load_state_dict(strict=True) takes a prior checkpoint
(the training state, every "train.*" entry, dropped). Sizes are read from the tensors."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch_vqvae


class MaskedConv2d(nn.Conv2d):
    """Sees the rows above and, on its own row, the columns to the left (and the centre for type B)."""
    def __init__(self, kind, cin, cout, k):
        super().__init__(cin, cout, k, 1, k // 2)
        c = k // 2
        mask = torch.ones(1, 1, k, k)
        mask[..., c, c + 1:] = 0
        mask[..., c + 1:, :] = 0
        if kind == "A":
            mask[..., c, c] = 0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, 1, self.padding)


def gate(t):
    a, b = t.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = MaskedConv2d("B", c, 2 * c, 3)
        self.out = nn.Conv2d(c, c, 1)

    def forward(self, h):
        return h + self.out(gate(self.conv(h)))


class PixelCNN(nn.Module):
    def __init__(self, k=512, c=64, blocks=6, first=5, head=256):
        super().__init__()
        self.embedding = nn.Embedding(k, c)
        self.input = MaskedConv2d("A", c, 2 * c, first)
        self.blocks = nn.Sequential(*[GatedBlock(c) for _ in range(blocks)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, head, 1), nn.ReLU(), nn.Conv2d(head, k, 1))

    def forward(self, codes):                   # codes (N, 7, 7) long -> logits (N, K, 7, 7)
        e = self.embedding(codes).permute(0, 3, 1, 2)
        return self.head(self.blocks(gate(self.input(e))))


class Prior(nn.Module):
    def __init__(self, k, d, c, blocks, first, head):
        super().__init__()
        self.vqvae = torch_vqvae.VQVAE(k, d)
        self.pixelcnn = PixelCNN(k, c, blocks, first, head)

    def bits_per_code(self, codes):
        return F.cross_entropy(self.pixelcnn(codes), codes) / math.log(2)

    def decode(self, codes):                    # (N, 7, 7) -> images in [0, 1]
        e = self.vqvae.quantizer.embedding(codes).permute(0, 3, 1, 2)
        return torch.sigmoid(self.vqvae.decoder(e))


def build(tensors):
    """A Prior sized from a checkpoint's tensors (not loaded)."""
    k, c = tensors["pixelcnn.embedding.weight"].shape
    d = tensors["vqvae.quantizer.embedding.weight"].shape[1]
    blocks = len([n for n in tensors if n.startswith("pixelcnn.blocks.") and n.endswith(".conv.weight")])
    first = tensors["pixelcnn.input.weight"].shape[-1]
    head = tensors["pixelcnn.head.1.weight"].shape[0]
    return Prior(k, d, c, blocks, first, head)


def load(tensors):
    m = build(tensors)
    sd = {name: torch.from_numpy(v.copy()) for name, v in tensors.items() if not name.startswith("train.")}
    m.load_state_dict(sd, strict=True)
    return m
