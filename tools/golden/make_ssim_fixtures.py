#!/usr/bin/python3
"""SSIM golden values from scikit-image (Debian's python3-skimage), as METRICS.md defines SSIM.

Run: /usr/bin/python3 tools/golden/make_ssim_fixtures.py   (writes tests/fixtures/ssim.json)
"""
import json, os
import numpy as np
from skimage.metrics import structural_similarity

rng = np.random.default_rng(7)
def digit_like():
    img = np.zeros((28, 28))
    for _ in range(3):
        y, x, l = rng.integers(6, 22), rng.integers(6, 22), rng.integers(3, 9)
        if rng.random() < 0.5: img[max(0, y - l):y + l, x] = 1.0
        else: img[y, max(0, x - l):x + l] = 1.0
    return img

pairs = []
a = digit_like()
pairs.append(("identical", a, a.copy()))
pairs.append(("noisy", a, np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)))
pairs.append(("blurred", a, (a + np.roll(a, 1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 0)) / 4))
pairs.append(("unrelated", digit_like(), digit_like()))
pairs.append(("uniform_noise", rng.random((28, 28)), rng.random((28, 28))))
pairs.append(("constant_vs_digit", np.full((28, 28), 0.5), a))
pairs.append(("larger_32x40", rng.random((32, 40)), rng.random((32, 40))))
out = []
for name, x, y in pairs:
    s = structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
    out.append({"name": name, "h": x.shape[0], "w": x.shape[1], "a": x.astype(np.float32).ravel().tolist(),
                "b": y.astype(np.float32).ravel().tolist(), "ssim": float(s)})
path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "ssim.json")
json.dump({"generator": "tools/golden/make_ssim_fixtures.py", "cases": out}, open(path, "w"))
print("wrote", len(out), "cases:", [(o["name"], round(o["ssim"], 4)) for o in out])
