"""Times the PyTorch reference (training/sctdiff) on the same step as bench_engine.cc:
preprocess + encode 3 new frames, decode a window of 6, with the same weights, frames, crops,
prior tokens and timesteps (a goldens directory). Prints one JSON line.

  /usr/bin/python3 bench/cpu/bench_reference.py <goldens dir> <threads> <steps> [warmup] [scan]

scan: the reference's selective-scan form, "sequential" (its CPU default) or "chunked"
(parallel within chunks; the faster one on the CPU is what the engine is compared with).
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))

from export import load_model  # noqa: E402
from sctdiff.preprocess import FORMAT_CHANNELS, preprocess  # noqa: E402


def main() -> int:
    goldens, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    warmup = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    scan = sys.argv[5] if len(sys.argv) > 5 else "chunked"
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    with open(os.path.join(goldens, "manifest.json")) as handle:
        manifest = json.load(handle)
    model = load_model(os.path.join(goldens, manifest["weights"])).eval()
    model.set_scan_mode(scan)
    cfg = model.cfg
    arrays = manifest["arrays"]

    def array(name, dtype):
        return np.fromfile(os.path.join(goldens, arrays[name]["file"]), dtype=dtype).reshape(arrays[name]["shape"])

    frames = []
    for f in manifest["frames"]:
        data = array(f["data"], np.uint8).reshape(f["height"], f["stride"])
        channels = FORMAT_CHANNELS[f["format"]]
        frames.append((data[:, :f["width"] * channels].reshape(f["height"], f["width"], channels), f["format"]))

    def crop_of(entry):
        frame, fmt = frames[entry["frame"]]
        c = entry["crop"]
        return preprocess(frame, fmt, c["x0"], c["y0"], c["side"], c["outputSize"], cfg.pixel.mean, cfg.pixel.std)

    entries = manifest["preprocess"]
    template0 = torch.from_numpy(crop_of(entries[0]))[None]
    template1 = torch.from_numpy(crop_of(entries[1]))[None]
    searches = entries[2:]
    clip = cfg.decoder.clip_len
    decode = manifest["decode"][0]
    tokens = array(decode["tokens"], np.int32)
    timesteps = array(decode["timesteps"], np.int32)

    slots = [model.encode(template0, template1, torch.from_numpy(crop_of(searches[s % len(searches)]))[None])[0]
             for s in range(2 * clip)]
    step_ms, encode_ms, decode_ms, cpu_ms = [], [], [], []
    ring = 0
    for i in range(warmup + steps):
        cpu_start = time.process_time()
        start = time.perf_counter()
        crops = torch.stack([torch.from_numpy(crop_of(searches[(ring + j) % len(searches)])) for j in range(3)])
        features = model.encode(template0.expand(3, -1, -1, -1), template1.expand(3, -1, -1, -1), crops)
        for j in range(3):
            slots[(ring + j) % (2 * clip)] = features[j]
        encoded = time.perf_counter()
        window = torch.stack([slots[(ring + 3 - clip + j + 2 * clip) % (2 * clip)] for j in range(clip)])
        out = model.decode(window, tokens, timesteps, 12345 + i)
        _ = out["tokens"].numpy(), out["scores"].numpy()
        done = time.perf_counter()
        cpu = (time.process_time() - cpu_start) * 1e3
        if i >= warmup:
            step_ms.append((done - start) * 1e3)
            encode_ms.append((encoded - start) * 1e3)
            decode_ms.append((done - encoded) * 1e3)
            cpu_ms.append(cpu)
        ring = (ring + 3) % (2 * clip)
    print(json.dumps({"engine": f"pytorch {torch.__version__} ({scan} scan)",
                      "config": cfg.name, "threads": threads,
                      "step_ms": step_ms, "encode_ms": encode_ms, "decode_ms": decode_ms,
                      "cpu_ms": cpu_ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
