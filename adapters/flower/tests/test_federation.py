"""Real Flower federations over loopback: server.py + client.py subprocesses."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading

import numpy as np
import pytest

from .conftest import REPO, run_federation  # noqa: F401  (REPO puts the repo on sys.path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        Hook.received.append(json.loads(self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def webhook():
    Hook.received = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/events", Hook.received
    srv.shutdown()


def test_fedavg_three_clients_three_rounds(tmp_path, webhook):
    url, received = webhook
    fed = run_federation(tmp_path, n_clients=3, rounds=3, strategy="fedavg", server_args=["--webhook", url])
    assert fed.server_rc == 0, fed.diag()
    assert all(rc == 0 for rc, _ in fed.clients), fed.diag()

    joined = fed.of("client.joined")
    assert sorted(e["client"] for e in joined) == ["site0", "site1", "site2"], fed.diag()
    assert [e["round"] for e in fed.of("round.started")] == [1, 2, 3]
    done = fed.of("round.completed")
    assert [e["round"] for e in done] == [1, 2, 3]
    losses = [e["metrics"]["loss"] for e in done]
    assert losses[0] > losses[1] > losses[2], losses
    for e in done:
        m = e["metrics"]
        assert m["clients"] == 3 and m["failures"] == 0 and m["examples"] == 3 * 320
        assert 0 <= m["accuracy"] <= 1
        art = e["artifact"]
        assert os.path.basename(art["path"]) == f"round-{e['round']}.safetensors"
        assert os.path.isfile(art["path"])
        assert sha256(art["path"]) == art["sha256"]
        assert os.path.getsize(art["path"]) == art["size"]
        with open(art["path"] + ".sha256") as f:
            assert f.read().split()[0] == art["sha256"]
    aggs = fed.of("aggregate.completed")
    assert [e["artifact"]["sha256"] for e in aggs] == [e["artifact"]["sha256"] for e in done]
    final = fed.of("federation.completed")
    assert len(final) == 1 and final[0]["artifact"] == done[-1]["artifact"]
    assert final[0]["metrics"]["rounds"] == 3
    assert not fed.of("client.dropped"), fed.diag()

    # the same events went to the webhook, in order, and to out/events.jsonl
    assert [e["event"] for e in received] == [e["event"] for e in fed.events]
    with open(os.path.join(tmp_path, "out", "events.jsonl")) as f:
        assert [json.loads(l) for l in f] == fed.events

    # the final model loads with the safetensors package with the Go MLP expert's layout
    from safetensors import safe_open

    with safe_open(final[0]["artifact"]["path"], framework="numpy") as f:
        names = sorted(f.keys())
        tensors = {n: f.get_tensor(n) for n in names}
        meta = f.metadata()
    assert names == ["mlp.b1", "mlp.b2", "mlp.w1", "mlp.w2"]
    assert tensors["mlp.w1"].shape == (13, 32) and tensors["mlp.b1"].shape == (32,)
    assert tensors["mlp.w2"].shape == (32, 3) and tensors["mlp.b2"].shape == (3,)
    assert all(t.dtype == np.float32 for t in tensors.values())
    assert meta["mlp.activation"] == "tanh" and meta["mlp.role"] == "head"


def test_client_killed_in_round_2_is_dropped_and_federation_completes(tmp_path):
    fed = run_federation(tmp_path, n_clients=3, rounds=3, min_clients=2, strategy="fedavg",
                         server_args=["--start-clients", "3"], client_args={2: ["--die-in-round", "2"]})
    assert fed.server_rc == 0, fed.diag()
    assert fed.clients[2][0] == 17, fed.diag()
    assert fed.clients[0][0] == 0 and fed.clients[1][0] == 0, fed.diag()
    dropped = fed.of("client.dropped")
    assert [(e["client"], e["round"]) for e in dropped] == [("site2", 2)], fed.diag()
    done = {e["round"]: e["metrics"] for e in fed.of("round.completed")}
    assert sorted(done) == [1, 2, 3]
    assert done[1]["clients"] == 3 and done[1]["failures"] == 0
    assert done[2]["clients"] == 2 and done[2]["failures"] == 1
    assert done[3]["clients"] == 2 and done[3]["failures"] == 0
    final = fed.of("federation.completed")
    assert len(final) == 1 and final[0]["metrics"]["rounds"] == 3 and final[0]["metrics"]["failures"] == 1


def test_fedprox_with_dp(tmp_path):
    fed = run_federation(tmp_path, n_clients=2, rounds=2, strategy="fedprox",
                         server_args=["--mu", "0.5", "--dp-epsilon", "1.0", "--dp-delta", "1e-5", "--dp-clip", "5.0"])
    assert fed.server_rc == 0, fed.diag()
    done = fed.of("round.completed")
    assert [e["round"] for e in done] == [1, 2]
    from adapters.flower.dp import gaussian_sigma

    for e in done:
        assert e["metrics"]["dp_epsilon_spent"] == pytest.approx(1.0 * e["round"])
        assert e["metrics"]["dp_delta_spent"] == pytest.approx(1e-5 * e["round"])
        assert e["metrics"]["dp_sigma"] == pytest.approx(gaussian_sigma(1.0, 1e-5, 5.0))
    assert fed.of("federation.completed")[0]["metrics"]["dp_epsilon_spent"] == pytest.approx(2.0)


def test_custom_recency_strategy_from_init_model(tmp_path):
    from adapters.flower import model as M

    spec = M.MLPSpec(in_dim=13, hidden=16, activation="relu", prefix="mlp", name="seeded")
    init = os.path.join(tmp_path, "init.safetensors")
    M.save_safetensors(init, spec, M.init_params(spec, 42))
    fed = run_federation(tmp_path, n_clients=2, rounds=2, strategy="custom",
                         server_args=["--half-life", "2", "--init", init])
    assert fed.server_rc == 0, fed.diag()
    done = fed.of("round.completed")
    assert [e["round"] for e in done] == [1, 2]
    assert all(e["metrics"]["max_age"] == 1 for e in done)
    spec2, _ = M.load_safetensors(fed.of("federation.completed")[0]["artifact"]["path"])
    assert (spec2.in_dim, spec2.hidden, spec2.activation, spec2.name) == (13, 16, "relu", "seeded")


def test_secure_agg_is_refused_not_faked(tmp_path):
    fed = run_federation(tmp_path, n_clients=0, rounds=1, min_clients=1, server_args=["--secure-agg"],
                         connect_wait=False)
    assert fed.server_rc == 3, fed.diag()
    assert fed.of("federation.failed") and "SecAgg" in fed.of("federation.failed")[0]["reason"]


def test_clients_started_before_the_server_retry_until_it_listens(tmp_path):
    fed = run_federation(tmp_path, n_clients=2, rounds=1, clients_first=True)
    assert fed.server_rc == 0, fed.diag()
    assert all(rc == 0 for rc, _ in fed.clients), fed.diag()
    assert sorted(e["client"] for e in fed.of("client.joined")) == ["site0", "site1"]
    assert fed.of("federation.completed")
