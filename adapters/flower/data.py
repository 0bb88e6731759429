"""A site's training slice: JSON Lines, one window per line:

    {"features": [f0, ..., f12], "label": -1 | 0 | 1}

Blank lines are skipped; anything else malformed is an error naming the line.
The data never leaves the client process.
"""

from __future__ import annotations

import json

import numpy as np

from .model import labels_to_classes


def load_jsonl(path, expect_dim=None):
    """-> (features float64 [n, d], classes int64 [n]) with classes in the engine's action order."""
    feats, labels = [], []
    with open(path, "r", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
                x = [float(v) for v in obj["features"]]
                y = obj["label"]
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{i}: {e}") from None
            if feats and len(x) != len(feats[0]):
                raise ValueError(f"{path}:{i}: {len(x)} features, earlier lines have {len(feats[0])}")
            if expect_dim is not None and len(x) != expect_dim:
                raise ValueError(f"{path}:{i}: {len(x)} features, the model reads {expect_dim}")
            if not np.all(np.isfinite(x)):
                raise ValueError(f"{path}:{i}: non-finite feature")
            feats.append(x)
            labels.append(y)
    if not feats:
        raise ValueError(f"{path}: no windows")
    return np.asarray(feats, np.float64), labels_to_classes(labels)


def split(x, classes, val_fraction=0.2):
    """Deterministic split: the last val_fraction of the windows (in file order, i.e. the
    most recent) is the local validation set; at least one window stays for training."""
    n = len(classes)
    nv = min(int(round(n * val_fraction)), n - 1)
    return (x[: n - nv], classes[: n - nv]), (x[n - nv:], classes[n - nv:])


def write_synthetic(path, n, seed, dim=13, shift=0.0, noise=0.3, hold_band=0.3):
    """Learnable synthetic windows: score = 3·x·w/√dim + noise with one shared w,
    label = sign(score), |score| < hold_band -> 0 (hold). Each client draws x around
    its own mean (`shift` along a client-specific direction), so feature and label
    distributions differ per client (non-IID) while the concept is shared."""
    rng = np.random.default_rng(seed)
    w = np.linspace(-1.0, 1.0, dim)
    direction = rng.standard_normal(dim)
    direction /= np.linalg.norm(direction)
    x = rng.standard_normal((n, dim)) + shift * direction
    score = 3.0 * (x @ w) / np.sqrt(dim) + noise * rng.standard_normal(n)
    label = np.where(score > hold_band, 1, np.where(score < -hold_band, -1, 0))
    with open(path, "w", encoding="utf-8") as f:
        for xi, yi in zip(x, label):
            f.write(json.dumps({"features": [round(float(v), 6) for v in xi], "label": int(yi)}) + "\n")
    return path
