# d2l "Residual Networks (ResNet)" (7.6, 残差网络): the Residual block and resnet_block as in the
# chapter, on 28×28 Fashion-MNIST with narrower stages (16-32-64 channels instead of 64-512) so that
# a NumPy CPU run takes seconds. PORT_BUDGET=N trains one epoch on the first N training images.
import json
import os

import shenjing as torch
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.utils.data import DataLoader, TensorDataset

import fashion_data

BUDGET = int(os.environ.get("PORT_BUDGET", "0"))
torch.manual_seed(0)


class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


blk = Residual(3, 3)
X = torch.rand(4, 3, 6, 6)
same_shape = list(blk(X).shape)
blk = Residual(3, 6, use_1x1conv=True, strides=2)
half_shape = list(blk(X).shape)


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


b1 = nn.Sequential(nn.Conv2d(1, 16, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=2, stride=2))
b2 = nn.Sequential(*resnet_block(16, 16, 1, first_block=True))
b3 = nn.Sequential(*resnet_block(16, 32, 1))
b4 = nn.Sequential(*resnet_block(32, 64, 1))
net = nn.Sequential(b1, b2, b3, b4, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(64, 10))

X = torch.rand(1, 1, 28, 28)
stage_shapes = []
for layer in net:
    X = layer(X)
    stage_shapes.append([layer.__class__.__name__, list(X.shape)])

batch_size = 128
X, y = fashion_data.load("train", BUDGET or None)
Xt, yt = fashion_data.load("test", BUDGET // 2 or None)
train_iter = DataLoader(TensorDataset(torch.tensor(X, dtype=torch.float32).unsqueeze(1) / 255, torch.tensor(y)), batch_size, shuffle=True)
test_iter = DataLoader(TensorDataset(torch.tensor(Xt, dtype=torch.float32).unsqueeze(1) / 255, torch.tensor(yt)), batch_size)

optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
loss = nn.CrossEntropyLoss()
losses = []
for epoch in range(1 if BUDGET else 10):
    net.train()
    for X, y in train_iter:
        optimizer.zero_grad()
        l = loss(net(X), y)
        l.backward()
        optimizer.step()
        losses.append(l.item())
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in test_iter:
            correct += (net(X).argmax(1) == y).sum().item()
            total += y.numel()
    print(f"epoch {epoch + 1}: loss {losses[-1]:.3f}, test acc {correct / total:.3f}")
print("RESULT " + json.dumps({"same_shape": same_shape, "half_shape": half_shape, "stage_shapes": stage_shapes,
                              "losses": losses, "test_acc": correct / total}))
