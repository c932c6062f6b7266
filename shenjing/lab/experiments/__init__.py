"""One module per lab experiment (SPEC §5); each registers itself with ``@experiment``."""
