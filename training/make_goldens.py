"""Write golden inputs/outputs of every network stage for the engines' parity tests.

  /usr/bin/python3 training/make_goldens.py --config micro --seed 0 --out test/fixtures/goldens
  /usr/bin/python3 training/make_goldens.py --seed 123 --out /tmp/live   # fresh tiny weights

The committed set (test/fixtures/goldens) uses the golden-sized "micro" config so the
fixture stays around 1.5 MB; the default config for live checks is "tiny". The manifest
format is documented in test/fixtures/goldens/README.md. Everything is computed on the CPU
in float32 with the sequential (definition) selective scan.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export import export_state  # noqa: E402
from sctdiff.config import CONFIGS, get_config  # noqa: E402
from sctdiff.model import BiMamba, SCTDiff, build_model, decode_outputs  # noqa: E402
from sctdiff.noise import MASK64, gaussian, splitmix64_int, trajectory_noise  # noqa: E402
from sctdiff.preprocess import FORMAT_CHANNELS, preprocess  # noqa: E402
from sctdiff.schedule import alphas_cumprod  # noqa: E402

MANIFEST_FORMAT = "sct-diff-goldens"
MANIFEST_VERSION = 1

# (width, height, format, extra stride bytes): sizes and layouts the engines must accept.
FRAME_LAYOUTS = [
    (96, 72, "rgb", 0),
    (101, 67, "bgr", 5),
    (80, 60, "rgba", 0),
    (77, 53, "gray", 3),
    (120, 90, "rgb", 0),
    (64, 48, "bgr", 0),
]


class GoldenWriter:
    """Collects arrays as raw little-endian .bin files plus their manifest entries."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.arrays: Dict[str, Dict[str, object]] = {}
        os.makedirs(out_dir, exist_ok=True)

    def add(self, name: str, array: np.ndarray) -> str:
        array = np.ascontiguousarray(array)
        dtype = {np.dtype(np.uint8): "uint8", np.dtype(np.float32): "float32", np.dtype(np.int32): "int32",
                 np.dtype(np.float64): "float64"}[array.dtype]
        file_name = f"{name}.bin"
        with open(os.path.join(self.out_dir, file_name), "wb") as handle:
            handle.write(array.astype(array.dtype.newbyteorder("<")).tobytes())
        self.arrays[name] = {"file": file_name, "dtype": dtype, "shape": list(array.shape)}
        return name


def frame_from_bytes(data: np.ndarray, width: int, height: int, fmt: str, stride: int) -> np.ndarray:
    """Rows of `stride` bytes -> uint8 [H, W, C] view (what an engine reads from a Frame)."""
    channels = FORMAT_CHANNELS[fmt]
    return data.reshape(height, stride)[:, :width * channels].reshape(height, width, channels)


