"""Random number generation (随机数): one global generator plus ``Generator`` objects.

A seeded run repeats bit for bit: every random source of shenjing draws from a Generator.
"""

from __future__ import annotations

from .backend import xp

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed


class Generator:
    """A seeded stream of random numbers (torch.Generator; NumPy's PCG64 underneath)."""

    def __init__(self, device: str = "cpu") -> None:
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.rng = xp.random.Generator(xp.random.PCG64(self._seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self) -> int:
        s = int(xp.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The full state, JSON-serialisable (for checkpoints)."""
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        self._seed = state["seed"]
        self.rng = xp.random.Generator(xp.random.PCG64())
        self.rng.bit_generator.state = state["bit_generator"]
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (torch.manual_seed)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def rng(generator: Generator | None = None):
    """The NumPy generator behind ``generator`` (or the global one)."""
    return (generator or default_generator).rng


def uniform_values(gen, low: float, high: float, shape, dtype):
    """U[low, high) drawn in float64 and stored in ``dtype``; a draw that rounds up to ``high`` in
    ``dtype`` is moved just below it, so the bound is never reached (as PyTorch's)."""
    values = gen.uniform(low, high, shape).astype(dtype)
    if values.dtype.kind == "f" and high > low:
        xp.minimum(values, xp.nextafter(values.dtype.type(high), values.dtype.type(low)), out=values)
    return values
