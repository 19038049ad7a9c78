#!/usr/bin/python3
"""Loads a `train prior` checkpoint into torch_prior.py's modules with strict=True and checks the engine's bits per
code on given code grids and its decoded images (Debian's python3-torch).

  /usr/bin/python3 tools/golden/torch_prior_check.py RUN_DIR CODES.npy ENGINE_BITS ENGINE_IMAGES.npy

CODES.npy: (N, 49) or (N, 7, 7) float32 codes. Exits 1 if the bits differ by more than 1e-5 relative or the images by more than 1e-4.
"""
import json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import torch_prior
from safetensors_fixture import read

run, codes_path, engine_bits, engine_images = sys.argv[1:5]
tensors, meta = read(os.path.join(run, "checkpoint.safetensors"))
m = torch_prior.load(tensors).double()
codes = torch.from_numpy(np.load(codes_path)).long().reshape(-1, 7, 7)
with torch.no_grad():
    bits = float(m.bits_per_code(codes))
    images = m.decode(codes).numpy()
ours = np.load(engine_images)
diff = float(np.abs(images - ours).max())
rel = abs(bits - float(engine_bits)) / bits
print(json.dumps({"bits_per_code": bits, "engine_bits_per_code": float(engine_bits), "rel_diff": rel, "max_abs_diff": diff}))
sys.exit(0 if rel < 1e-5 and diff < 1e-4 else 1)
