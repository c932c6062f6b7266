"""The playground's 2-D data sets, as TensorFlow Playground makes them (500 points in [−6, 6]²,
labels ±1 for classification, targets in [−1, 1] for regression), seeded; and CSV data of one's own."""

from __future__ import annotations

import math

from ..backend import xp as np

N_POINTS = 500
RADIUS = 6.0  # the heat maps' domain: [−6, 6]²
CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "xor-corners")
REGRESSION = ("reg-plane", "reg-gauss")


def _circle(r, n, noise):
    radius = 5.0

    def ring(lo, hi):
        rr, a = r.uniform(lo, hi, n // 2), r.uniform(0, 2 * math.pi, n // 2)
        x, y = rr * np.sin(a), rr * np.cos(a)
        nx, ny = r.uniform(-radius, radius, n // 2) * noise, r.uniform(-radius, radius, n // 2) * noise
        label = np.where(np.hypot(x + nx, y + ny) < radius * 0.5, 1.0, -1.0)
        return np.stack([x, y], 1), label

    (a, la), (b, lb) = ring(0, radius * 0.5), ring(radius * 0.7, radius)
    return np.concatenate([a, b]), np.concatenate([la, lb])


def _xor(r, n, noise):
    x, y = r.uniform(-5, 5, n), r.uniform(-5, 5, n)
    x, y = x + np.where(x > 0, 0.3, -0.3), y + np.where(y > 0, 0.3, -0.3)
    nx, ny = r.uniform(-5, 5, n) * noise, r.uniform(-5, 5, n) * noise
    return np.stack([x, y], 1), np.where((x + nx) * (y + ny) >= 0, 1.0, -1.0)


def _gauss(r, n, noise):
    sd = math.sqrt(0.5 + noise / 0.5 * 3.5)  # variance 0.5 … 4 as noise goes 0 … 0.5
    pts = [r.normal(c, sd, (n // 2, 2)) for c in (2.0, -2.0)]
    return np.concatenate(pts), np.concatenate([np.ones(n // 2), -np.ones(n // 2)])


def _spiral(r, n, noise):
    m = n // 2
    i = np.arange(m)
    parts, labels = [], []
    for delta, label in ((0.0, 1.0), (math.pi, -1.0)):
        rr, t = i / m * 5, 1.75 * i / m * 2 * math.pi + delta
        parts.append(np.stack([rr * np.sin(t) + r.uniform(-1, 1, m) * noise, rr * np.cos(t) + r.uniform(-1, 1, m) * noise], 1))
        labels.append(np.full(m, label))
    return np.concatenate(parts), np.concatenate(labels)


def _xor_corners(r, n, noise):
    """The notes' XOR (Xu §1.1.3, §1.12; Wang 三): the truth table's four inputs, as clouds around
    (±3.5, ±3.5); label +1 where the two inputs agree (x₁x₂ > 0), −1 where they differ."""
    corners = np.array([[3.5, 3.5], [-3.5, -3.5], [3.5, -3.5], [-3.5, 3.5]])
    k = r.integers(0, 4, n)
    X = corners[k] + r.normal(0, 0.6 + 3 * noise, (n, 2))
    return X, np.where(k < 2, 1.0, -1.0)


def _regression(r, n, noise, target):
    x, y = r.uniform(-RADIUS, RADIUS, n), r.uniform(-RADIUS, RADIUS, n)
    nx, ny = r.uniform(-RADIUS, RADIUS, n) * noise, r.uniform(-RADIUS, RADIUS, n) * noise
    return np.stack([x, y], 1), target(x + nx, y + ny)


def _plane(x, y):
    return np.clip((x + y) / 10, -1, 1)


def _gaussians(x, y):
    out = np.zeros_like(x)
    for cx, cy, sign in ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)):
        v = sign * np.clip(1 - np.hypot(x - cx, y - cy) / 2, 0, 1)
        out = np.where(np.abs(v) > np.abs(out), v, out)
    return out


def make(name: str, noise: float, seed: int, n: int = N_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 2) and labels (n,) of data set ``name``; ``noise`` in [0, 0.5] as in TF Playground."""
    r = np.random.default_rng(seed)
    makers = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "xor-corners": _xor_corners,
              "reg-plane": lambda r, n, noise: _regression(r, n, noise, _plane),
              "reg-gauss": lambda r, n, noise: _regression(r, n, noise, _gaussians)}
    X, y = makers[name](r, n, noise)
    return X.astype(np.float32), y.astype(np.float32)


def split(X: np.ndarray, y: np.ndarray, perc_train: int, seed: int) -> tuple:
    """Shuffled, then the first ``perc_train`` % for training (TF Playground's split)."""
    order = np.random.default_rng(seed + 1).permutation(len(X))
    k = max(1, min(len(X) - 1, round(len(X) * perc_train / 100)))
    return X[order[:k]], y[order[:k]], X[order[k:]], y[order[k:]]


class CSVError(ValueError):
    """A CSV of points that cannot be used (the message says why and where)."""


MAX_CSV_BYTES = 1 << 20
MAX_CSV_ROWS = 5000


def parse_csv(text: str, problem: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``x1,x2,label`` (a header line is allowed); labels ±1 or 0/1 for classification, a
    number in [−1, 1] for regression; coordinates within [−6, 6]."""
    if len(text.encode()) > MAX_CSV_BYTES:
        raise CSVError(f"the CSV is larger than {MAX_CSV_BYTES // 1024} KB")
    rows = [line.strip() for line in text.splitlines() if line.strip()]
    if rows and not _numeric(rows[0].split(",")[0]):
        rows = rows[1:]  # a header
    if not 4 <= len(rows) <= MAX_CSV_ROWS:
        raise CSVError(f"the CSV needs between 4 and {MAX_CSV_ROWS} rows of x1,x2,label; it has {len(rows)}")
    data = []
    for i, row in enumerate(rows, 1):
        cells = row.split(",")
        if len(cells) != 3 or not all(_numeric(c) for c in cells):
            raise CSVError(f"row {i}: expected three numbers x1,x2,label, got {row[:60]!r}")
        data.append([float(c) for c in cells])
    a = np.asarray(data, dtype=np.float64)
    if not np.isfinite(a).all() or np.abs(a[:, :2]).max() > RADIUS:
        raise CSVError(f"coordinates must be finite numbers within [−{RADIUS:g}, {RADIUS:g}]")
    labels = a[:, 2]
    if problem == "classification":
        if set(np.unique(labels)) <= {0.0, 1.0}:
            labels = labels * 2 - 1
        if not set(np.unique(labels)) <= {-1.0, 1.0}:
            raise CSVError("classification labels must be −1/1 or 0/1")
    elif np.abs(labels).max() > 1:
        raise CSVError("regression targets must lie in [−1, 1]")
    return a[:, :2].astype(np.float32), labels.astype(np.float32)


def _numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
