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

import shenjing as sj  # noqa: E402
from shenjing.cli import _model_options  # noqa: E402
from shenjing.train import load_checkpoint  # noqa: E402
from shenjing.train.registry import build_model, build_task  # noqa: E402
from shenjing.viz.attention import plot_attention  # noqa: E402


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
    model = build_model(cfg["model"], task.input_shape, task.num_classes, **_model_options(cfg))
    model.load_state_dict(load_checkpoint(ckpt)["model"])
    model.eval()
    x, y = task.test.dataset[args.index]
    x = x.reshape(1, -1)
    maps = model.attention_maps(x)
    with sj.no_grad():
        pred = model(x).argmax(-1)[0].numpy()
    pred = pred[len(pred) - y.shape[0]:]
    layers = range(len(maps)) if args.layer is None else [args.layer % len(maps)]
    names = task.classes
    tokens = [names[int(t)] for t in x[0].numpy()]
    shift = len(tokens) - len(pred)  # the prediction sits on the last positions (addition)
    queries = [f"{tok} → {names[int(pred[i - shift])]}" if i >= shift else tok for i, tok in enumerate(tokens)]
    weights = sj.cat([maps[li][0] for li in layers], 0)  # (layers·heads, L, L)
    heads = maps[0].shape[1]
    titles = [f"layer {li}, head {h}" for li in layers for h in range(heads)]
    ok = bool((pred == y.numpy()).all())
    title = (f"{cfg['dataset']}: attention weights of the trained Transformer\n"
             f"input {' '.join(tokens)}  →  output {' '.join(names[int(p)] for p in pred)}"
             f" ({'correct' if ok else 'wrong'})")
    path = plot_attention(weights, tokens, args.out, query_tokens=queries, title=title, head_titles=titles,
                          ylabel="query position: input → predicted output", cols=heads if len(titles) > heads else None)
    print(f"attention map of test sequence {args.index} ({len(list(layers))} layer(s) × {heads} heads) -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
