#!/usr/bin/python3
"""Keeps only a checkpoint's weights (drops optimizer.* tensors and the training metadata), for committing a model.

Usage: /usr/bin/python3 tools/strip_checkpoint.py RUN/checkpoint.safetensors OUT.safetensors KEY=VALUE...
The KEY=VALUE pairs become the file's metadata (command, test_accuracy, dataset), beside format 'qgen-engine checkpoint v1'.
"""
import json, struct, sys

src, dst, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = open(src, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
header.pop('__metadata__', None)
data = raw[8 + n:]
out, blob = {}, bytearray()
for k in sorted((k for k in header if not k.startswith('optimizer.') and not k.startswith('state.')), key=lambda k: header[k]['data_offsets'][0]):
    s, e = header[k]['data_offsets']
    out[k] = dict(header[k], data_offsets=[len(blob), len(blob) + e - s])
    blob += data[s:e]
out['__metadata__'] = {'format': 'qgen-engine checkpoint v1', **dict(p.split('=', 1) for p in pairs)}
h = json.dumps(out, separators=(',', ':')).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
open(dst, 'wb').write(struct.pack('<Q', len(h)) + h + bytes(blob))
print(f'{dst}: {len(out) - 1} tensors, {8 + len(h) + len(blob)} bytes')
