# d2l "Concise Implementation of Multilayer Perceptrons" (4.3, 多层感知机的简洁实现) on Fashion-MNIST.
# PORT_BUDGET=N trains one epoch on the first N training images instead of 10 epochs on all.
import json
import os

import shenjing as torch
from shenjing import nn
from shenjing.utils.data import DataLoader, TensorDataset

import fashion_data

BUDGET = int(os.environ.get("PORT_BUDGET", "0"))
torch.manual_seed(0)
batch_size, lr, num_epochs = 256, 0.1, 1 if BUDGET else 10
X, y = fashion_data.load("train", BUDGET or None)
Xt, yt = fashion_data.load("test", BUDGET // 2 or None)
train_iter = DataLoader(TensorDataset(torch.tensor(X, dtype=torch.float32).unsqueeze(1) / 255, torch.tensor(y)), batch_size, shuffle=True)
test_iter = DataLoader(TensorDataset(torch.tensor(Xt, dtype=torch.float32).unsqueeze(1) / 255, torch.tensor(yt)), batch_size)

net = nn.Sequential(nn.Flatten(),
                    nn.Linear(784, 256),
                    nn.ReLU(),
                    nn.Linear(256, 10))


def init_weights(m):
    if type(m) is nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=lr)

losses = []
for epoch in range(num_epochs):
    net.train()
    for X, y in train_iter:
        l = loss(net(X), y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
        losses.append(l.mean().item())
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in test_iter:
            correct += (net(X).argmax(dim=1) == y).sum().item()
            total += y.numel()
    print(f"epoch {epoch + 1}: loss {losses[-1]:.3f}, test acc {correct / total:.3f}")
print("RESULT " + json.dumps({"losses": losses, "test_acc": correct / total}))
