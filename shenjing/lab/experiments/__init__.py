"""One module per lab experiment (catalogue: docs/lab.md)."""
