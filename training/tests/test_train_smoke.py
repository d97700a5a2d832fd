"""CPU smoke test of training: the loss falls when overfitting one batch, checkpoints resume
bit-exactly, and a trained model exports to a safetensors file the engines can load."""
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export import export_state, load_model, model_from_checkpoint  # noqa: E402
from sctdiff.checkpoint import atomic_save, load_checkpoint, only_safe_types  # noqa: E402
from sctdiff.config import get_config  # noqa: E402
from sctdiff.data import SampleConfig, TrackingSamples  # noqa: E402
from sctdiff.datasets import SyntheticSource  # noqa: E402
from sctdiff.losses import LossWeights, TokenGrid  # noqa: E402
from sctdiff.model import build_model, coordinate_fourier_codes  # noqa: E402
from sctdiff.photos import PhotoLibrary  # noqa: E402
from sctdiff.safetensors_io import load_file, save_file  # noqa: E402
from sctdiff.train_loop import TrainConfig, Trainer, forward_loss, param_groups  # noqa: E402


def tiny_batch(mc, stage, size=4):
    lib = PhotoLibrary.load("train", max_side=200)
    ds = TrackingSamples([SyntheticSource(lib, seed=1)], None, mc, SampleConfig(stage=stage), seed=1)
    items = [ds[i * 5] for i in range(size)]
    return {k: torch.as_tensor(np.stack([it[k] for it in items])) for k in items[0]}


def test_twenty_steps_overfit_one_batch_and_export(tmp_path):
    torch.manual_seed(0)
    mc = get_config("micro")
    model = build_model(mc, seed=0)
    optimizer = torch.optim.AdamW(param_groups(model, 1e-4), lr=1e-2)
    batch = tiny_batch(mc, stage=1, size=4)
    grid, weights = TokenGrid.from_config(mc.tokens), LossWeights()
    losses = []
    for _ in range(20):
        generator = torch.Generator().manual_seed(7)  # same noise every step: a fixed target to overfit
        out = forward_loss(model, batch, mc, grid, weights, torch.device("cpu"), amp=False, generator=generator)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        losses.append(out["loss"].item())
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.3 * losses[0], losses
    assert np.mean(losses[-5:]) < np.mean(losses[:5]), losses

    path = tmp_path / "micro.safetensors"
    export_state(model, str(path))
    tensors, metadata = load_file(str(path))
    assert metadata["format"] == "sct-diff" and metadata["format_version"] == "1"
    assert json.loads(metadata["config"])["name"] == "micro"
    assert set(tensors) == set(model.state_dict())
    reloaded = load_model(str(path))
    for name, value in model.state_dict().items():
        assert torch.equal(reloaded.state_dict()[name], value)


def run_cfg(tmp_path, **kw):
    base = TrainConfig(out_dir=str(tmp_path / "run"), model="micro", steps=6, batch_size=2, lr=1e-3, warmup_steps=2,
                       lr_drop_at=0.5, workers=0, log_every=3, eval_every=0, save_every_s=1e9, seed=3,
                       samples_per_sequence=2)
    return replace(base, **kw)


def test_a_stopped_run_resumes_to_the_same_weights_as_an_uninterrupted_one(tmp_path):
    quiet = lambda *_: None  # noqa: E731
    straight = Trainer(run_cfg(tmp_path / "a"), log=quiet)
    straight.run()

    # Interrupt the same run after step 3, as a SIGTERM would (the log line of step 3 triggers it).
    holder = {}

    def stop_at_step_3(line):
        if line.startswith("{") and json.loads(line).get("step") == 3:
            holder["trainer"]._request_stop(15, None)

    first = Trainer(run_cfg(tmp_path / "b"), log=stop_at_step_3)
    holder["trainer"] = first
    first.run()
    state = load_checkpoint(tmp_path / "b" / "run" / "last.pt")  # weights_only=True inside
    assert state["step"] == 3 and state["data_position"] == 6
    assert only_safe_types(state)  # what torch 2's default weights_only=True loading requires
    resumed = Trainer(run_cfg(tmp_path / "b", resume="auto"), log=quiet)
    assert resumed.step == 3
    resumed.run()

    a, b = straight.model.state_dict(), resumed.model.state_dict()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert straight.scheduler.get_last_lr() == resumed.scheduler.get_last_lr()
    # The checkpoint is directly exportable.
    model = model_from_checkpoint(str(tmp_path / "b" / "run" / "last.pt"), None)
    assert torch.equal(model.state_dict()["decoder.head_bias"], b["decoder.head_bias"])


