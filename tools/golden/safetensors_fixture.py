#!/usr/bin/python3
"""Interoperability of the engine's safetensors files with Python, without the safetensors package
(Debian has none): this writer and reader follow the format's specification byte for byte.

  /usr/bin/python3 tools/golden/safetensors_fixture.py write   # tests/fixtures/python_written.safetensors
  /usr/bin/python3 tools/golden/safetensors_fixture.py read F  # prints the tensors of a file the engine wrote
"""
import json, struct, sys, os
import numpy as np

def write(path, tensors, metadata):
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(info["shape"])
    return out, meta

if __name__ == "__main__":
    if sys.argv[1] == "write":
        out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "python_written.safetensors")
        write(out, {"layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
                    "layer.bias": np.array([-1.5, 2.25], dtype=np.float32),
                    "scalar": np.array(3.0, dtype=np.float32).reshape(())},
              {"written_by": "python"})
        print("wrote", os.path.normpath(out))
    else:
        tensors, meta = read(sys.argv[2])
        print("metadata:", json.dumps(meta, sort_keys=True))
        for k, v in tensors.items():
            print(k, list(v.shape), "sum=%.6f" % float(v.sum()), "first=%s" % (v.reshape(-1)[:3].tolist(),))
