#!/usr/bin/env python3
"""Golden values for the device noise model (issue #26): an independent NumPy density-matrix simulation.

Reads tests/fixtures/device-noise/device.json (our form) and ibm_properties.json (IBM's backend properties), and writes
tests/fixtures/device-noise/golden.json: for a few circuits, the measured distribution under each calibration, computed
with full 2^n x 2^n density matrices, Kraus operators for thermal relaxation, the n-qubit depolarising channel as a
Pauli twirl, Qiskit Aer's rule for sizing it (average gate fidelity of the relaxation from its Kraus operators), and
the per-qubit readout confusion as a Kronecker product. Nothing here shares code with the C# simulator.

Run with Debian's python3 (NumPy): /usr/bin/python3 tools/golden/make_device_noise_fixtures.py
"""
import json, math, os
import numpy as np

root = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "device-noise")

I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.diag([1, -1]).astype(complex)
H = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2)
def RX(a): return np.array([[math.cos(a/2), -1j*math.sin(a/2)], [-1j*math.sin(a/2), math.cos(a/2)]])
def RY(a): return np.array([[math.cos(a/2), -math.sin(a/2)], [math.sin(a/2), math.cos(a/2)]], dtype=complex)
def RZ(a): return np.diag([np.exp(-0.5j*a), np.exp(0.5j*a)])

def embed(ops, n):
    """ops: {wire: 2x2}; wire 0 is the most significant (leftmost) factor."""
    m = np.array([[1]], dtype=complex)
    for q in range(n): m = np.kron(m, ops.get(q, I2))
    return m

def two_qubit(kind, c, t, n):
    dim = 2**n; U = np.zeros((dim, dim), dtype=complex)
    for i in range(dim):
        bc = (i >> (n-1-c)) & 1; bt = (i >> (n-1-t)) & 1
        if kind == "cx": U[i ^ (1 << (n-1-t)) if bc else i, i] = 1
        else: U[i, i] = -1 if (bc and bt) else 1
    return U

def kraus_relax(t, t1, t2):
    g = 1 - math.exp(-t/t1) if math.isfinite(t1) else 0.0
    ad = [np.array([[1, 0], [0, math.sqrt(1-g)]], dtype=complex), np.array([[0, math.sqrt(g)], [0, 0]], dtype=complex)]
    # extra coherence factor e^{-t/T2} / e^{-t/(2 T1)} by phase damping: K0 = diag(1, sqrt(1-p)), K1 = diag(0, sqrt(p)), factor sqrt(1-p)
    coh = (math.exp(-t/t2) if math.isfinite(t2) else 1.0) / math.sqrt(1-g)
    p = 1 - coh**2
    pd = [np.diag([1, math.sqrt(1-p)]).astype(complex), np.diag([0, math.sqrt(max(p, 0))]).astype(complex)]
    return [b @ a for a in ad for b in pd]

def avg_gate_fidelity(kraus, d):
    return (sum(abs(np.trace(k))**2 for k in kraus) + d) / (d*(d+1))

def depol_param(error, relax_kraus, k):
    d = 2**k
    fr = avg_gate_fidelity(relax_kraus, d)
    if error <= 1 - fr: return 0.0
    lam = d*(error - (1-fr))/(d*fr - 1)
    return min(lam, 4**k/(4**k - 1))

def apply_kraus(rho, kraus_by_wire, n):
    """kraus_by_wire: {wire: [K...]} applied as a product channel."""
    for q, ks in kraus_by_wire.items():
        rho = sum(embed({q: K}, n) @ rho @ embed({q: K}, n).conj().T for K in ks)
    return rho

def depolarize(rho, wires, lam, n):
    paulis = [I2, X, Y, Z]
    k = len(wires); out = np.zeros_like(rho)
    import itertools
    for combo in itertools.product(paulis, repeat=k):
        P = embed(dict(zip(wires, combo)), n)
        out += P @ rho @ P.conj().T
    return (1-lam)*rho + lam*out/4**k

# ---- calibrations, read independently of the C# reader ----
def ours(path):
    j = json.load(open(path)); qubits = []
    for q in j["qubits"]:
        sym = q.get("readout_error", 0.0)
        qubits.append(dict(t1=q.get("t1_us", math.inf)*1e-6, t2=q.get("t2_us", math.inf)*1e-6,
                           p01=q.get("p0_given_1", sym), p10=q.get("p1_given_0", sym)))
    gates = [(g["gate"], tuple(g["qubits"]) if "qubits" in g else None, g.get("duration_ns", 0)*1e-9, g.get("error", 0)) for g in j["gates"]]
    return qubits, gates

def ibm(path):
    j = json.load(open(path)); unit = {"us": 1e-6, "ns": 1e-9, "ms": 1e-3, "s": 1, "": 1, "GHz": 1}
    qubits = []
    for props in j["qubits"]:
        p = {x["name"].lower(): x["value"]*unit[x["unit"]] for x in props}
        sym = p.get("readout_error", 0.0)
        qubits.append(dict(t1=p["t1"], t2=p["t2"], p01=p.get("prob_meas0_prep1", sym), p10=p.get("prob_meas1_prep0", sym)))
    gates = []
    for g in j["gates"]:
        p = {x["name"]: x["value"]*unit[x["unit"]] for x in g["parameters"]}
        gates.append((g["gate"], tuple(g["qubits"]), p.get("gate_length", 0), p.get("gate_error", 0)))
    return qubits, gates

def lookup(gates, name, wires):
    for g, on, t, e in gates:
        if g == name and on == wires: return t, e
    if len(wires) == 2:
        for g, on, t, e in gates:
            if g == name and on == wires[::-1]: return t, e
    for g, on, t, e in gates:
        if g == name and on is None: return t, e
    return None

