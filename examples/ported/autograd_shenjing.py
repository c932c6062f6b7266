# The PyTorch tutorial "Automatic Differentiation with torch.autograd"; w and b from a seeded NumPy
# generator (the same numbers in both frameworks) instead of torch.randn.
import json

import numpy as np
import shenjing as torch

rng = np.random.default_rng(0)
x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.tensor(rng.normal(size=(5, 3)), dtype=torch.float32, requires_grad=True)
b = torch.tensor(rng.normal(size=3), dtype=torch.float32, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
loss.backward()
print(w.grad)
print(b.grad)

z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
first = inp.grad.clone()
out.backward(torch.ones_like(out), retain_graph=True)
second = inp.grad.clone()
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)

print("RESULT " + json.dumps({
    "loss": loss.item(), "w_grad": w.grad.tolist(), "b_grad": b.grad.tolist(), "no_grad_requires_grad": z.requires_grad,
    "detached_requires_grad": z_det.requires_grad, "first": first.tolist(), "second": second.tolist(), "after_zero": inp.grad.tolist(),
}))
