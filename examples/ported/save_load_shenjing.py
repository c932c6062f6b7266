# The PyTorch tutorials "Save and Load the Model" and "Saving and loading a general checkpoint": a model
# from fixed NumPy weights, trained a few Adam steps, checkpointed (model, optimizer, epoch, loss),
# reloaded into new objects and trained on; it must continue exactly as the uninterrupted run.
import json

import numpy as np
import shenjing as torch
from shenjing import nn

rng = np.random.default_rng(0)
X = torch.tensor(rng.normal(size=(32, 6)), dtype=torch.float32)
Y = torch.tensor(rng.integers(0, 3, size=32))
weights = [rng.normal(scale=0.3, size=s).astype(np.float32) for s in [(16, 6), (16,), (3, 16), (3,)]]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def make():
    net = Net()
    with torch.no_grad():
        for p, w in zip(net.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    return net, torch.optim.Adam(net.parameters(), lr=0.01)


def step(net, optimizer):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(net(X), Y)
    loss.backward()
    optimizer.step()
    return loss.item()


net, optimizer = make()
straight = [step(net, optimizer) for _ in range(6)]

net, optimizer = make()
losses = [step(net, optimizer) for _ in range(3)]
torch.save({"epoch": 3, "model_state_dict": net.state_dict(), "optimizer_state_dict": optimizer.state_dict(), "loss": losses[-1]},
           "checkpoint.pt")
torch.save(net.state_dict(), "model_weights.pth")

net, optimizer = make()
checkpoint = torch.load("checkpoint.pt", weights_only=True)
net.load_state_dict(checkpoint["model_state_dict"])
optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
epoch, loss = checkpoint["epoch"], checkpoint["loss"]
net.train()
resumed = losses + [step(net, optimizer) for _ in range(3)]

model = Net()
model.load_state_dict(torch.load("model_weights.pth", weights_only=True))
model.eval()
with torch.no_grad():
    out = model(X[:4])

print("RESULT " + json.dumps({"straight": straight, "resumed": resumed, "epoch": epoch, "loss": loss, "out": out.tolist()}))
