#!/usr/bin/python3
"""Loads a `train vqvae` checkpoint into the PyTorch VQ-VAE of torch_vqvae.py with strict=True and checks that it
gives the engine's codes, reconstructions and loss on the same images (Debian's python3-torch).

  /usr/bin/python3 tools/golden/torch_vqvae_check.py RUN_DIR IMAGES.npy ENGINE_CODES.npy ENGINE_RECON.npy ENGINE_LOSS

Prints a JSON line and exits 1 if a code differs, the reconstructions differ by more than 1e-4 or the loss by more than 1e-4 relative.
"""
import json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import torch_vqvae
from safetensors_fixture import read

run, images, codes_path, recon_path, engine_loss = sys.argv[1:6]
tensors, meta = read(os.path.join(run, "checkpoint.safetensors"))
cfg = json.load(open(os.path.join(run, "config.json")))
m = torch_vqvae.load(tensors, cfg["codebook_size"], cfg["code_dim"]).double()
x = torch.from_numpy(np.load(images)).double()
with torch.no_grad():
    logits, codes, bce, codebook, commitment, loss = m(x, cfg["commitment"], cfg["ema"])
ours_codes = np.load(codes_path)
ours_recon = np.load(recon_path)
same_codes = float((codes.numpy() == ours_codes).mean())
diff = float(np.abs(torch.sigmoid(logits).numpy() - ours_recon).max())
rel = abs(float(loss) - float(engine_loss)) / abs(float(loss))
print(json.dumps({"same_codes": same_codes, "max_abs_diff": diff, "loss": float(loss), "engine_loss": float(engine_loss), "loss_rel_diff": rel}))
sys.exit(0 if same_codes == 1.0 and diff < 1e-4 and rel < 1e-4 else 1)
