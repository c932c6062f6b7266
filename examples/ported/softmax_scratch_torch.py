# d2l "Implementation of Softmax Regression from Scratch" (3.6, softmax回归的从零开始实现) on Fashion-MNIST
# (the data as NumPy arrays from fashion_data, the same for both frameworks).
# PORT_BUDGET=N trains one epoch on the first N training images instead of 10 epochs on all.
import json
import os

import torch
from torch.utils.data import DataLoader, TensorDataset

import fashion_data

BUDGET = int(os.environ.get("PORT_BUDGET", "0"))
torch.manual_seed(0)
batch_size = 256
X, y = fashion_data.load("train", BUDGET or None)
Xt, yt = fashion_data.load("test", BUDGET // 2 or None)
train_iter = DataLoader(TensorDataset(torch.tensor(X, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255, torch.tensor(y)),
                        batch_size, shuffle=True)
test_iter = DataLoader(TensorDataset(torch.tensor(Xt, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255, torch.tensor(yt)),
                       batch_size, shuffle=False)

num_inputs = 784
num_outputs = 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # broadcasting


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return - torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    """The number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


class Accumulator:
    """Sums over n variables."""
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def updater(batch_size):
    return sgd([W, b], lr, batch_size)


def train_epoch_ch3(net, train_iter, loss, updater):
    metric = Accumulator(3)  # training loss sum, correct predictions, samples
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        l.sum().backward()
        updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


lr = 0.1
num_epochs = 1 if BUDGET else 10
history = []
for epoch in range(num_epochs):
    train_metrics = train_epoch_ch3(net, train_iter, cross_entropy, updater)
    test_acc = evaluate_accuracy(net, test_iter)
    history.append([*train_metrics, test_acc])
    print(f"epoch {epoch + 1}: loss {train_metrics[0]:.3f}, train acc {train_metrics[1]:.3f}, test acc {test_acc:.3f}")
print("RESULT " + json.dumps({"history": history, "test_acc": history[-1][2]}))
