"""The engine's MLP expert as a numpy model.

Layout (must match adapters/safetensors/mlp.go and hotpath/expert/mlp.go):

    <prefix>.w1  float32 [in, hidden]   y = act(x @ w1 + b1) @ w2 + b2
    <prefix>.b1  float32 [hidden]
    <prefix>.w2  float32 [hidden, 3]
    <prefix>.b2  float32 [3]
    __metadata__: <prefix>.activation = relu|tanh, <prefix>.role = head,
                  <prefix>.name = <name>

The output is an action head: 3 logits in the engine's action order
(hotpath/decide: ActionBuy = 0, ActionSell = 1, ActionHold = 2); the engine
takes softmax over them. A window's label (sign of the next return) maps to
a class: +1 -> buy (0), -1 -> sell (1), 0 -> hold (2).

Training is softmax cross-entropy with plain minibatch SGD in float64; the
parameters exchanged with Flower and written to disk are float32.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass

import numpy as np

TENSOR_SUFFIXES = ("w1", "b1", "w2", "b2")
NUM_ACTIONS = 3
ACTION_NAMES = ("buy", "sell", "hold")  # index = engine action code
LABEL_TO_CLASS = {1: 0, -1: 1, 0: 2}


def labels_to_classes(labels) -> np.ndarray:
    """Map labels in {-1, 0, 1} to engine action classes (buy 0, sell 1, hold 2)."""
    out = np.empty(len(labels), dtype=np.int64)
    for i, y in enumerate(labels):
        try:
            out[i] = LABEL_TO_CLASS[int(y)]
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"label {y!r} at index {i}: want -1, 0 or 1") from None
    return out


@dataclass
class MLPSpec:
    in_dim: int = 13
    hidden: int = 32
    activation: str = "tanh"  # relu | tanh
    prefix: str = "mlp"
    name: str = ""

    def __post_init__(self):
        if self.activation not in ("relu", "tanh"):
            raise ValueError(f"activation {self.activation!r}: want relu or tanh")
        if self.in_dim < 1 or self.hidden < 1:
            raise ValueError("in_dim and hidden must be >= 1")

    def shapes(self):
        return [(self.in_dim, self.hidden), (self.hidden,), (self.hidden, NUM_ACTIONS), (NUM_ACTIONS,)]

    def names(self):
        return [f"{self.prefix}.{s}" for s in TENSOR_SUFFIXES]


def init_params(spec: MLPSpec, seed: int = 0) -> list[np.ndarray]:
    """W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases 0 (the engine's SeedWeights scheme,
    with numpy's generator instead of SplitMix64)."""
    rng = np.random.default_rng(seed)
    a1, a2 = 1 / np.sqrt(spec.in_dim), 1 / np.sqrt(spec.hidden)
    return [
        rng.uniform(-a1, a1, (spec.in_dim, spec.hidden)).astype(np.float32),
        np.zeros(spec.hidden, np.float32),
        rng.uniform(-a2, a2, (spec.hidden, NUM_ACTIONS)).astype(np.float32),
        np.zeros(NUM_ACTIONS, np.float32),
    ]


def _act(z, activation):
    return np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0)


def _act_grad(z, h, activation):
    return 1.0 - h * h if activation == "tanh" else (z > 0).astype(z.dtype)


def forward(params, x, activation="tanh"):
    """Logits (n, 3) for inputs x (n, in)."""
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in params)
    h = _act(np.asarray(x, np.float64) @ w1 + b1, activation)
    return h @ w2 + b2


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def prox_term(params, global_params, mu) -> float:
    """mu/2 * ||w - w_global||^2 over all tensors (0 when mu == 0 or no global)."""
    if not mu or global_params is None:
        return 0.0
    return 0.5 * mu * float(sum(np.sum((np.asarray(p, np.float64) - np.asarray(g, np.float64)) ** 2)
                                for p, g in zip(params, global_params)))


