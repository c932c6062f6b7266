"""A small seeded training run used by the resume tests (run as a subprocess).

usage: python _run.py OUT EPOCHS [KILL_AT_STEP] [--resume]
KILL_AT_STEP sends SIGKILL to this process after that many optimiser steps (mid-epoch).
"""

import os
import signal
import sys

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import DataLoader, TensorDataset
from shenjing.train import Callback, Trainer


class KillAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_after_backward(self, trainer):
        if trainer.global_step + 1 == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def main():
    out, epochs = sys.argv[1], int(sys.argv[2])
    kill = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != "--resume" else 0
    resume = "--resume" in sys.argv
    sj.manual_seed(0)
    g = sj.Generator().manual_seed(1)
    x = sj.randn(200, 6, generator=g)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cbs = [KillAt(kill)] if kill else []
    t = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=cbs, out_dir=out, progress=False, generators=[g])
    t.fit(loader, epochs=epochs, resume=resume)
    sj.save(model.state_dict(), os.path.join(out, "final.safetensors"))


if __name__ == "__main__":
    main()
