"""One module per lab experiment (catalogue: docs/lab.md): ``EXPERIMENT`` (what it shows and its
checks), ``measure(ctx)`` and ``figures(ctx, m)`` — see ``shenjing.lab.core``; ``xor.py`` is a
short example."""
