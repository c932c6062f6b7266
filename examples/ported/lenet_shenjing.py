# d2l "Convolutional Neural Networks (LeNet)" (6.6, 卷积神经网络 LeNet) on Fashion-MNIST.
# PORT_BUDGET=N trains one epoch on the first N training images instead of 10 epochs on all.
import json
import os

import shenjing as torch
from shenjing import nn
from shenjing.utils.data import DataLoader, TensorDataset

import fashion_data

BUDGET = int(os.environ.get("PORT_BUDGET", "0"))
torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))

X = torch.rand((1, 1, 28, 28), dtype=torch.float32)  # d2l: torch.rand(size=...); shenjing takes the size positionally only
layer_shapes = []
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape: \t', X.shape)
    layer_shapes.append([layer.__class__.__name__, list(X.shape)])

batch_size = 256
X, y = fashion_data.load("train", BUDGET or None)
Xt, yt = fashion_data.load("test", BUDGET // 2 or None)
train_iter = DataLoader(TensorDataset(torch.tensor(X, dtype=torch.float32).unsqueeze(1) / 255, torch.tensor(y)), batch_size, shuffle=True)
test_iter = DataLoader(TensorDataset(torch.tensor(Xt, dtype=torch.float32).unsqueeze(1) / 255, torch.tensor(yt)), batch_size)


def evaluate_accuracy(net, data_iter):
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += (net(X).argmax(1) == y).sum().item()
            total += y.numel()
    return correct / total


def train_ch6(net, train_iter, test_iter, num_epochs, lr):
    def init_weights(m):
        if type(m) is nn.Linear or type(m) is nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(num_epochs):
        net.train()
        for X, y in train_iter:
            optimizer.zero_grad()
            l = loss(net(X), y)
            l.backward()
            optimizer.step()
            losses.append(l.item())
        test_acc = evaluate_accuracy(net, test_iter)
        print(f'epoch {epoch + 1}: loss {losses[-1]:.3f}, test acc {test_acc:.3f}')
    return losses, test_acc


losses, test_acc = train_ch6(net, train_iter, test_iter, 1 if BUDGET else 10, lr=0.9)
print("RESULT " + json.dumps({"layer_shapes": layer_shapes, "losses": losses, "test_acc": test_acc}))
