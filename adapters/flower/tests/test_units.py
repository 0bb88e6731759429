"""Unit tests: aggregation, FedProx term, recency weighting, DP, model layout."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server.strategy import FedAvg

from .conftest import REPO  # noqa: F401  (puts the repo on sys.path)
from adapters.flower import dp
from adapters.flower import model as M
from adapters.flower.data import load_jsonl, split, write_synthetic
from adapters.flower.strategies import RecencyFedAvg, make_strategy, recency_factor, weighted_mean


class Proxy:
    def __init__(self, cid):
        self.cid = cid


def fit_res(arrays, n, client_id=None):
    metrics = {"client_id": client_id} if client_id else {}
    return FitRes(status=Status(code=Code.OK, message=""), parameters=ndarrays_to_parameters(arrays),
                  num_examples=n, metrics=metrics)


def client_arrays(seed, spec=M.MLPSpec(in_dim=13, hidden=8)):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in spec.shapes()]


def test_fedavg_aggregate_is_example_weighted_mean_of_updates():
    g = client_arrays(0)
    updates = [client_arrays(s) for s in (1, 2, 3)]
    ns = [10, 30, 60]
    locals_ = [[gi + ui for gi, ui in zip(g, u)] for u in updates]
    results = [(Proxy(str(i)), fit_res(w, n)) for i, (w, n) in enumerate(zip(locals_, ns))]
    for strategy in (FedAvg(accept_failures=True), make_strategy("fedprox", mu=0.1, accept_failures=True),
                     FedAvg(inplace=False)):
        params, _ = strategy.aggregate_fit(1, results, [])
        got = parameters_to_ndarrays(params)
        for k in range(4):
            want = g[k].astype(np.float64) + sum(n * u[k].astype(np.float64) for n, u in zip(ns, updates)) / sum(ns)
            np.testing.assert_allclose(got[k], want, rtol=0, atol=1e-6)
    # our helper agrees with Flower's
    ours = weighted_mean(locals_, ns)
    for a, b in zip(ours, got):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_fedavg_accepts_failures():
    results = [(Proxy("a"), fit_res(client_arrays(1), 5))]
    params, _ = FedAvg(accept_failures=True).aggregate_fit(2, results, [RuntimeError("client went away")])
    assert params is not None
    params, _ = FedAvg(accept_failures=False).aggregate_fit(2, results, [RuntimeError("client went away")])
    assert params is None


def test_fedprox_client_loss_includes_proximal_term():
    rng = np.random.default_rng(5)
    spec = M.MLPSpec(in_dim=13, hidden=8)
    w = M.init_params(spec, 1)
    g = M.init_params(spec, 2)
    x = rng.standard_normal((20, 13))
    y = rng.integers(0, 3, 20)
    mu = 0.7
    plain, grads0 = M.loss_and_grads(w, x, y, "tanh")
    prox, grads = M.loss_and_grads(w, x, y, "tanh", global_params=g, mu=mu)
    sq = sum(float(np.sum((a.astype(np.float64) - b.astype(np.float64)) ** 2)) for a, b in zip(w, g))
    assert prox == pytest.approx(plain + mu / 2 * sq, rel=1e-12)
    for gr, gr0, a, b in zip(grads, grads0, w, g):
        np.testing.assert_allclose(gr, gr0 + mu * (a.astype(np.float64) - b), atol=1e-12)
    # finite-difference check of the full (CE + proximal) gradient on a few coordinates
    w64 = [p.astype(np.float64) for p in w]
    for k, idx in ((0, (3, 2)), (1, (4,)), (2, (5, 1)), (3, (2,))):
        e = 1e-6
        wp = [p.copy() for p in w64]
        wm = [p.copy() for p in w64]
        wp[k][idx] += e
        wm[k][idx] -= e
        num = (M.loss_and_grads(wp, x, y, "tanh", g, mu)[0] - M.loss_and_grads(wm, x, y, "tanh", g, mu)[0]) / (2 * e)
        assert num == pytest.approx(grads[k][idx], rel=1e-5, abs=1e-8)


def test_fedprox_client_uses_proximal_mu_from_config(tmp_path):
    from adapters.flower.client import make_client

    path = write_synthetic(str(tmp_path / "d.jsonl"), 200, seed=3)
    x, y = load_jsonl(path)
    args = argparse.Namespace(client_id="c", data=path, epochs=3, lr=0.1, seed=0, batch_size=16, die_in_round=0)
    client = make_client(args, x, y, x[:0], y[:0])
    g = M.init_params(M.MLPSpec(), 0)
    dist = {}
    for mu in (0.0, 2.0):
        new, n, metrics = client.fit(g, {"server_round": 1, "proximal_mu": mu, "activation": "tanh"})
        assert n == 200 and metrics["proximal_mu"] == mu
        dist[mu] = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(new, g)))
        assert np.isfinite(metrics["loss"])
    # the proximal pull keeps the local model closer to the global one
    assert dist[2.0] < dist[0.0] * 0.8, dist


def test_recency_factor_and_weights():
    assert recency_factor(0, 2) == 1.0
    assert recency_factor(2, 2) == pytest.approx(0.5)
    assert recency_factor(4, 2) == pytest.approx(0.25)
    assert recency_factor(1, 1) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        recency_factor(1, 0)


def test_recency_strategy_weights_by_examples_times_recency():
    s = RecencyFedAvg(half_life=2.0, accept_failures=True)
    a, b, c = client_arrays(1), client_arrays(2), client_arrays(3)
    # round 1: a and b are new (age 1 each) -> plain example weighting
    p1, m1 = s.aggregate_fit(1, [(Proxy("x1"), fit_res(a, 10, "A")), (Proxy("x2"), fit_res(b, 30, "B"))], [])
    for got, ai, bi in zip(parameters_to_ndarrays(p1), a, b):
        np.testing.assert_allclose(got, (10 * ai.astype(np.float64) + 30 * bi) / 40, atol=1e-6)
    assert s.last_round == {"A": 1, "B": 1} and m1["max_age"] == 1
    # round 2: only A; round 3: A (age 1) and B (last seen round 1 -> age 2) and C (new, age 1)
    s.aggregate_fit(2, [(Proxy("x1"), fit_res(a, 10, "A"))], [])
    p3, m3 = s.aggregate_fit(3, [(Proxy("x1"), fit_res(a, 10, "A")), (Proxy("x2"), fit_res(b, 30, "B")),
                                 (Proxy("x3"), fit_res(c, 20, "C"))], [])
    wa, wb, wc = 10 * 0.5 ** (1 / 2), 30 * 0.5 ** (2 / 2), 20 * 0.5 ** (1 / 2)
    tot = wa + wb + wc
    for got, ai, bi, ci in zip(parameters_to_ndarrays(p3), a, b, c):
        np.testing.assert_allclose(got, (wa * ai.astype(np.float64) + wb * bi + wc * ci) / tot, atol=1e-6)
    assert s.last_weights == pytest.approx({"A": wa / tot, "B": wb / tot, "C": wc / tot})
    assert m3["max_age"] == 2 and s.last_round == {"A": 3, "B": 3, "C": 3}


def test_dp_sigma_clip_and_accounting():
    import math

    assert dp.gaussian_sigma(1.0, 1e-5, 2.0) == pytest.approx(2.0 * math.sqrt(2 * math.log(1.25e5)))
    assert dp.spent(0.5, 1e-5, 4) == pytest.approx((2.0, 4e-5))
    g = [np.zeros((3, 2), np.float32), np.zeros(2, np.float32)]
    local = [np.full((3, 2), 3.0, np.float32), np.full(2, 4.0, np.float32)]
    out, norm = dp.privatize(local, g, clip=1.0, sigma=0.0, rng=np.random.default_rng(0))
    assert norm == pytest.approx(math.sqrt(6 * 9 + 2 * 16))
    assert math.sqrt(sum(float(np.sum(o.astype(np.float64) ** 2)) for o in out)) == pytest.approx(1.0, rel=1e-6)
    noisy, _ = dp.privatize(local, g, clip=1.0, sigma=0.1, rng=np.random.default_rng(0))
    assert not np.allclose(noisy[0], out[0])
    with pytest.raises(ValueError):
        dp.gaussian_sigma(0, 1e-5, 1)


def test_safetensors_layout_roundtrip(tmp_path):
    from safetensors.numpy import load_file

    spec = M.MLPSpec(in_dim=13, hidden=32, activation="tanh", prefix="mlp", name="fl")
    p = M.init_params(spec, 7)
    path = str(tmp_path / "m.safetensors")
    sha, size = M.save_safetensors(path, spec, p)
    assert sha == M.sha256_file(path) and size == (tmp_path / "m.safetensors").stat().st_size
    t = load_file(path)
    assert {k: (v.shape, v.dtype) for k, v in t.items()} == {
        "mlp.w1": ((13, 32), np.float32), "mlp.b1": ((32,), np.float32),
        "mlp.w2": ((32, 3), np.float32), "mlp.b2": ((3,), np.float32)}
    spec2, p2 = M.load_safetensors(path, "mlp")
    assert (spec2.in_dim, spec2.hidden, spec2.activation, spec2.name) == (13, 32, "tanh", "fl")
    for a, b in zip(p, p2):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        M.save_safetensors(path, spec, p[:3])


def test_label_mapping_follows_engine_action_order():
    # hotpath/decide: ActionBuy = 0, ActionSell = 1, ActionHold = 2
    assert list(M.labels_to_classes([1, -1, 0])) == [0, 1, 2]
    assert M.ACTION_NAMES == ("buy", "sell", "hold")
    with pytest.raises(ValueError):
        M.labels_to_classes([2])


def test_data_loader_and_split(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({"features": [i] * 13, "label": [-1, 0, 1][i % 3]}) for i in range(10)) + "\n\n")
    x, y = load_jsonl(str(path))
    assert x.shape == (10, 13) and list(y[:3]) == [1, 2, 0]
    (xt, yt), (xv, yv) = split(x, y, 0.2)
    assert len(yt) == 8 and len(yv) == 2 and xv[0, 0] == 8
    path.write_text('{"features": [1, 2], "label": 0}\n{"features": [1], "label": 0}\n')
    with pytest.raises(ValueError, match=":2:"):
        load_jsonl(str(path))


def test_sgd_learns_synthetic_data(tmp_path):
    x, y = load_jsonl(write_synthetic(str(tmp_path / "d.jsonl"), 600, seed=1))
    spec = M.MLPSpec()
    p = M.init_params(spec, 0)
    l0, _ = M.evaluate(p, x, y)
    p, _ = M.train_sgd(p, x, y, epochs=5, lr=0.1)
    l1, acc = M.evaluate(p, x, y)
    assert l1 < l0 * 0.7 and acc > 0.75
