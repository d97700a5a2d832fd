"""The committed goldens are consistent and still what the reference computes."""
import json
import os

import numpy as np
import pytest

import make_goldens
from sctdiff.safetensors_io import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDENS = os.path.join(ROOT, "test", "fixtures", "goldens")
DTYPES = {"uint8": "u1", "int32": "<i4", "float32": "<f4", "float64": "<f8"}


def load_array(directory, manifest, name):
    info = manifest["arrays"][name]
    return np.fromfile(os.path.join(directory, info["file"]), dtype=DTYPES[info["dtype"]]).reshape(info["shape"])


@pytest.fixture(scope="module")
def committed():
    with open(os.path.join(GOLDENS, "manifest.json")) as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, committed):
    out = str(tmp_path_factory.mktemp("goldens"))
    manifest = make_goldens.make_goldens(committed["config_name"], committed["seed"], out)
    return out, manifest


def test_manifest_is_complete_and_small(committed):
    total = sum(os.path.getsize(os.path.join(GOLDENS, f)) for f in os.listdir(GOLDENS))
    assert total < 3.2e6
    for name, info in committed["arrays"].items():
        size = os.path.getsize(os.path.join(GOLDENS, info["file"]))
        assert size == int(np.prod(info["shape"])) * np.dtype(DTYPES[info["dtype"]]).itemsize, name
    formats = {frame["format"] for frame in committed["frames"]}
    assert formats == {"rgb", "bgr", "rgba", "gray"}
    assert any(frame["stride"] > frame["width"] * {"rgb": 3, "bgr": 3, "rgba": 4, "gray": 1}[frame["format"]]
               for frame in committed["frames"])
    leaves = [p for p in committed["preprocess"]
              if p["crop"]["x0"] < 0 or p["crop"]["y0"] < 0
              or p["crop"]["x0"] + p["crop"]["side"] > committed["frames"][p["frame"]]["width"]
              or p["crop"]["y0"] + p["crop"]["side"] > committed["frames"][p["frame"]]["height"]]
    assert len(leaves) >= 3
    assert len(committed["encode"]) >= 2
    assert len(committed["decode"][0]["features"]) == 6
    assert all(case["min_top2_gap"] > 1e-3 for case in committed["decode"])


def test_weights_file_matches_manifest_config(committed):
    tensors, metadata = load_file(os.path.join(GOLDENS, committed["weights"]))
    assert json.loads(metadata["config"]) == committed["config"]
    assert tensors["decoder.traj_embed.weight"].shape[1] == committed["config"]["decoder"]["dim"]


def test_regenerated_goldens_match_committed(committed, regenerated):
    out, manifest = regenerated
    assert manifest["arrays"].keys() == committed["arrays"].keys()
    exact = ("frame", "crop", "noise", "prior_tokens", "timesteps", "alphas_cumprod", "out_tokens")
    for name in committed["arrays"]:
        old = load_array(GOLDENS, committed, name)
        new = load_array(out, manifest, name)
        if name.startswith(exact) or "_noise" in name or "out_tokens" in name or "prior_tokens" in name:
            assert np.array_equal(old, new), name
        else:
            rel = np.linalg.norm((old - new).ravel()) / max(np.linalg.norm(old.ravel()), 1e-30)
            assert rel < 1e-5, (name, rel)
    assert [c["seed"] for c in manifest["decode"]] == [c["seed"] for c in committed["decode"]]


def test_golden_features_reproduce_from_golden_crops(committed):
    # Independent path: load the committed weights, run encode/decode on the committed inputs.
    import torch
    from export import load_model

    model = load_model(os.path.join(GOLDENS, committed["weights"])).eval()
    model.set_scan_mode("chunked")  # the fast form must agree with the sequential goldens
    crops = [torch.from_numpy(load_array(GOLDENS, committed, p["output"])) for p in committed["preprocess"]]
    features = []
    with torch.no_grad():
        for entry in committed["encode"]:
            got = model.encode(crops[entry["template0"]], crops[entry["template1"]], crops[entry["search"]])
            expected = load_array(GOLDENS, committed, entry["features"])
            assert np.linalg.norm(got.numpy() - expected) / np.linalg.norm(expected) < 1e-5
            features.append(torch.from_numpy(expected))
    for case in committed["decode"]:
        feats = torch.stack([features[i] for i in case["features"]])
        out = model.decode(feats, load_array(GOLDENS, committed, case["tokens"]).astype(np.int64),
                           load_array(GOLDENS, committed, case["timesteps"]), int(case["seed"]))
        logits = load_array(GOLDENS, committed, case["logits"])
        assert np.linalg.norm(out["logits"].numpy() - logits) / np.linalg.norm(logits) < 1e-5
        assert np.array_equal(out["tokens"].numpy(), load_array(GOLDENS, committed, case["out_tokens"]))
        np.testing.assert_allclose(out["scores"].numpy(), load_array(GOLDENS, committed, case["scores"]), rtol=1e-4)
