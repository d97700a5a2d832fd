"""Train SCT-Diff (stage 1: single frames; stage 2: clips of N frames, initialised from stage 1).

  /usr/bin/python3 training/train.py --stage 1 --model tiny --out-dir runs/tiny-s1 --steps 6000
  /usr/bin/python3 training/train.py --stage 2 --init-from runs/tiny-s1/last.pt --out-dir runs/tiny-s2
  /usr/bin/python3 training/train.py --out-dir runs/tiny-s1 --resume auto     # continue after a stop

Every option is a field of sctdiff.train_loop.TrainConfig (dashes for underscores); see
docs/training.md for the recipe and the time budget. On resume the saved run's arguments are
reused, except those given again on the command line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import typing
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sctdiff.checkpoint import find_resume_path, load_checkpoint  # noqa: E402
from sctdiff.train_loop import TrainConfig, train  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        hint = hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if hint is bool:
            parser.add_argument(flag, dest=f.name, type=lambda v: v.lower() in ("1", "true", "yes", "on"),
                                default=None, metavar="BOOL", help=f"default {default}")
        elif hint in (typing.List[str], typing.List[int], typing.Optional[typing.List[float]]):
            item = float if "float" in str(hint) else int if "int" in str(hint) else str
            parser.add_argument(flag, dest=f.name, type=item, nargs="+", default=None, help=f"default {default}")
        else:
            base = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Union else hint
            parser.add_argument(flag, dest=f.name, type=base, default=None, help=f"default {default}")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    given = {k: v for k, v in vars(args).items() if v is not None}
    cfg = TrainConfig()
    if given.get("resume"):
        path = find_resume_path(given["resume"], Path(given.get("out_dir", cfg.out_dir)))
        if path is not None:
            saved = load_checkpoint(path)["args"]
            cfg = dataclasses.replace(cfg, **{k: v for k, v in saved.items() if k in {f.name for f in dataclasses.fields(TrainConfig)}})
    cfg = dataclasses.replace(cfg, **given)
    print("config: " + json.dumps(dataclasses.asdict(cfg)))
    train(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
