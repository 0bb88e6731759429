"""Client-side differential privacy of model updates.

Each round a client clips its update u = w_local − w_global (all tensors as one
vector) to L2 norm <= clip and adds N(0, sigma² I) with the classic Gaussian
mechanism's sigma for sensitivity `clip`:

    sigma = clip · sqrt(2 ln(1.25/delta)) / epsilon        (per round)

(Dwork & Roth, Thm. A.1; the bound is proven for epsilon <= 1 — larger values
are accepted but the guarantee is then only nominal.) The privacy unit is a
client's whole update in one round (user-level, local DP). Accounting is
simple (basic) composition: after R rounds a client that took part in all of
them has spent (R·epsilon, R·delta). No RDP/moments accountant is used.
"""

from __future__ import annotations

import math

import numpy as np


def gaussian_sigma(epsilon: float, delta: float, clip: float) -> float:
    if not (epsilon > 0 and 0 < delta < 1 and clip > 0):
        raise ValueError("dp: want epsilon > 0, 0 < delta < 1, clip > 0")
    return clip * math.sqrt(2.0 * math.log(1.25 / delta)) / epsilon


def spent(epsilon: float, delta: float, rounds: int) -> tuple[float, float]:
    """Budget after `rounds` participations under basic composition."""
    return epsilon * rounds, min(1.0, delta * rounds)


def privatize(local, global_, clip: float, sigma: float, rng: np.random.Generator):
    """Clip (local − global) to L2 norm clip, add Gaussian noise, return
    (global + noisy clipped update as float32 tensors, pre-clip norm)."""
    upd = [np.asarray(l, np.float64) - np.asarray(g, np.float64) for l, g in zip(local, global_)]
    norm = math.sqrt(sum(float(np.sum(u * u)) for u in upd))
    scale = min(1.0, clip / norm) if norm > 0 else 1.0
    out = []
    for u, g in zip(upd, global_):
        noisy = u * scale + rng.normal(0.0, sigma, size=u.shape)
        out.append((np.asarray(g, np.float64) + noisy).astype(np.float32))
    return out, norm