def test_a_learning_rate_given_again_on_resume_replaces_the_saved_one(tmp_path):
    # A warm restart (`--resume auto --lr ...`) must train at the new rate, on the resumed schedule.
    quiet = lambda *_: None  # noqa: E731
    Trainer(run_cfg(tmp_path, steps=3), log=quiet).run()
    resumed = Trainer(run_cfg(tmp_path, steps=8, lr=3e-4, lr_drop_at=0.75, resume="auto"), log=quiet)
    assert resumed.step == 3
    assert resumed.scheduler.get_last_lr() == pytest.approx([3e-4] * len(resumed.optimizer.param_groups))
    lrs = []
    resumed.log = lambda line: lrs.append(json.loads(line)["lr"]) if line.startswith("{\"step\"") else None
    resumed.cfg = replace(resumed.cfg, log_every=1)
    resumed.run()
    assert lrs[0] == pytest.approx(3e-4) and lrs[-1] == pytest.approx(3e-5), lrs  # drop at step 6


def test_a_stop_signal_to_the_whole_process_group_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    # Ctrl-C, `timeout` and schedulers signal the process group, so the data worker dies too and
    # the DataLoader raises; the trainer must still save and exit 0, not crash with a traceback.
    import os
    import signal
    import subprocess

    out_dir = tmp_path / "run"
    train_py = Path(__file__).resolve().parents[1] / "train.py"
    command = [sys.executable, str(train_py), "--model", "micro", "--steps", "100000", "--batch-size", "2",
               "--workers", "1", "--log-every", "1", "--eval-every", "0", "--save-every-s", "1e9",
               "--samples-per-sequence", "2", "--device", "cpu", "--out-dir", str(out_dir)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("{") and json.loads(line).get("step") == 2:
                break
        os.killpg(proc.pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = "".join(lines) + rest
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
    state = load_checkpoint(out_dir / "last.pt")
    assert state["step"] >= 2


def test_stage2_initialises_from_stage1_and_trains(tmp_path):
    quiet = lambda *_: None  # noqa: E731
    s1 = Trainer(run_cfg(tmp_path / "s1", steps=1), log=quiet)
    s1.run()
    s2 = Trainer(run_cfg(tmp_path / "s2", stage=2, steps=1, init_from=str(tmp_path / "s1" / "run" / "last.pt"),
                         clip_lengths=[4, 5]), log=quiet)
    for name, value in s1.model.state_dict().items():
        if name == "decoder.temporal":
            # Only row 0 trained in stage 1; every frame of stage 2 starts from it.
            assert not torch.equal(value[1:], value[:1].expand_as(value[1:]))
            assert torch.equal(s2.model.state_dict()[name], value[:1].expand_as(value))
        else:
            assert torch.equal(s2.model.state_dict()[name], value)
    # Provisional-window shapes: every batch has one clip length, drawn from the given ones.
    shapes = {tuple(batch["search"].shape[:2]) for _, batch in zip(range(3), s2.loader())}
    assert shapes <= {(s2.cfg.batch_size, 4), (s2.cfg.batch_size, 5)}, shapes
    metrics = s2.run()
    assert np.isfinite(metrics["loss"])
    assert s2.evaluate()["val_loss"] > 0


def test_atomic_save_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "ckpt.pt"
    atomic_save({"step": 1}, target)
    atomic_save({"step": 2}, target)
    assert torch.load(target)["step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_decoder_block_checkpointing_gives_the_same_gradients():
    from sctdiff.train_loop import enable_block_checkpointing

    mc = get_config("micro")
    batch = tiny_batch(mc, stage=2, size=1)
    grid, weights = TokenGrid.from_config(mc.tokens), LossWeights()
    grads = []
    for checkpointed in (False, True):
        model = build_model(mc, seed=0)
        if checkpointed:
            enable_block_checkpointing(model)
        out = forward_loss(model, batch, mc, grid, weights, torch.device("cpu"), amp=False,
                           generator=torch.Generator().manual_seed(3))
        out["loss"].backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], rtol=1e-5, atol=1e-7), name


def test_checkpoints_load_with_weights_only_as_torch_2_does_by_default(tmp_path):
    import random

    from sctdiff.checkpoint import restore_rng_state, rng_state

    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    saved = rng_state()
    atomic_save({"rng": saved}, tmp_path / "r.pt")
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    assert only_safe_types(saved)
    if int(torch.__version__.split(".")[0]) >= 2:
        restored = torch.load(tmp_path / "r.pt", weights_only=True)["rng"]
    else:  # torch 1.13's weights-only reader lacks floats; the type walk above is the check there
        restored = torch.load(tmp_path / "r.pt")["rng"]
    restore_rng_state(restored)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_portable_copy_is_split_small_and_resumes(tmp_path):
    from sctdiff.checkpoint import PORTABLE_INDEX, find_resume_path, read_portable, write_portable

    quiet = lambda *_: None  # noqa: E731
    trainer = Trainer(run_cfg(tmp_path / "p", steps=2, portable_dir=str(tmp_path / "portable")), log=quiet)
    trainer.run()
    full = load_checkpoint(tmp_path / "p" / "run" / "last.pt")
    # Force several parts to exercise the split, then corrupt one and expect a clear error.
    paths = write_portable(full, tmp_path / "small", part_bytes=200_000)
    assert len(paths) > 3 and all(p.stat().st_size <= 200_000 for p in paths[:-1])
    copy = read_portable(tmp_path / "small" / PORTABLE_INDEX)
    for name, value in full["model"].items():
        assert torch.equal(copy["model"][name], value)
    moments = next(iter(copy["optimizer"]["state"].values()))
    assert moments["exp_avg"].dtype == torch.bfloat16
    assert copy["step"] == 2 and copy["data_position"] == full["data_position"]
    # A fresh trainer resumes from the portable folder alone (no last.pt next to it).
    assert find_resume_path(str(tmp_path / "portable"), tmp_path / "elsewhere").name == PORTABLE_INDEX
    resumed = Trainer(run_cfg(tmp_path / "q", steps=3, resume=str(tmp_path / "portable")), log=quiet)
    assert resumed.step == 2
    resumed.run()
    assert resumed.step == 3
    # Joined back into one file, it is what export.py reads.
    from sctdiff.checkpoint import main as checkpoint_cli

    assert checkpoint_cli(["join", str(tmp_path / "small"), str(tmp_path / "joined.pt")]) == 0
    exported = model_from_checkpoint(str(tmp_path / "joined.pt"), None)
    assert torch.equal(exported.state_dict()["decoder.head_bias"], full["model"]["decoder.head_bias"])
    part = paths[1]
    part.write_bytes(part.read_bytes()[:-1] + b"x")
    import pytest

    with pytest.raises(ValueError, match="SHA-256"):
        read_portable(tmp_path / "small" / PORTABLE_INDEX)


def test_a_run_can_start_from_an_exported_model(tmp_path):
    quiet = lambda *_: None  # noqa: E731
    source = build_model(get_config("micro"), seed=5)
    export_state(source, str(tmp_path / "micro.safetensors"), dtype="F16")
    run = Trainer(run_cfg(tmp_path / "from-export", stage=2, steps=1, init_from=str(tmp_path / "micro.safetensors")),
                  log=quiet)
    for name, value in source.state_dict().items():
        assert torch.equal(run.model.state_dict()[name], value.half().float()), name
    assert np.isfinite(run.run()["loss"])
    # Another config's file is refused with a message naming both.
    export_state(build_model(get_config("tiny"), seed=0), str(tmp_path / "tiny.safetensors"))
    try:
        Trainer(run_cfg(tmp_path / "bad", init_from=str(tmp_path / "tiny.safetensors")), log=quiet)
    except ValueError as error:
        assert "micro" in str(error) and "tiny" in str(error)
    else:
        raise AssertionError("a tiny model should not initialise a micro run")


def test_export_records_how_the_weights_were_trained(tmp_path):
    from export import main as export_main

    quiet = lambda *_: None  # noqa: E731
    Trainer(run_cfg(tmp_path / "s1", steps=2), log=quiet).run()
    s1 = str(tmp_path / "s1" / "run" / "last.pt")
    Trainer(run_cfg(tmp_path / "s2", stage=2, steps=1, init_from=s1), log=quiet).run()
    out = tmp_path / "model.safetensors"
    assert export_main(["--checkpoint", str(tmp_path / "s2" / "run" / "last.pt"), "--history", s1,
                        "--out", str(out), "--dtype", "F16"]) == 0
    _, metadata = load_file(str(out))
    stages = json.loads(metadata["training"])["stages"]
    assert [s["run"]["stage"] for s in stages] == [1, 2]
    assert [s["checkpoint_step"] for s in stages] == [2, 1]
    assert stages[0]["samples_seen"] == 2 * 2 and stages[1]["run"]["init_from"] == s1
    # --clip-len stage: a stage-1 checkpoint as a single-frame model, stage 2 at its own length.
    for checkpoint, frames in ((s1, 1), (str(tmp_path / "s2" / "run" / "last.pt"), get_config("micro").decoder.clip_len)):
        picked = tmp_path / "picked.safetensors"
        assert export_main(["--checkpoint", checkpoint, "--clip-len", "stage", "--out", str(picked)]) == 0
        _, metadata = load_file(str(picked))
        assert json.loads(metadata["config"])["decoder"]["clip_len"] == frames
    # A run continued from that file (its checkpoints gone) exports the file's stages before its own.
    Trainer(run_cfg(tmp_path / "s3", stage=2, steps=1, init_from=str(out)), log=quiet).run()
    again = tmp_path / "again.safetensors"
    assert export_main(["--checkpoint", str(tmp_path / "s3" / "run" / "last.pt"), "--history", str(out),
                        "--out", str(again), "--dtype", "F16"]) == 0
    _, metadata = load_file(str(again))
    continued = json.loads(metadata["training"])["stages"]
    assert continued[:2] == stages and continued[2]["run"]["init_from"] == str(out)
    assert len(continued) == 3
    # A file that is not an sct-diff model is refused as history.
    save_file({"w": torch.zeros(1)}, str(tmp_path / "foreign.safetensors"), metadata={"format": "other"})
    with pytest.raises(ValueError, match="Expected an sct-diff model file"):
        export_main(["--checkpoint", str(tmp_path / "s3" / "run" / "last.pt"), "--history",
                     str(tmp_path / "foreign.safetensors"), "--out", str(tmp_path / "x.safetensors")])


def test_runs_start_from_fourier_coordinate_codes_and_use_the_configured_jitter(tmp_path):
    trainer = Trainer(run_cfg(tmp_path / "f", center_jitter=1.25), log=lambda *_: None)
    bins = trainer.mc.tokens.bins
    rows = trainer.model.decoder.traj_embed.weight[: 2 * bins].detach()
    assert torch.equal(rows, coordinate_fourier_codes(trainer.mc))
    assert trainer.dataset.sc.center_jitter == 1.25 and trainer.val_dataset.sc.center_jitter == 1.25
    plain = Trainer(run_cfg(tmp_path / "n", coordinate_init="normal"), log=lambda *_: None)
    assert not torch.equal(plain.model.decoder.traj_embed.weight[: 2 * bins].detach(), rows)


def test_the_centre_heatmap_targets_peak_at_the_box_centre_and_sum_to_one():
    from sctdiff.aux_heads import center_heatmap_targets
    from sctdiff.augment import quantize_corners

    grid = TokenGrid()
    # A box centred at (0.7, 0.3) of the crop: patch column 5, row 2 of an 8 x 8 grid.
    corners = quantize_corners(np.array([[0.6, 0.2, 0.8, 0.4]]), grid.bins, grid.range_min, grid.range_max)
    tokens = torch.as_tensor(np.concatenate([[[800]], corners, [[801]]], axis=1))
    soft = center_heatmap_targets(tokens, 8, grid, sigma_cells=1.0)
    assert soft.shape == (1, 64)
    assert abs(soft.sum().item() - 1.0) < 1e-6
    assert soft.argmax().item() == 2 * 8 + 5
    sharp = center_heatmap_targets(tokens, 8, grid, sigma_cells=0.3)
    assert sharp.max() > soft.max()


def test_a_run_with_the_centre_heatmap_loss_trains_saves_and_resumes_its_head(tmp_path):
    cfg = run_cfg(tmp_path / "aux", steps=2, aux_center_weight=1.0)
    trainer = Trainer(cfg, log=lambda *_: None)
    assert trainer.aux_head is not None
    before = trainer.aux_head.score.weight.detach().clone()
    trainer.run()
    after = trainer.aux_head.score.weight.detach().clone()
    assert not torch.equal(before, after), "the head got no gradient"
    saved = load_checkpoint(tmp_path / "aux" / "run" / "last.pt")
    assert torch.equal(saved["aux_head"]["score.weight"], after)
    assert not any(k.startswith("aux") for k in saved["model"]), "the head must stay out of the model's weights"
    log = [json.loads(line) for line in (tmp_path / "aux" / "run" / "log.jsonl").read_text().splitlines()]
    assert any("aux_center" in r for r in log)
    resumed = Trainer(run_cfg(tmp_path / "aux", steps=3, aux_center_weight=1.0, resume="auto"), log=lambda *_: None)
    assert torch.equal(resumed.aux_head.score.weight, after)


def test_cpu_runs_pick_the_compiled_scan_and_bf16_only_where_the_cpu_has_it(tmp_path, monkeypatch):
    from sctdiff import train_loop

    cpu = torch.device("cpu")
    assert train_loop.resolve_scan_mode("sequential", cpu) == "sequential"
    assert train_loop.resolve_scan_mode("auto", torch.device("cuda")) == "chunked"
    monkeypatch.setattr(train_loop, "cpu_has_fast_bf16", lambda: False)
    assert not train_loop.autocast_enabled(True, cpu)
    monkeypatch.setattr(train_loop, "cpu_has_fast_bf16", lambda: True)
    assert train_loop.autocast_enabled(True, cpu)
    assert not train_loop.autocast_enabled(False, cpu)
    trainer = Trainer(run_cfg(tmp_path / "s", scan="sequential"), log=lambda *_: None)
    modes = {m.scan_mode for m in trainer.model.modules() if hasattr(m, "scan_mode")}
    assert modes == {"sequential"}


def test_a_stage1_checkpoint_exports_as_a_single_frame_model(tmp_path):
    from export import main as export_main

    Trainer(run_cfg(tmp_path / "s1", steps=1), log=lambda *_: None).run()
    checkpoint = str(tmp_path / "s1" / "run" / "last.pt")
    out = tmp_path / "single.safetensors"
    assert export_main(["--checkpoint", checkpoint, "--clip-len", "1", "--out", str(out)]) == 0
    single, full = load_model(str(out)), model_from_checkpoint(checkpoint, None)
    assert single.cfg.decoder.clip_len == 1 and full.cfg.decoder.clip_len == 6
    assert single.state_dict()["decoder.temporal"].shape[0] == 1
    assert json.loads(load_file(str(out))[1]["training"])["clip_len"] == 1
    # A one-frame window decodes exactly as the full model decodes it.
    mc = full.cfg
    g = torch.Generator().manual_seed(0)
    side = mc.encoder.search_size // mc.encoder.patch
    features = torch.randn(1, 1, side, side, mc.encoder.dim, generator=g)
    tokens = torch.randint(0, 800, (1, 1, 4), generator=g)
    timesteps = torch.tensor([[mc.diffusion.t_new]])
    noise = torch.randn(1, 1, 4, mc.decoder.dim, generator=g)
    with torch.no_grad():
        assert torch.equal(single.decoder(features, tokens, timesteps, noise), full.decoder(features, tokens, timesteps, noise))
    with pytest.raises(ValueError, match="clip length from 1 to 6"):
        export_main(["--checkpoint", checkpoint, "--clip-len", "7", "--out", str(tmp_path / "x.safetensors")])


def test_a_single_frame_export_initialises_a_full_run(tmp_path):
    from export import main as export_main

    Trainer(run_cfg(tmp_path / "s1", steps=1), log=lambda *_: None).run()
    checkpoint = str(tmp_path / "s1" / "run" / "last.pt")
    out = tmp_path / "single.safetensors"
    assert export_main(["--checkpoint", checkpoint, "--clip-len", "1", "--out", str(out)]) == 0
    run = Trainer(run_cfg(tmp_path / "s2", stage=2, steps=1, init_from=str(out)), log=lambda *_: None)
    temporal = run.model.state_dict()["decoder.temporal"]
    trained = model_from_checkpoint(checkpoint, None).state_dict()["decoder.temporal"][0]
    assert temporal.shape[0] == 6 and all(torch.equal(row, trained) for row in temporal)
    assert np.isfinite(run.run()["loss"])
    # A file whose temporal table disagrees with its own clip_len is refused, not padded.
    from sctdiff.safetensors_io import save_file

    tensors, metadata = load_file(str(out))
    tensors["decoder.temporal"] = tensors["decoder.temporal"].repeat(2, 1)
    bad = tmp_path / "inconsistent.safetensors"
    save_file(tensors, str(bad), metadata)
    with pytest.raises(ValueError, match="Expected 1 temporal rows"):
        Trainer(run_cfg(tmp_path / "s3", stage=2, steps=1, init_from=str(bad)), log=lambda *_: None)


def test_a_full_length_stage1_export_also_starts_every_frame_from_row_0(tmp_path):
    from export import main as export_main

    quiet = lambda *_: None  # noqa: E731
    Trainer(run_cfg(tmp_path / "s1", steps=1), log=quiet).run()
    s1 = str(tmp_path / "s1" / "run" / "last.pt")
    full = tmp_path / "s1-full.safetensors"
    assert export_main(["--checkpoint", s1, "--out", str(full)]) == 0  # N = 6, rows 1-5 untrained
    saved = load_file(str(full))[0]["decoder.temporal"]
    assert not torch.equal(saved[1:], saved[:1].expand_as(saved[1:]))
    run = Trainer(run_cfg(tmp_path / "s2", stage=2, steps=1, init_from=str(full)), log=quiet)
    assert torch.equal(run.model.state_dict()["decoder.temporal"], saved[:1].expand_as(saved))
    # A stage-2 export keeps the rows stage 2 trained apart.
    run.run()
    s2 = tmp_path / "s2-full.safetensors"
    assert export_main(["--checkpoint", str(tmp_path / "s2" / "run" / "last.pt"), "--out", str(s2)]) == 0
    trained = load_file(str(s2))[0]["decoder.temporal"]
    again = Trainer(run_cfg(tmp_path / "s3", stage=2, steps=1, init_from=str(s2)), log=quiet)
    assert torch.equal(again.model.state_dict()["decoder.temporal"], trained)
    assert not torch.equal(trained[1:], trained[:1].expand_as(trained[1:]))


def test_exported_stage_reads_the_training_record_and_never_raises_on_a_foreign_one():
    from sctdiff.model_file import exported_stage

    assert exported_stage({"training": json.dumps({"stages": [{"run": {"stage": 1}}, {"run": {"stage": 2}}]})}) == 2
    assert exported_stage({"training": json.dumps({"stages": [{"run": {"stage": 1}}]})}) == 1
    for foreign in ({}, {"training": "{}"}, {"training": json.dumps({"random_init_seed": 0})},
                    {"training": json.dumps({"stages": []})}, {"training": "[1]"}, {"training": "not json"},
                    {"training": json.dumps({"stages": ["x"]})}, {"training": json.dumps({"stages": [{"run": {"stage": "1"}}]})}):
        assert exported_stage(foreign) is None, foreign
