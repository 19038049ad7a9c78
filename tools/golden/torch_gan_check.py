#!/usr/bin/python3
"""Loads a `train gan` checkpoint into PyTorch modules built from MODELS.md with strict=True and checks
that they generate the engine's images from the same latents (Debian's python3-torch; no safetensors
package needed: the reader of safetensors_fixture.py follows the format's specification).

  /usr/bin/python3 tools/golden/torch_gan_check.py RUN_DIR LATENTS.npy ENGINE_IMAGES.npy
  (ENGINE_IMAGES.npy from: qgen-engine sample --run RUN_DIR --latents LATENTS.npy --format npy --out ENGINE_IMAGES.npy)

Prints {"max_abs_diff": ...} and exits 1 if the images differ by more than 1e-5.
"""
import json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import torch_gan
from safetensors_fixture import read

run, latents, engine = sys.argv[1:4]
tensors, meta = read(os.path.join(run, "checkpoint.safetensors"))
cfg = json.load(open(os.path.join(run, "config.json")))
g = torch_gan.load_part(torch_gan.generator(cfg["latent"]), tensors, "generator.")
d = torch_gan.load_part(torch_gan.discriminator(), tensors, "discriminator.")
g.eval(); d.eval()
z = torch.from_numpy(np.load(latents))
with torch.no_grad():
    images = (g(z) + 1) / 2
    logits = d(images * 2 - 1)
ours = np.load(engine)
diff = float(np.abs(images.numpy() - ours).max())
print(json.dumps({"max_abs_diff": diff, "images": list(ours.shape), "discriminator_logits": logits.reshape(-1).tolist()}))
sys.exit(0 if diff < 1e-5 else 1)
