"""The timing harness of the PyTorch comparison scripts: warm-up, the median of timed steps, one JSON record."""
import json, statistics, time


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
