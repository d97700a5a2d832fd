"""One check for "is this an sct-diff model file", shared by every reader of exported models:
export.load_model, export.py --history and train.py --init-from refuse a foreign, damaged or
mis-versioned file the same way, naming the path and what is wrong."""
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export import export_state, history_stages, load_model  # noqa: E402
from sctdiff.config import get_config  # noqa: E402
from sctdiff.model import build_model  # noqa: E402
from sctdiff.model_file import FORMAT_VERSION, read_model_file  # noqa: E402
from sctdiff.safetensors_io import load_file, save_file  # noqa: E402
from sctdiff.train_loop import initial_weights  # noqa: E402


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "micro.safetensors"
    export_state(build_model(get_config("micro"), seed=3), str(path), dtype="F16",
                 training={"stages": [{"run": {"stage": 2}, "checkpoint_step": 7}]})
    return path


def rewritten(tmp_path, good_file, name, **metadata_changes):
    """A copy of the good file with its metadata changed (None deletes a key)."""
    tensors, metadata = load_file(str(good_file))
    for key, value in metadata_changes.items():
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    path = tmp_path / name
    save_file(tensors, str(path), metadata)
    return path


def readers(path):
    """Every tool that reads an exported model back, as a call on `path`."""
    return {
        "export.load_model": lambda: load_model(str(path)),
        "export.py --history": lambda: history_stages(str(path)),
        "train.py --init-from": lambda: initial_weights(path, get_config("micro")),
    }


def test_a_good_file_reads_back_with_its_config_and_record(good_file):
    tensors, metadata, config = read_model_file(str(good_file))
    assert config.to_dict() == get_config("micro").to_dict()
    assert all(t.dtype == torch.float16 for t in tensors.values()) and metadata["format_version"] == FORMAT_VERSION
    assert history_stages(str(good_file)) == [{"run": {"stage": 2}, "checkpoint_step": 7}]
    weights, described = initial_weights(good_file, get_config("micro"))
    assert set(weights) == set(tensors) and "exported model" in described
    assert set(load_model(str(good_file)).state_dict()) == set(tensors)


@pytest.mark.parametrize("case, changes, message", [
    ("foreign", {"format": "other"}, "Expected an sct-diff model file"),
    ("no-format", {"format": None}, "Expected an sct-diff model file"),
    ("future-version", {"format_version": "99"}, "format version"),
    ("no-config", {"config": None}, "Expected a 'config' entry"),
    ("config-not-json", {"config": "{not json"}, "Expected a valid model config"),
    ("config-bad-sizes", {"config": "bad-sizes"}, "Expected a valid model config"),
])
def test_every_reader_refuses_a_bad_file_with_the_same_message(tmp_path, good_file, case, changes, message):
    if changes.get("config") == "bad-sizes":
        config = get_config("micro").to_dict()
        config["encoder"]["heads"] = config["encoder"]["dim"] + 1  # dim no longer divisible by heads
        changes = {"config": json.dumps(config)}
    path = rewritten(tmp_path, good_file, f"{case}.safetensors", **changes)
    for reader, call in readers(path).items():
        with pytest.raises(ValueError, match=message) as error:
            call()
        assert str(path) in str(error.value), reader


def test_every_reader_refuses_a_truncated_or_non_safetensors_file(tmp_path, good_file):
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good_file.read_bytes()[:1000])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a json header")
    for path in (truncated, garbage):
        for reader, call in readers(path).items():
            with pytest.raises(ValueError, match="could not be read") as error:
                call()
            assert str(path) in str(error.value), reader
