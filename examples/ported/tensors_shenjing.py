# The PyTorch tutorial "Tensors" (Learn the Basics), with fixed data so the results can be compared
# (without the tutorial's out= forms: torch.matmul(a, b, out=y3), which shenjing does not take yet).
import json

import numpy as np
import shenjing as torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
x_ones = torch.ones_like(x_data)
x_rand = torch.rand_like(x_data, dtype=torch.float)
shape = (2, 3,)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
tensor = torch.rand(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
if torch.accelerator.is_available():
    tensor = tensor.to(torch.accelerator.current_accelerator())

tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
t1 = torch.cat([tensor, tensor, tensor], dim=1)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
z1 = tensor * tensor
z2 = tensor.mul(tensor)
agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
tensor.add_(5)
t = torch.ones(5)
n = t.numpy()
t.add_(1)
n2 = np.ones(5)
t2 = torch.from_numpy(n2)
np.add(n2, 1, out=n2)

print("RESULT " + json.dumps({
    "x_np": x_np.tolist(), "x_ones": x_ones.tolist(), "x_rand_shape": list(x_rand.shape), "x_rand_dtype": str(x_rand.dtype).split(".")[-1],
    "zeros": zeros_tensor.tolist(), "device": str(tensor.device), "t1_shape": list(t1.shape), "y1": y1.tolist(), "y2": y2.tolist(),
    "z1": z1.tolist(), "z2": z2.tolist(), "agg_item": agg_item, "agg_type": type(agg_item).__name__,
    "tensor": tensor.tolist(), "n": n.tolist(), "t2": t2.tolist(),
}))
