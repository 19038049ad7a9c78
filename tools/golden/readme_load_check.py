"""Runs the README's own checkpoint-loading snippet (the python block after "<!-- loading snippet -->" in
README.md), verbatim, on an engine checkpoint: `path` is the checkpoint, `model` a PyTorch module of that model.

    readme_load_check.py README.md CHECKPOINT MODEL NAMES.json

MODEL gan (also qgan-control's and gan-uniform's sizes are not torch_gan's: those use NAMES.json), vqvae and prior
get the PyTorch modules of tools/golden (the architecture is checked too); every other model gets a module built
from NAMES.json (the engine's state_dict: {"parameters": {name: shape}, "buffers": {name: shape}}), so the check is
that the README's rule leaves exactly the state_dict the engine declares, under names PyTorch accepts.
Without the safetensors package, `safetensors.numpy.load_file` is served by safetensors_fixture.read.
Prints {"model", "module", "keys"} as JSON; exits non-zero when load_state_dict(strict=True) refuses."""
import json
import os
import re
import sys
import types

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_fixture  # noqa: E402


def snippet(readme):
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"<!-- loading snippet -->\s*```python\n(.*?)```", text, re.S)
    if not m:
        sys.exit(f"{readme}: no python block after '<!-- loading snippet -->'")
    return m.group(1)


def ensure_safetensors():
    try:
        import safetensors.numpy  # noqa: F401
    except ImportError:
        pkg, sub = types.ModuleType("safetensors"), types.ModuleType("safetensors.numpy")
        sub.load_file = lambda p: safetensors_fixture.read(p)[0]
        pkg.numpy = sub
        sys.modules["safetensors"], sys.modules["safetensors.numpy"] = pkg, sub


def generic(names):
    """A module holding exactly the given parameters and buffers, nested by their dotted names."""
    root = nn.Module()

    def owner(name):
        m = root
        for part in name.split(".")[:-1]:
            if not hasattr(m, part):
                m.add_module(part, nn.Module())
            m = getattr(m, part)
        return m, name.split(".")[-1]

    for name, shape in names["parameters"].items():
        m, leaf = owner(name)
        m.register_parameter(leaf, nn.Parameter(torch.zeros(shape)))
    for name, shape in names["buffers"].items():
        m, leaf = owner(name)
        m.register_buffer(leaf, torch.zeros(shape))
    return root


def main():
    readme, path, model_name, names_path = sys.argv[1:5]
    names = json.load(open(names_path))
    if model_name == "gan":
        import torch_gan
        model, kind = nn.ModuleDict({"generator": torch_gan.generator(), "discriminator": torch_gan.discriminator()}), "torch_gan"
    elif model_name == "vqvae":
        import torch_vqvae
        model, kind = torch_vqvae.VQVAE(), "torch_vqvae"
    elif model_name == "prior":
        import torch_prior
        model, kind = torch_prior.build(safetensors_fixture.read(path)[0]), "torch_prior"
    else:
        model, kind = generic(names), "generic"
    ensure_safetensors()
    scope = {"path": path, "model": model}
    exec(compile(snippet(readme), "README.md (loading snippet)", "exec"), scope)
    print(json.dumps({"model": model_name, "module": kind, "keys": len(model.state_dict())}))


if __name__ == "__main__":
    main()
