"""The study's DCGAN (MODELS.md) as PyTorch modules, named as the engine names them: a checkpoint's
generator.<i>.* and discriminator.<i>.* tensors load into these with load_state_dict(strict=True)."""
import torch.nn as nn


def generator(latent=100, w=32):
    return nn.Sequential(
        nn.Linear(latent, 4 * w * 49), nn.BatchNorm1d(4 * w * 49), nn.ReLU(), nn.Unflatten(1, (4 * w, 7, 7)),
        nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),
        nn.ConvTranspose2d(w, 1, 3, 1, 1), nn.Tanh())


def discriminator(w=32):
    return nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(4 * w * 16, 1))


def load_part(module, tensors, prefix):
    """Loads the tensors under prefix (e.g. 'generator.') into module with strict=True."""
    import torch
    sd = {k[len(prefix):]: torch.from_numpy(v.copy()) for k, v in tensors.items() if k.startswith(prefix)}
    module.load_state_dict(sd, strict=True)
    return module