def random_frame(rng: np.random.Generator, width: int, height: int, fmt: str, pad: int) -> np.ndarray:
    """Smooth image + noise (so bilinear weights matter), stored with `pad` bytes per row."""
    channels = FORMAT_CHANNELS[fmt]
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([(xx * 255 // max(width - 1, 1)), (yy * 255 // max(height - 1, 1)),
                     ((xx + yy) * 7) % 256, np.full_like(xx, 200)], axis=-1)[:, :, :channels]
    noisy = np.clip(base + rng.integers(-40, 41, size=base.shape), 0, 255).astype(np.uint8)
    stride = width * channels + pad
    data = rng.integers(0, 256, size=(height, stride), dtype=np.uint8)  # padding bytes are junk
    data[:, :width * channels] = noisy.reshape(height, width * channels)
    return data.reshape(-1)


def capture_intermediates(model: SCTDiff):
    """Forward hooks recording encoder block outputs, decoder block outputs and the decoder's
    block-0 BiMamba inputs/outputs (unit-level goldens for debugging an engine)."""
    store: Dict[str, torch.Tensor] = {}
    handles = []

    def record(*names: str):
        def hook(_module, inputs, output):
            values = {"out": output, **{f"in{i}": value for i, value in enumerate(inputs)}}
            values["in"] = inputs[0]
            for name in names:
                key, _, part = name.partition(":")
                value = values[part] if part in values else output[int(part)]
                store[key] = value.detach().clone()
            return None  # never replace the module's output
        return hook

    for index, block in enumerate(model.encoder.blocks):
        handles.append(block.register_forward_hook(record(f"encoder_block{index}:out")))
    first = model.decoder.blocks[0]
    for name in ("vis_mamba", "lang_mamba", "fuse_mamba"):
        handles.append(getattr(first, name).register_forward_hook(
            record(f"block0_{name}_in:in", f"block0_{name}_out:out")))
    handles.append(model.decoder.time_embed.register_forward_hook(record("time_embed:out")))
    handles.append(first.register_forward_hook(record("decoder_V0:in0", "decoder_S0:in1")))
    for index, block in enumerate(model.decoder.blocks):
        handles.append(block.register_forward_hook(
            record(f"decoder_block{index}_V:0", f"decoder_block{index}_S:1")))
    return store, handles


def min_top2_gap(logits: torch.Tensor) -> float:
    top2 = torch.topk(logits[..., 1:5, :], 2, dim=-1).values
    return float((top2[..., 0] - top2[..., 1]).min())


def make_goldens(config_name: str, seed: int, out_dir: str) -> dict:
    cfg = get_config(config_name)
    model = build_model(cfg, seed=seed).eval()
    model.set_scan_mode("sequential")
    writer = GoldenWriter(out_dir)
    rng = np.random.default_rng(seed)
    export_state(model, os.path.join(out_dir, "weights.safetensors"))
    pixel = cfg.pixel
    enc = cfg.encoder

    frames: List[dict] = []
    views: List[np.ndarray] = []
    for index, (width, height, fmt, pad) in enumerate(FRAME_LAYOUTS):
        data = random_frame(rng, width, height, fmt, pad)
        stride = width * FORMAT_CHANNELS[fmt] + pad
        frames.append({"data": writer.add(f"frame{index}", data), "width": width, "height": height,
                       "format": fmt, "stride": stride})
        views.append(frame_from_bytes(data, width, height, fmt, stride))

    def crop_for(index: int, factor_side: int, out_size: int, shift_x: int, shift_y: int) -> dict:
        width, height = FRAME_LAYOUTS[index][:2]
        return {"x0": int(width // 2 - factor_side // 2 + shift_x), "y0": int(height // 2 - factor_side // 2 + shift_y),
                "side": int(factor_side), "outputSize": int(out_size)}

    # Crops: inside the image, leaving it on each side, down-, up- and same-size resampling.
    template_crops = [crop_for(0, 30, enc.template_size, 0, 0),           # template 0, inside, upsample
                      crop_for(1, 70, enc.template_size, -25, 12)]        # template 1, leaves the image
    search_crops = [crop_for(0, 60, enc.search_size, 3, -2),
                    crop_for(1, 150, enc.search_size, 20, -30),           # downsample, leaves 3 sides
                    crop_for(2, 128, enc.search_size, -40, 0),            # same size, leaves left
                    crop_for(3, 95, enc.search_size, 0, 25),              # leaves bottom
                    crop_for(4, 57, enc.search_size, 70, -50),            # mostly outside, top-right
                    crop_for(5, 200, enc.search_size, 0, 0)]              # covers the whole image

    preprocessed: List[dict] = []

    def run_preprocess(frame_index: int, crop: dict) -> np.ndarray:
        out = preprocess(views[frame_index], FRAME_LAYOUTS[frame_index][2], crop["x0"], crop["y0"], crop["side"],
                         crop["outputSize"], pixel.mean, pixel.std)
        name = writer.add(f"crop{len(preprocessed)}", out)
        preprocessed.append({"frame": frame_index, "crop": crop, "output": name})
        return out

    template0 = run_preprocess(0, template_crops[0])
    template1 = run_preprocess(1, template_crops[1])
    searches = [run_preprocess(i, crop) for i, crop in enumerate(search_crops)]

    store, handles = capture_intermediates(model)
    encodes: List[dict] = []
    features = []
    with torch.no_grad():
        for index, search in enumerate(searches):
            feats = model.encode(torch.from_numpy(template0), torch.from_numpy(template1), torch.from_numpy(search))
            features.append(feats)
            entry = {"template0": 0, "template1": 1, "search": 2 + index,
                     "features": writer.add(f"features{index}", feats.numpy())}
            if index == 0:  # intermediate activations for debugging, first encode only
                entry["intermediates"] = {key: writer.add(f"enc0_{key}", store[key][0].numpy())
                                          for key in sorted(store) if key.startswith("encoder_block")}
            encodes.append(entry)
    store.clear()

    T = cfg.diffusion.T
    t_new, t_refine = cfg.diffusion.t_new, cfg.diffusion.t_refine
    coord_max = 2 * cfg.tokens.bins - 2
    decode_cases = [
        # full window: 3 re-estimated frames + 3 new ones (the sliding-window steady state)
        {"frames": [0, 1, 2, 3, 4, 5], "timesteps": [t_refine] * 3 + [t_new] * 3,
         "seed": int(rng.integers(0, 2 ** 63)) | (1 << 63), "intermediates": True},
        # first window of a video: a single new frame
        {"frames": [0], "timesteps": [t_new], "seed": 0, "intermediates": False},
        # arbitrary timesteps incl. t = 0 and T-1, a partial window
        {"frames": [2, 3, 5, 1], "timesteps": [0, 250, T - 1, 731], "seed": int(rng.integers(0, 2 ** 32)),
         "intermediates": False},
    ]
    decodes: List[dict] = []
    for case_index, case in enumerate(decode_cases):
        frame_count = len(case["frames"])
        feats = torch.stack([features[i] for i in case["frames"]])
        # Redraw the prior tokens (deterministically) until no argmax is a near tie, so that
        # "identical tokens" is a fair test for an engine with ~1e-6 round-off.
        for attempt in range(20):
            prior = rng.integers(0, coord_max + 1, size=(frame_count, 4)).astype(np.int32)
            if attempt > 0:  # frames at t = T-1 hardly see the prior: the noise must change too
                case["seed"] = int(rng.integers(0, 2 ** 63)) ^ (case["seed"] & (1 << 63))
            store.clear()
            with torch.no_grad():
                result = model.decode(feats, prior.astype(np.int64), case["timesteps"], case["seed"])
            if min_top2_gap(result["logits"]) > 1e-3:
                break
        prefix = f"decode{case_index}_"
        entry = {
            "features": case["frames"],  # indices into "encode"
            "tokens": writer.add(prefix + "prior_tokens", prior),
            "timesteps": writer.add(prefix + "timesteps", np.asarray(case["timesteps"], dtype=np.int32)),
            "seed": str(case["seed"] & MASK64),
            "noise": writer.add(prefix + "noise", result["noise"].numpy()),
            "logits": writer.add(prefix + "logits", result["logits"].numpy()),
            "out_tokens": writer.add(prefix + "out_tokens", result["tokens"].numpy().astype(np.int32)),
            "scores": writer.add(prefix + "scores", result["scores"].numpy()),
            "frame_scores": writer.add(prefix + "frame_scores", result["frame_scores"].numpy()),
            # Smallest gap between the best and second-best logit of any coordinate slot: when
            # it is below an engine's error, an argmax mismatch there is round-off, not a bug.
            "min_top2_gap": min_top2_gap(result["logits"]),
        }
        if case["intermediates"]:
            entry["intermediates"] = {key: writer.add(prefix + key, store[key][0].numpy())
                                      for key in sorted(store) if not key.startswith("encoder_block")}
        decodes.append(entry)
    for handle in handles:
        handle.remove()

    # Stand-alone checks of the noise generator and schedule.
    noise_seeds = [0, 1, 0xDEADBEEF, MASK64]
    splitmix_inputs = [0, 1, 2, 0x9E3779B97F4A7C15, MASK64]
    gaussian_indices = np.array([0, 1, 2, 3, 1000, 123456789], dtype=np.uint64)
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "generator": "training/make_goldens.py",
        "config_name": cfg.name,
        "seed": seed,
        "config": cfg.to_dict(),
        "weights": "weights.safetensors",
        "scan": "sequential",
        "frames": frames,
        "preprocess": preprocessed,
        "encode": encodes,
        "decode": decodes,
        "noise_checks": {
            "splitmix64": [[str(x), str(splitmix64_int(x))] for x in splitmix_inputs],
            "gaussian": [{"seed": str(s), "index": [int(i) for i in gaussian_indices],
                          "value": [float(v) for v in gaussian(s, gaussian_indices)]} for s in noise_seeds],
            "trajectory_noise": {"seed": "42", "frames": 2, "dim": 8,
                                 "array": writer.add("noise_check", trajectory_noise(42, 2, 8))},
        },
        "schedule": {"alphas_cumprod": writer.add("alphas_cumprod", alphas_cumprod(T, cfg.diffusion.s))},
        "arrays": writer.arrays,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)
        handle.write("\n")
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the inputs")
    parser.add_argument("--out", required=True, help="output directory")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    manifest = make_goldens(args.config, args.seed, args.out)
    total = sum(os.path.getsize(os.path.join(args.out, name)) for name in os.listdir(args.out))
    print(f"wrote {len(manifest['arrays'])} arrays + weights to {args.out} ({total / 1e6:.2f} MB, {args.config})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
