"""safetensors writer/reader and the export CLI."""
import json
import os
import struct
import subprocess
import sys

import pytest
import torch

from sctdiff.config import micro_config
from sctdiff.model import build_model
from sctdiff.safetensors_io import deserialize, load_file, serialize

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_header(blob):
    (n,) = struct.unpack("<Q", blob[:8])
    return n, json.loads(blob[8:8 + n])


def test_round_trip_is_bit_exact_for_every_dtype():
    g = torch.Generator().manual_seed(0)
    tensors = {
        "b.weight": torch.randn(3, 5, generator=g),
        "a.bias": torch.randn(7, generator=g).to(torch.float16),
        "c.bf": torch.randn(2, 2, 2, generator=g).to(torch.bfloat16),
        "d.nan": torch.tensor([float("nan"), float("inf"), -0.0, 1e-45]),
        "e.scalar": torch.tensor(3.5),
        "f.empty": torch.zeros(0, 4),
        "g.int": torch.tensor([1, -2, 3], dtype=torch.int32),
    }
    blob = serialize(tensors, {"k": "v"})
    back, metadata = deserialize(blob)
    assert metadata == {"k": "v"}
    assert set(back) == set(tensors)
    for name, tensor in tensors.items():
        assert back[name].dtype == tensor.dtype and back[name].shape == tensor.shape
        assert back[name].view(-1).view(torch.uint8).tolist() == tensor.reshape(-1).view(torch.uint8).tolist() \
            if tensor.numel() else back[name].numel() == 0


def test_header_is_aligned_sorted_space_padded_and_offsets_contiguous():
    blob = serialize({"zeta": torch.ones(3), "alpha": torch.zeros(2, 2), "mid": torch.ones(1)}, {"format": "x"})
    n, header = parse_header(blob)
    assert (8 + n) % 8 == 0
    raw = blob[8:8 + n].decode()
    assert raw == raw.rstrip(" ") + " " * (len(raw) - len(raw.rstrip(" ")))
    names = [k for k in header if k != "__metadata__"]
    assert names == sorted(names)
    offsets = [header[k]["data_offsets"] for k in names]
    assert offsets[0][0] == 0 and all(a[1] == b[0] for a, b in zip(offsets, offsets[1:]))
    assert offsets[-1][1] == len(blob) - 8 - n
    assert header["alpha"] == {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}


def test_reader_rejects_truncated_files():
    blob = serialize({"a": torch.ones(4)})
    with pytest.raises(ValueError, match="the file is truncated"):
        deserialize(blob[:-4])
    with pytest.raises(ValueError, match="Expected at least 8 bytes"):
        deserialize(blob[:5])


def with_header(header):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(16)


@pytest.mark.parametrize("header, message", [
    ([1, 2], "Expected a JSON object as the header"),
    ({"__metadata__": {"n": 1}}, "Expected __metadata__ to map strings to strings"),
    ({"a": {"dtype": "Q8", "shape": [4], "data_offsets": [0, 16]}}, "Expected a dtype in"),
    ({"a": "not a tensor entry"}, "Expected a dtype in"),
    ({"a": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, "Expected a shape of sizes"),
    ({"a": {"dtype": "F32", "shape": "4", "data_offsets": [0, 16]}}, "Expected a shape of sizes"),
    ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}}, "two ordered data offsets"),
    ({"a": {"dtype": "F32", "shape": [4]}}, "two ordered data offsets"),
    ({"a": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}, "the file is truncated"),
])
def test_reader_rejects_foreign_headers_with_a_value_error(header, message):
    with pytest.raises(ValueError, match=message):
        deserialize(with_header(header))


def test_metadata_values_must_be_strings():
    with pytest.raises(ValueError, match="Expected a string value for metadata key 'n'"):
        serialize({"a": torch.ones(1)}, {"n": 1})


def test_export_cli_random_init_and_checkpoint(tmp_path):
    out = tmp_path / "m.safetensors"
    subprocess.run([sys.executable, os.path.join(TRAINING, "export.py"), "--config", "micro", "--random-seed", "2",
                    "--out", str(out)], check=True, capture_output=True)
    tensors, metadata = load_file(str(out))
    assert metadata["format"] == "sct-diff" and metadata["format_version"] == "1"
    assert json.loads(metadata["config"])["name"] == "micro"
    reference = build_model(micro_config(), seed=2).state_dict()
    assert set(tensors) == set(reference)
    assert all(torch.equal(tensors[k], reference[k]) for k in reference)

    ckpt = tmp_path / "ckpt.pt"
    torch.save({"model": reference, "config": micro_config().to_dict()}, ckpt)
    out2 = tmp_path / "m2.safetensors"
    sys.path.insert(0, TRAINING)
    import export  # in-process: a second interpreter start costs seconds on a busy machine

    assert export.main(["--checkpoint", str(ckpt), "--out", str(out2), "--dtype", "BF16"]) == 0
    tensors2, _ = load_file(str(out2))
    assert all(tensors2[k].dtype == torch.bfloat16 for k in tensors2)
    assert torch.equal(tensors2["decoder.head_bias"].float(), reference["decoder.head_bias"].bfloat16().float())


def test_load_model_round_trip(tmp_path):
    sys.path.insert(0, TRAINING)
    from export import export_state, load_model

    model = build_model(micro_config(), seed=5)
    path = str(tmp_path / "w.safetensors")
    export_state(model, path)
    loaded = load_model(path)
    assert loaded.cfg == model.cfg
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())


def test_wrapper_prefixes_are_stripped():
    sys.path.insert(0, TRAINING)
    from export import strip_wrapper_prefixes

    assert strip_wrapper_prefixes("module._orig_mod.encoder.norm.weight") == "encoder.norm.weight"
    assert strip_wrapper_prefixes("_orig_mod.decoder.head_bias") == "decoder.head_bias"
    assert strip_wrapper_prefixes("decoder.blocks.0.vis_mamba.D") == "decoder.blocks.0.vis_mamba.D"
