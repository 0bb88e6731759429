"""Aggregation strategies: Flower's FedAvg and FedProx, and RecencyFedAvg.

RecencyFedAvg (--strategy custom) is FedAvg with each client's result weighted by

    weight_i = num_examples_i · 0.5 ** (age_i / half_life)

where age_i = server_round − (the last earlier round in which client i's update was
aggregated). A client seen for the first time counts as having taken part in the
previous round (age 1). So clients that take part every round all get the same
factor 0.5^(1/half_life) (FedAvg's weights), and a client returning after k rounds
of absence is down-weighted by 0.5^(k/half_life) relative to them. Clients are
identified by the --client-id they report (fit metric "client_id"), falling back to
Flower's per-connection id. Weights are normalised to sum 1.
"""

from __future__ import annotations

import numpy as np
from flwr.common import FitRes, Parameters, Scalar, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import FedAvg, FedProx


def weighted_mean(arrays_per_client, weights):
    """sum_i w_i·A_i / sum_i w_i for each tensor position (float64 math, float32 out)."""
    w = np.asarray(weights, np.float64)
    if len(arrays_per_client) == 0 or w.sum() <= 0:
        raise ValueError("weighted_mean: no clients or zero total weight")
    w = w / w.sum()
    out = []
    for k in range(len(arrays_per_client[0])):
        acc = sum(wi * np.asarray(a[k], np.float64) for wi, a in zip(w, arrays_per_client))
        out.append(np.asarray(acc, np.float32))
    return out


def recency_factor(age, half_life):
    if half_life <= 0:
        raise ValueError("half_life must be > 0")
    return 0.5 ** (float(age) / float(half_life))


def weighted_metrics(pairs):
    """Example-weighted mean of numeric metrics [(num_examples, {k: v})]."""
    tot = sum(n for n, _ in pairs)
    out = {}
    if tot <= 0:
        return out
    keys = {k for _, m in pairs for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    for k in keys:
        num = sum(n * float(m[k]) for n, m in pairs if k in m and isinstance(m[k], (int, float)))
        den = sum(n for n, m in pairs if k in m and isinstance(m[k], (int, float)))
        if den > 0:
            out[k] = num / den
    return out


def client_key(proxy, fit_res):
    cid = fit_res.metrics.get("client_id") if fit_res.metrics else None
    return str(cid) if cid else str(proxy.cid)


class RecencyFedAvg(FedAvg):
    """FedAvg weighted by examples × 0.5^(age/half_life); see the module doc."""

    def __init__(self, *, half_life: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        if half_life <= 0:
            raise ValueError("half_life must be > 0")
        self.half_life = float(half_life)
        self.last_round: dict[str, int] = {}
        self.last_weights: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"RecencyFedAvg(half_life={self.half_life}, accept_failures={self.accept_failures})"

    def recency_weights(self, server_round, keys, num_examples):
        ages = [server_round - self.last_round.get(k, server_round - 1) for k in keys]
        return [n * recency_factor(a, self.half_life) for n, a in zip(num_examples, ages)], ages

    def aggregate_fit(self, server_round: int, results: list[tuple[ClientProxy, FitRes]],
                      failures) -> tuple[Parameters | None, dict[str, Scalar]]:
        if not results:
            return None, {}
        if not self.accept_failures and failures:
            return None, {}
        keys = [client_key(p, r) for p, r in results]
        weights, ages = self.recency_weights(server_round, keys, [r.num_examples for _, r in results])
        arrays = [parameters_to_ndarrays(r.parameters) for _, r in results]
        agg = weighted_mean(arrays, weights)
        tot = sum(weights)
        self.last_weights = {k: w / tot for k, w in zip(keys, weights)}
        for k in keys:
            self.last_round[k] = server_round
        metrics = {}
        if self.fit_metrics_aggregation_fn:
            metrics = self.fit_metrics_aggregation_fn([(r.num_examples, r.metrics) for _, r in results])
        metrics["max_age"] = max(ages)
        return ndarrays_to_parameters(agg), metrics


def make_strategy(name, *, mu=0.1, half_life=2.0, **common):
    """fedavg -> flwr FedAvg, fedprox -> flwr FedProx(proximal_mu=mu), custom -> RecencyFedAvg."""
    if name == "fedavg":
        return FedAvg(**common)
    if name == "fedprox":
        return FedProx(proximal_mu=mu, **common)
    if name == "custom":
        return RecencyFedAvg(half_life=half_life, **common)
    raise ValueError(f"strategy {name!r}: want fedavg, fedprox or custom")
