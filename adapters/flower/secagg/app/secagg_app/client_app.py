"""ClientApp: one SuperNode = one site. The site's data file and name come from the
SuperNode's --node-config (data="...", client-id="..."); the data never leaves it.
The fit result goes through flwr's secaggplus_mod (SecAgg+ masking)."""

from __future__ import annotations

import numpy as np
from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.common import Context

from .common import import_repo


class MLPClient(NumPyClient):
    def __init__(self, client_id, xt, yt, xv, yv, epochs, lr, batch_size, seed):
        self.client_id = client_id
        self.xt, self.yt, self.xv, self.yv = xt, yt, xv, yv
        self.epochs, self.lr, self.batch_size, self.seed = epochs, lr, batch_size, seed

    def _check(self, params):
        if params[0].shape[0] != self.xt.shape[1]:
            raise ValueError(f"model reads {params[0].shape[0]} features, data has {self.xt.shape[1]}")

    def fit(self, parameters, config):
        from adapters.flower import model as M

        self._check(parameters)
        rnd = int(config.get("server_round", 0))
        g = [np.asarray(p) for p in parameters]
        new, loss = M.train_sgd(g, self.xt, self.yt, epochs=self.epochs, lr=self.lr,
                                batch_size=self.batch_size, seed=self.seed * 1000 + rnd,
                                activation=str(config.get("activation", "tanh")))
        return new, int(len(self.yt)), {"client_id": self.client_id, "loss": float(loss)}

    def evaluate(self, parameters, config):
        from adapters.flower import model as M

        self._check(parameters)
        xs, ys = (self.xv, self.yv) if len(self.yv) else (self.xt, self.yt)
        loss, acc = M.evaluate(parameters, xs, ys, str(config.get("activation", "tanh")))
        return float(loss), int(len(ys)), {"accuracy": float(acc), "client_id": self.client_id}


def client_fn(context: Context):
    rc = context.run_config
    import_repo(rc)
    from adapters.flower.data import load_jsonl, split

    data = str(context.node_config["data"])
    cid = str(context.node_config.get("client-id", data))
    x, y = load_jsonl(data, expect_dim=int(rc["in-dim"]))
    (xt, yt), (xv, yv) = split(x, y, float(rc["val-fraction"]))
    seed = int(context.node_config.get("seed", rc["seed"]))
    return MLPClient(cid, xt, yt, xv, yv, int(rc["epochs"]), float(rc["lr"]), int(rc["batch-size"]),
                     seed).to_client()


app = ClientApp(client_fn=client_fn, mods=[secaggplus_mod])
