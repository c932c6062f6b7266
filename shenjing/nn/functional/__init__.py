"""shenjing.nn.functional: the stateless forms of layers, activations and losses (like torch.nn.functional)."""
