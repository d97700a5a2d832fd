"""The PyTorch side of bench/gpu: training/sctdiff/model.py's B256 network at its best
(bf16 weights, torch.compile, the whole step captured in one CUDA graph), timed on the same
overlap-0.5 step as sctdiff_cuda_bench: 3 new search crops encoded, the decoder over the 6-frame
window, argmax + top-1 score of the coordinate tokens. Streams are a batch dimension (B clips
stepped together), the best case for PyTorch.

    python bench/gpu/pytorch_reference.py [--streams 1,4,16] [--steps 100] [--warmup 20]
                                          [--no-compile] [--no-graph]

Prints one JSON object per stream count. The inputs are float crops already on the GPU: the
engine's step also uploads uint8 frames and crops them, so the comparison favours PyTorch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))

from sctdiff.config import get_config  # noqa: E402
from sctdiff.model import build_model, decode_outputs  # noqa: E402


def make_step(model, cfg, batch: int, device: torch.device):
    """Static inputs and a step function over them (what a CUDA graph replays)."""
    e, d = cfg.encoder, cfg.decoder
    clip, fresh = d.clip_len, max(1, d.clip_len // 2)
    grid = e.search_size // e.patch
    g = torch.Generator(device="cpu").manual_seed(0)
    inputs = {
        "z0": torch.randn(batch * fresh, 3, e.template_size, e.template_size, generator=g),
        "z1": torch.randn(batch * fresh, 3, e.template_size, e.template_size, generator=g),
        "x": torch.randn(batch * fresh, 3, e.search_size, e.search_size, generator=g),
        "cached": torch.randn(batch, clip - fresh, grid, grid, e.dim, generator=g),
        "tokens": torch.randint(0, cfg.tokens.bins, (batch, clip, 4), generator=g),
        "timesteps": torch.full((batch, clip), cfg.diffusion.t_refine, dtype=torch.long),
        "noise": torch.randn(batch, clip, 4, d.dim, generator=g),
    }
    inputs = {k: v.to(device=device, dtype=torch.bfloat16 if v.is_floating_point() else v.dtype)
              for k, v in inputs.items()}

    def step():
        fresh_features = model.encoder(inputs["z0"], inputs["z1"], inputs["x"])
        fresh_features = fresh_features.reshape(batch, fresh, grid, grid, e.dim)
        features = torch.cat([inputs["cached"], fresh_features], dim=1)
        logits = model.decoder(features, inputs["tokens"], inputs["timesteps"], inputs["noise"])
        tokens, scores, _ = decode_outputs(logits.float())
        return tokens, scores

    return step


def time_ms(fn, steps: int, warmup: int):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2], times[int(0.9 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="b256")
    parser.add_argument("--streams", default="1,4,16")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--no-graph", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no CUDA device"}))
        sys.exit(77)
    device = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = True
    cfg = get_config(args.config)
    model = build_model(cfg, seed=0).to(device=device, dtype=torch.bfloat16).eval()
    model.set_scan_mode("chunked")
    if not args.no_compile:
        model.encoder = torch.compile(model.encoder)
        model.decoder = torch.compile(model.decoder)
    for streams in [int(s) for s in args.streams.split(",") if s]:
        step = make_step(model, cfg, streams, device)
        with torch.no_grad():
            compile_start = time.time()
            for _ in range(3):
                step()  # compiles (first stream count) and warms up
            torch.cuda.synchronize()
            compile_s = time.time() - compile_start
            fn = step
            if not args.no_graph:
                graph = torch.cuda.CUDAGraph()
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    step()
                torch.cuda.current_stream().wait_stream(side)
                with torch.cuda.graph(graph):
                    step()
                fn = graph.replay
            p50, p90 = time_ms(fn, args.steps, args.warmup)
        fresh = max(1, cfg.decoder.clip_len // 2)
        print(json.dumps({
            "side": "pytorch", "config": args.config, "streams": streams, "step_ms_p50": round(p50, 4),
            "step_ms_p90": round(p90, 4), "fps_total": round(streams * fresh * 1000.0 / p50, 1),
            "compile": not args.no_compile, "graph": not args.no_graph, "warmup_s": round(compile_s, 1),
            "torch": torch.__version__, "device": torch.cuda.get_device_name(0),
        }), flush=True)


if __name__ == "__main__":
    main()
