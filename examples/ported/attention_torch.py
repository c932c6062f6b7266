# A small attention model (d2l 11, 注意力机制 / Transformer): token embedding + learned positions, one
# multi-head self-attention layer with a residual connection and LayerNorm, mean pooling and a linear
# classifier. The task needs attention across positions: is the token at the position named by the
# first token equal to the last token? Data from a seeded NumPy generator (the same in both frameworks).
# PORT_BUDGET=N trains N steps instead of 600.
import json
import os

import numpy as np
import torch
from torch import nn

BUDGET = int(os.environ.get("PORT_BUDGET", "0"))
torch.manual_seed(0)
L, V = 8, 6  # sequence length, vocabulary (tokens 0..5)


def make_data(rng, n):
    X = rng.integers(0, V, size=(n, L))
    X[:, 0] = rng.integers(1, L - 1, size=n)  # the first token names a position 1..L-2
    pos = X[:, 0]
    same = rng.random(n) < 0.5  # half the samples: copy the named token to the end
    X[same, -1] = X[same, pos[same]]
    y = (X[np.arange(n), pos] == X[:, -1]).astype(np.int64)
    return torch.tensor(X), torch.tensor(y)


class AttentionClassifier(nn.Module):
    def __init__(self, vocab, length, d_model=32, num_heads=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab + length, d_model)
        self.position = nn.Parameter(torch.zeros(1, length, d_model))
        self.attention = nn.MultiheadAttention(d_model, num_heads, batch_first=True)
        self.norm = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(nn.Linear(d_model, 64), nn.ReLU(), nn.Linear(64, d_model))
        self.out = nn.Linear(d_model, 2)

    def forward(self, X):
        H = self.embedding(X) + self.position
        A, weights = self.attention(H, H, H)
        H = self.norm(H + A)
        H = H + self.ffn(H)
        return self.out(H.mean(dim=1)), weights


rng = np.random.default_rng(0)
X_train, y_train = make_data(rng, 4000)
X_test, y_test = make_data(rng, 1000)
net = AttentionClassifier(V, L)
optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
loss = nn.CrossEntropyLoss()
losses = []
steps = BUDGET or 600
for _ in range(steps):
    idx = torch.tensor(rng.integers(0, len(X_train), size=64))
    logits, _ = net(X_train[idx])
    l = loss(logits, y_train[idx])
    optimizer.zero_grad()
    l.backward()
    optimizer.step()
    losses.append(l.item())
net.eval()
with torch.no_grad():
    logits, weights = net(X_test)
    test_acc = (logits.argmax(1) == y_test).float().mean().item()
print(f"loss {np.mean(losses[-20:]):.3f}, test acc {test_acc:.3f}, attention weights {tuple(weights.shape)}")
print("RESULT " + json.dumps({"losses": losses, "test_acc": test_acc, "weights_shape": list(weights.shape)}))
