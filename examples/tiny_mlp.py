"""Train a 2-16-1 MLP on XOR with raw tensor ops and plain gradient descent (Xu §1.1, §1.5)."""

import shenjing as sj

sj.manual_seed(0)
X = sj.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = sj.tensor([[0.0], [1.0], [1.0], [0.0]])
W1, b1 = (sj.randn(2, 16) * 0.5).requires_grad_(), sj.zeros(16, requires_grad=True)
W2, b2 = (sj.randn(16, 1) * 0.5).requires_grad_(), sj.zeros(1, requires_grad=True)
for _ in range(2000):
    loss = (((X @ W1 + b1).tanh() @ W2 + b2).sigmoid() - y).square().mean()  # forward: build the graph
    loss.backward()                                                          # backward: fill .grad
    with sj.no_grad():                                                       # gradient descent step
        for p in (W1, b1, W2, b2):
            p -= 1.0 * p.grad
            p.grad = None
print(f"loss {loss.item():.4f}  predictions {((X @ W1 + b1).tanh() @ W2 + b2).sigmoid().detach().numpy().round(2).ravel()}")