def calibration(gates, kind, wires):
    # h: h or one sx; rx/ry: rx/ry or two sx; rz: rz or virtual; cx: cx/cnot/ecr; cz: cz or cx
    order = {"h": ["h", "sx"], "rx": ["rx", "sx2"], "ry": ["ry", "sx2"], "rz": ["rz"], "cx": ["cx", "cnot", "ecr"], "cz": ["cz", "cx", "cnot", "ecr"]}[kind]
    for name in order:
        r = lookup(gates, "sx" if name == "sx2" else name, wires)
        if r is not None:
            t, e = r
            return (2*t, 1-(1-e)**2) if name == "sx2" else (t, e)
    if kind == "rz": return (0.0, 0.0)
    raise KeyError((kind, wires))

def simulate(n, circuit, device, noisy=True):
    qubits, gates = device
    dim = 2**n; rho = np.zeros((dim, dim), dtype=complex); rho[0, 0] = 1
    for kind, w, w2, a in circuit:
        if kind in ("cx", "cz"):
            U = two_qubit(kind, w, w2, n); wires = (w, w2)
        else:
            U = embed({w: {"h": H, "rx": RX(a), "ry": RY(a), "rz": RZ(a)}[kind]}, n); wires = (w,)
        rho = U @ rho @ U.conj().T
        if not noisy: continue
        t, e = calibration(gates, kind, wires)
        relax = {q: kraus_relax(t, qubits[q]["t1"], qubits[q]["t2"]) for q in wires}
        rk = relax[wires[0]] if len(wires) == 1 else [np.kron(a, b) for a in relax[wires[0]] for b in relax[wires[1]]]
        lam = depol_param(e, rk, len(wires))
        rho = depolarize(rho, list(wires), lam, n)   # Aer: depolarising, then relaxation
        rho = apply_kraus(rho, relax, n)
    p = np.real(np.diag(rho)).copy()
    return p

def confuse(p, n, device):
    qubits, _ = device
    A = np.array([[1]])
    for q in range(n):
        e10, e01 = qubits[q]["p10"], qubits[q]["p01"]
        A = np.kron(A, np.array([[1-e10, e01], [e10, 1-e01]]))
    return A @ p

def template(n, layers, ent, inputs, weights):
    c = [("h", q, -1, 0.0) for q in range(n)] + [("ry", q, -1, inputs[q]) for q in range(n)]
    pairs = [(q, q+1) for q in range(n-1)] + ([(n-1, 0)] if ent == "circular" and n > 2 else [])
    for l in range(layers):
        for q in range(n):
            c += [("ry", q, -1, weights[(l*n+q)*2]), ("rz", q, -1, weights[(l*n+q)*2+1])]
        c += [("cx", a, b, 0.0) for a, b in pairs]
    return c

rng = np.random.default_rng(26)
f32 = lambda x: float(np.float32(x))
cases = []
dev = ours(os.path.join(root, "device.json"))
custom = [("h", 0, -1, 0.0), ("ry", 1, -1, f32(0.7)), ("rx", 2, -1, f32(1.3)), ("cx", 0, 1, 0.0), ("rz", 1, -1, f32(-0.4)),
          ("cx", 1, 2, 0.0), ("cz", 0, 2, 0.0), ("h", 2, -1, 0.0), ("cx", 2, 0, 0.0), ("ry", 0, -1, f32(2.1))]
cases.append(("custom-3q", "device.json", 3, custom))
w = [f32(x) for x in rng.uniform(0, 2*math.pi, 2*3*2)]
x = [f32(v) for v in rng.uniform(0, math.pi, 3)]
cases.append(("template-3q-circular", "device.json", 3, template(3, 2, "circular", x, w)))
w = [f32(v) for v in rng.uniform(0, 2*math.pi, 2*5*2)]
x = [f32(v) for v in rng.uniform(0, math.pi, 5)]
cases.append(("template-5q-linear-ibm", "ibm_properties.json", 5, template(5, 2, "linear", x, w)))

out = []
for name, file, n, circ in cases:
    device = ours(os.path.join(root, file)) if file == "device.json" else ibm(os.path.join(root, file))
    ideal = simulate(n, circ, device, noisy=False)
    noisy = confuse(simulate(n, circ, device), n, device)
    out.append(dict(name=name, device=file, qubits=n, gates=[[k, w1, w2, a] for k, w1, w2, a in circ],
                    ideal=ideal.tolist(), readout_only=confuse(ideal, n, device).tolist(), noisy=noisy.tolist()))
# Aer's depolarising parameter for a few (error, T1, T2, t) - the sizing rule alone.
lam = []
for e, t1, t2, t, k in [(1e-2, 85e-6, 60e-6, 420e-9, 2), (4e-4, 85e-6, 60e-6, 35.5e-9, 1), (1e-5, 40e-6, 25e-6, 300e-9, 1), (0.3, 50e-6, 50e-6, 1e-6, 2)]:
    r = kraus_relax(t, t1, t2)
    rk = r if k == 1 else [np.kron(a, b) for a in r for b in r]
    lam.append(dict(error=e, t1=t1, t2=t2, duration=t, qubits=k, relax_avg_fidelity=avg_gate_fidelity(rk, 2**k), lam=depol_param(e, rk, k)))
json.dump(dict(source="tools/golden/make_device_noise_fixtures.py (NumPy %s)" % np.__version__, cases=out, depolarizing=lam),
          open(os.path.join(root, "golden.json"), "w"), indent=1)
print("wrote", os.path.join(root, "golden.json"))
