"""Seeded randomness for every test.

Each run draws a fresh session seed (or takes ``SHENJING_TEST_SEED=<n>``) and prints it in the header.
Before each test, the autouse ``seed`` fixture derives independent streams from (session seed, node id)
and seeds shenjing's global generator, torch's, NumPy's legacy global one, Python's ``random`` and, for a
hypothesis test, hypothesis; the ``rng`` fixture is a NumPy generator of the test's own. A failing test's
report ends with the command that replays it with the same inputs.
"""

import hashlib
import os
import random
import secrets
import sys
from pathlib import Path

import hypothesis
import numpy as np
import pytest
import torch

# Test modules are imported with --import-mode=importlib (test files in different folders may share
# a name, mirroring the package); the shared helpers (torch_compare, optim_helpers) live here.
sys.path.insert(0, str(Path(__file__).parent))

import shenjing as sj

SEED_ENV = "SHENJING_TEST_SEED"
# shenjing speaks Chinese where the locale is zh_*: the tests expect English unless they pass --lang zh
os.environ["LC_ALL"] = "C.UTF-8"
# never the network: a download goes to this closed local port unless a test serves a mirror of its own
os.environ["SHENJING_DATA_MIRROR"] = "http://127.0.0.1:9/"


def _session_seed() -> int:
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        return secrets.randbelow(2**32)
    if not value.isdigit():
        raise pytest.UsageError(f"{SEED_ENV} must be a non-negative integer, got {value!r}")
    return int(value)


SESSION_SEED = _session_seed()


def derive_seeds(nodeid: str, n: int) -> list[int]:
    """``n`` independent 63-bit seeds for the test ``nodeid`` in this session (NumPy's SeedSequence)."""
    digest = hashlib.sha256(nodeid.encode()).digest()
    key = [SESSION_SEED, *np.frombuffer(digest, dtype=np.uint32).tolist()]
    return [int(s) >> 1 for s in np.random.SeedSequence(key).generate_state(n, np.uint64)]


def replay_command(nodeid: str) -> str:
    """The shell command that runs the test ``nodeid`` again on the same inputs."""
    quoted = "'" + nodeid.replace("'", "'\\''") + "'"
    return f"{SEED_ENV}={SESSION_SEED} python -m pytest {quoted}"


def pytest_report_header(config) -> str:
    fixed = "fixed by " + SEED_ENV if os.environ.get(SEED_ENV, "").strip() else f"fresh; replay with {SEED_ENV}={SESSION_SEED}"
    return f"shenjing test seed: {SESSION_SEED} ({fixed})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        report.sections.append(("shenjing test seed", f"replay: {replay_command(item.nodeid)}"))
    return report


@pytest.fixture(autouse=True)
def seed(request) -> int:
    """This test's seed (an int for ``np.random.default_rng``); also seeds every global generator.

    shenjing, torch, NumPy's legacy global generator, ``random`` and hypothesis get independent streams."""
    own, s_sj, s_torch, s_global, s_hypothesis = derive_seeds(request.node.nodeid, 5)
    sj.manual_seed(s_sj)
    torch.manual_seed(s_torch)
    np.random.seed(s_global % 2**32)
    random.seed(s_global)
    fn = getattr(request, "function", None)
    if fn is not None and hypothesis.is_hypothesis_test(fn):
        hypothesis.seed(s_hypothesis)(fn)
    return own


@pytest.fixture
def rng(seed) -> np.random.Generator:
    """A NumPy generator seeded for this test (fresh each run, replayable with SHENJING_TEST_SEED)."""
    return np.random.default_rng(seed)
