#!/usr/bin/env python
"""Attention map (注意力图) of a Transformer trained by ``shenjing train --model transformer``.

    python examples/attention_map.py runs/sort/checkpoint.safetensors --out docs/img/sort-attention.png

Rebuilds the model from the run's ``config.json``, loads the checkpoint, takes test sequence
``--index`` of the run's task, and plots the attention weights α of every head of ``--layer``
(default: all layers), rows = query positions labelled "input → prediction", columns = keys.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

from shenjing.cli import model_options  # noqa: E402
from shenjing.train import load_checkpoint  # noqa: E402
from shenjing.train.registry import build_model, build_task  # noqa: E402
from shenjing.viz.attention import sequence_attention_figure  # noqa: E402
from shenjing.viz.plots import save_figure  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="checkpoint.safetensors written by `shenjing train` (config.json next to it)")
    ap.add_argument("--out", default="attention.png", help="PNG to write")
    ap.add_argument("--index", type=int, default=0, help="which test sequence to show")
    ap.add_argument("--layer", type=int, default=None, help="one encoder layer (default: all)")
    args = ap.parse_args(argv)

    ckpt = Path(args.checkpoint)
    cfg = json.loads((ckpt.parent / "config.json").read_text())
    task = build_task(cfg["dataset"], cfg, cfg.get("data"))
    model = build_model(cfg["model"], task.input_shape, task.num_classes, **model_options(cfg))
    model.load_state_dict(load_checkpoint(ckpt)["model"])
    x, y = task.test.dataset[args.index]
    layers = None if args.layer is None else [args.layer]
    fig = sequence_attention_figure(model, x, y, task.classes, name=cfg["dataset"], layers=layers)
    path = save_figure(fig, args.out)
    print(f"attention map of test sequence {args.index} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
