#!/usr/bin/env python
"""Playground frame rate: a 2–8–8–1 tanh network on the circle (250 training points, batch 10)
trained while the output's and every neuron's 100×100 heat map are refreshed.

    python benchmarks/bench_playground.py [--seconds 10] [--threads 2] [--json PATH]

Rows:

* one epoch of training (25 SGD steps of batch 10) and one frame (forward pass over the 10,000 grid
  points, 17 heat maps encoded, weights, losses), each timed in this process; the same epoch in
  PyTorch (same network, same batches) for the ratio;
* end to end: the real server (uvicorn in a thread) and a WebSocket client that plays and
  acknowledges every frame at once, as a browser that keeps up — frames received per second, the
  number the issue's target (≥ 15 a second) is about."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import torch
from common import environment, measure, set_threads

HASH = "dataset=circle&networkShape=8,8&activation=tanh&learningRate=0.03&batchSize=10&x=true&y=true&seed=0"


def in_process(repeats: int) -> dict:
    from shenjing.playground.config import parse
    from shenjing.playground.session import Session

    s = Session(parse(HASH))
    X, y = s.Ftr.numpy(), s.ytr
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 1), torch.nn.Tanh())
    opt = torch.optim.SGD(net.parameters(), lr=0.03)
    order = np.random.default_rng(0)

    def torch_epoch() -> None:
        idx = order.permutation(len(X))
        for i in range(0, len(idx), 10):
            b = idx[i:i + 10]
            opt.zero_grad()
            loss = 0.5 * ((net(torch.from_numpy(X[b])).reshape(-1) - torch.from_numpy(y[b])) ** 2).mean()
            loss.backward()
            opt.step()

    return measure({"shenjing epoch": s.train_epoch, "torch epoch": torch_epoch, "shenjing frame": s.frame},
                   repeats=repeats, warmup=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def end_to_end(seconds: float) -> dict:
    import uvicorn
    import websockets

    from shenjing.playground.server import MAX_MESSAGE, create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), port=port, log_level="warning", ws_max_size=MAX_MESSAGE))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    async def client() -> dict:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
            await ws.send(json.dumps({"type": "config", "hash": HASH}))
            frames, first, size = 0, None, 0
            await ws.send(json.dumps({"type": "play"}))
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                m = json.loads(raw := await ws.recv())
                if m["type"] != "frame":
                    continue
                await ws.send(json.dumps({"type": "ack"}))
                first = first if first is not None else m["epoch"]
                frames, size, last = frames + 1, len(raw), m["epoch"]
            elapsed = time.perf_counter() - t0
            return {"frames_per_s": frames / elapsed, "epochs_per_s": (last - first) / elapsed, "frame_bytes": size}

    try:
        return asyncio.run(client())
    finally:
        server.should_exit = True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=60)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    set_threads(args.threads)
    parts = in_process(args.repeats)
    e2e = end_to_end(args.seconds)
    sj_ms, torch_ms, frame_ms = (parts[k]["median_ms"] for k in ("shenjing epoch", "torch epoch", "shenjing frame"))
    print(f"epoch (25 steps): shenjing {sj_ms:.2f} ms, torch {torch_ms:.2f} ms, ratio {sj_ms / torch_ms:.2f}")
    print(f"frame (17 heat maps of 100×100): {frame_ms:.2f} ms  →  at most {1e3 / (sj_ms + frame_ms):.0f} frames/s in process")
    print(f"end to end over the WebSocket: {e2e['frames_per_s']:.1f} frames/s, {e2e['epochs_per_s']:.1f} epochs/s, "
          f"{e2e['frame_bytes'] / 1024:.0f} KB a frame")
    if args.json:
        args.json.write_text(json.dumps({"in_process": parts, "end_to_end": e2e, "env": environment(args.threads)}, indent=1))


if __name__ == "__main__":
    main()