def loss_and_grads(params, x, classes, activation="tanh", global_params=None, mu=0.0):
    """Mean softmax cross-entropy (+ FedProx proximal term mu/2·||w − w_global||²)
    and its gradients with respect to [w1, b1, w2, b2]."""
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in params)
    x = np.asarray(x, np.float64)
    n = x.shape[0]
    z1 = x @ w1 + b1
    h = _act(z1, activation)
    logits = h @ w2 + b2
    logp = _log_softmax(logits)
    loss = -float(logp[np.arange(n), classes].mean())
    d = np.exp(logp)
    d[np.arange(n), classes] -= 1.0
    d /= n
    gw2 = h.T @ d
    gb2 = d.sum(axis=0)
    dz1 = (d @ w2.T) * _act_grad(z1, h, activation)
    gw1 = x.T @ dz1
    gb1 = dz1.sum(axis=0)
    grads = [gw1, gb1, gw2, gb2]
    if mu and global_params is not None:
        loss += prox_term(params, global_params, mu)
        grads = [g + mu * (np.asarray(p, np.float64) - np.asarray(gp, np.float64))
                 for g, p, gp in zip(grads, params, global_params)]
    return loss, grads


def evaluate(params, x, classes, activation="tanh"):
    """(mean cross-entropy, accuracy) of params on (x, classes)."""
    if len(classes) == 0:
        return 0.0, 0.0
    logp = _log_softmax(forward(params, x, activation))
    loss = -float(logp[np.arange(len(classes)), classes].mean())
    acc = float((logp.argmax(axis=1) == classes).mean())
    return loss, acc


def train_sgd(params, x, classes, *, epochs=1, lr=0.1, batch_size=32, seed=0,
              activation="tanh", global_params=None, mu=0.0):
    """Plain minibatch SGD. Returns (new float32 params, mean loss of the last epoch
    including the proximal term)."""
    rng = np.random.default_rng(seed)
    w = [np.asarray(p, np.float64).copy() for p in params]
    g0 = None if global_params is None else [np.asarray(p, np.float64) for p in global_params]
    n = len(classes)
    last = 0.0
    for _ in range(max(1, epochs)):
        order = rng.permutation(n)
        tot, cnt = 0.0, 0
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            loss, grads = loss_and_grads(w, x[idx], classes[idx], activation, g0, mu)
            for p, g in zip(w, grads):
                p -= lr * g
            tot += loss * len(idx)
            cnt += len(idx)
        last = tot / max(cnt, 1)
    return [p.astype(np.float32) for p in w], last


def check_params(spec: MLPSpec, params) -> None:
    if len(params) != 4:
        raise ValueError(f"{len(params)} tensors, want 4 (w1, b1, w2, b2)")
    for name, p, shape in zip(spec.names(), params, spec.shapes()):
        if tuple(np.shape(p)) != tuple(shape):
            raise ValueError(f"{name}: shape {tuple(np.shape(p))}, want {tuple(shape)}")
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{name}: non-finite values")


def save_safetensors(path, spec: MLPSpec, params, extra_metadata=None) -> tuple[str, int]:
    """Write params as <prefix>.{w1,b1,w2,b2} float32 with the engine's metadata,
    atomically (temp file + rename). Returns (sha256 hex, size in bytes)."""
    from safetensors.numpy import save

    check_params(spec, params)
    tensors = {n: np.ascontiguousarray(p, dtype=np.float32) for n, p in zip(spec.names(), params)}
    meta = {
        f"{spec.prefix}.activation": spec.activation,
        f"{spec.prefix}.role": "head",
        f"{spec.prefix}.name": spec.name or spec.prefix,
    }
    for k, v in (extra_metadata or {}).items():
        meta[str(k)] = str(v)
    data = save(tensors, metadata=meta)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return hashlib.sha256(data).hexdigest(), len(data)


def load_safetensors(path, prefix="mlp"):
    """Read an MLP (any float dtype) -> (MLPSpec, float32 params)."""
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
        params = [np.asarray(f.get_tensor(f"{prefix}.{s}"), np.float32) for s in TENSOR_SUFFIXES]
    w1, _, w2, _ = params
    if w1.ndim != 2 or w2.ndim != 2 or w2.shape[1] != NUM_ACTIONS:
        raise ValueError(f"{path}: {prefix}.w1 {w1.shape} / {prefix}.w2 {w2.shape}: want [in, hidden] / [hidden, 3]")
    spec = MLPSpec(in_dim=w1.shape[0], hidden=w1.shape[1],
                   activation=meta.get(f"{prefix}.activation", "relu"), prefix=prefix,
                   name=meta.get(f"{prefix}.name", prefix))
    check_params(spec, params)
    return spec, params


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
