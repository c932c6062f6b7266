# The PyTorch tutorials "Datasets & DataLoaders" (a custom Dataset) and "Optimizing Model Parameters"
# (train_loop / test_loop), then saving the weights to model_weights.pth and loading them back.
# The custom Dataset serves Fashion-MNIST from NumPy arrays (fashion_data), the same in both frameworks.
# PORT_BUDGET=N trains one epoch on the first N images (lr 0.1) instead of the tutorial's 10 epochs.
import json
import os

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import fashion_data

BUDGET = int(os.environ.get("PORT_BUDGET", "0"))


class FashionMNISTArrays(Dataset):
    def __init__(self, split, n=None, transform=None, target_transform=None):
        self.images, self.labels = fashion_data.load(split, n)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.from_numpy(self.images[idx]).unsqueeze(0).float() / 255
        label = int(self.labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


training_data = FashionMNISTArrays("train", BUDGET or None)
test_data = FashionMNISTArrays("test", BUDGET // 2 or None)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


torch.manual_seed(0)
model = NeuralNetwork()
learning_rate = 1e-1 if BUDGET else 1e-3
batch_size = 64
epochs = 1 if BUDGET else 10
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=batch_size)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
losses = []


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if batch % 100 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train_loop(train_dataloader, model, loss_fn, optimizer)
    accuracy = test_loop(test_dataloader, model, loss_fn)
print("Done!")

torch.save(model.state_dict(), "model_weights.pth")
model = NeuralNetwork()
model.load_state_dict(torch.load("model_weights.pth", weights_only=True))
reloaded_accuracy = test_loop(test_dataloader, model, loss_fn)
x, y = test_data[0]
print("RESULT " + json.dumps({"losses": losses, "accuracy": accuracy, "reloaded_accuracy": reloaded_accuracy, "x_shape": list(x.shape),
                              "batches": len(train_dataloader)}))
