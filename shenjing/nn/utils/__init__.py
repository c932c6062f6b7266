"""nn.utils: gradient clipping, parameter counting and other helpers."""
