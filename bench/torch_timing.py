"""The harness of the PyTorch comparison scripts: their options, warm-up, the median of timed steps, one JSON record."""
import argparse, json, os, statistics, time


def options():
    """--batch, --reps, --device, --json, --threads; sets torch's intra-op threads (default: every core)."""
    import torch
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json")
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (default: every core)")
    a = p.parse_args()
    torch.set_num_threads(a.threads or os.cpu_count())
    return a


def measure(step, reps, record, path=None):
    for _ in range(3):
        step()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(ts)
    record.update({"median_ms": ms, "samples_per_s": record["batch"] / (ms / 1e3)})
    print(json.dumps(record))
    if path:
        json.dump([record], open(path, "w"), indent=1)
    return record
