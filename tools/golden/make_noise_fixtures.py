#!/usr/bin/python3
"""Golden values for noisy circuits: NumPy/SciPy density matrices, written from QUANTUM.md with no engine code.

Each gate is the full 2^n x 2^n matrix (np.kron; rotations as scipy.linalg.expm(-i a P / 2)), each channel its Kraus
operators (Nielsen & Chuang 8.3) lifted to the full space, applied after every gate on each wire it touches
(depolarising, then amplitude damping, then dephasing), then symmetric readout bit flips per qubit.
Writes tests/fixtures/noise.json. Run from the repository root: /usr/bin/python3 tools/golden/make_noise_fixtures.py
"""
import json
import numpy as np
import scipy
from scipy.linalg import expm

I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.array([[1, 0], [0, -1]], dtype=complex)
H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
PAULI = {"RX": X, "RY": Y, "RZ": Z}


def lift(u, q, n):
    """u on wire q (wire 0 the most significant bit), identity elsewhere."""
    m = np.array([[1]], dtype=complex)
    for w in range(n):
        m = np.kron(m, u if w == q else I2)
    return m


def controlled(kind, c, t, n):
    dim = 2 ** n
    m = np.zeros((dim, dim), dtype=complex)
    for b in range(dim):
        cb = (b >> (n - 1 - c)) & 1
        tb = (b >> (n - 1 - t)) & 1
        if kind == "CNOT":
            m[b ^ (1 << (n - 1 - t)) if cb else b, b] = 1
        else:
            m[b, b] = -1 if cb and tb else 1
    return m


def kraus(noise):
    ops = []
    p = noise.get("depolarizing", 0)
    if p > 0:
        ops.append([np.sqrt(1 - p) * I2, np.sqrt(p / 3) * X, np.sqrt(p / 3) * Y, np.sqrt(p / 3) * Z])
    g = noise.get("damping", 0)
    if g > 0:
        ops.append([np.array([[1, 0], [0, np.sqrt(1 - g)]], dtype=complex), np.array([[0, np.sqrt(g)], [0, 0]], dtype=complex)])
    p = noise.get("dephasing", 0)
    if p > 0:
        ops.append([np.sqrt(1 - p) * I2, np.sqrt(p) * Z])
    return ops


def template(n, layers, entangler, encoding):
    gates = []
    if encoding == "angle":
        gates += [("H", q, None, None) for q in range(n)]
        gates += [("RY", q, None, ("input", q)) for q in range(n)]
    for l in range(layers):
        for q in range(n):
            gates.append(("RY", q, None, ("weight", (l * n + q) * 2)))
            gates.append(("RZ", q, None, ("weight", (l * n + q) * 2 + 1)))
        if entangler == "all":
            pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        else:
            pairs = [(q, q + 1) for q in range(n - 1)] + ([(n - 1, 0)] if entangler == "circular" and n > 2 else [])
        gates += [("CNOT", c, t, None) for c, t in pairs]
    return gates


def probabilities(n, gates, x, w, noise, encoding):
    dim = 2 ** n
    if encoding == "angle":
        rho = np.zeros((dim, dim), dtype=complex); rho[0, 0] = 1
    else:
        a = np.asarray(x, dtype=float); a = a / np.linalg.norm(a); rho = np.outer(a, a).astype(complex)
    channels = kraus(noise)
    for kind, q, t, src in gates:
        if kind in ("CNOT", "CZ"):
            u = controlled(kind, q, t, n); wires = [q, t]
        else:
            if kind == "H":
                g = H
            else:
                angle = x[src[1]] if src[0] == "input" else w[src[1]]
                g = expm(-1j * angle / 2 * PAULI[kind])
            u = lift(g, q, n); wires = [q]
        rho = u @ rho @ u.conj().T
        for wire in wires:
            for ops in channels:
                rho = sum(lift(k, wire, n) @ rho @ lift(k, wire, n).conj().T for k in ops)
    p = np.clip(np.real(np.diag(rho)), 0, None)
    e = noise.get("readout", 0)
    if e > 0:
        for q in range(n):
            flip = np.array([[1 - e, e], [e, 1 - e]])
            p = lift(flip.astype(complex), q, n).real @ p
    return p


rng = np.random.default_rng(20261130)
cases = []
for n, layers, ent, enc, spec, batch in [
    (3, 2, "circular", "angle", {"depolarizing": 0.05, "damping": 0.1, "dephasing": 0.07, "readout": 0.03}, 3),
    (4, 2, "all", "angle", {"depolarizing": 0.02}, 2),
    (4, 1, "linear", "angle", {"damping": 0.2, "dephasing": 0.1}, 2),
    (3, 1, "linear", "amplitude", {"dephasing": 0.3, "damping": 0.05}, 2),
]:
    gates = template(n, layers, ent, enc)
    inputs = 2 ** n if enc == "amplitude" else n
    x = rng.uniform(-2, 2, size=(batch, inputs)).astype(np.float32)
    w = rng.uniform(-3, 3, size=layers * n * 2).astype(np.float32)
    probs = [probabilities(n, gates, xb.astype(float), w.astype(float), spec, enc).tolist() for xb in x]
    cases.append({"qubits": n, "layers": layers, "entangler": ent, "encoding": enc, "noise": spec,
                  "inputs": x.reshape(-1).tolist(), "weights": w.tolist(), "batch": batch, "probs": probs})
with open("tests/fixtures/noise.json", "w") as f:
    json.dump({"tool": f"numpy {np.__version__}, scipy {scipy.__version__}", "cases": cases}, f)
print("wrote tests/fixtures/noise.json")
