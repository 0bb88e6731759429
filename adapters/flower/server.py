"""Flower server for the engine's MLP expert. See README.md for the contract.

    python3 adapters/flower/server.py --address 127.0.0.1:PORT --rounds N --min-clients K \
        --fraction F --strategy fedavg|fedprox|custom [--mu 0.1] [--half-life 2] --out-dir DIR \
        [--webhook URL] [--init MODEL.safetensors] [--dp-epsilon E --dp-delta D --dp-clip C] \
        [--secure-agg] [--tls-ca PEM --tls-cert PEM --tls-key PEM]

Exit codes: 0 all rounds aggregated; 2 bad arguments; 3 a requested feature is not
supported (--secure-agg); 4 the federation ran but a round could not be aggregated
(federation.failed); 1 unexpected error.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # no usage telemetry from this process

if __package__ in (None, ""):  # run as a script: make `adapters.flower` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNSUPPORTED, EXIT_FAILED = 0, 1, 2, 3, 4


def parse_args(argv=None):
    from adapters.flower.cli import add_model_args, add_tls_args

    p = argparse.ArgumentParser(prog="flower-server", description=__doc__.split("\n")[0])
    p.add_argument("--address", required=True, help="HOST:PORT to listen on")
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--min-clients", type=int, required=True,
                   help="clients needed to start a round and min_fit_clients")
    p.add_argument("--fraction", type=float, default=1.0, help="fraction_fit")
    p.add_argument("--fraction-evaluate", type=float, default=1.0)
    p.add_argument("--strategy", choices=("fedavg", "fedprox", "custom"), default="fedavg")
    p.add_argument("--mu", type=float, default=0.1, help="FedProx proximal_mu")
    p.add_argument("--half-life", type=float, default=2.0, help="custom strategy recency half-life (rounds)")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--webhook", default="")
    p.add_argument("--init", default="", help="initial global model (.safetensors)")
    p.add_argument("--prefix", default="mlp", help="tensor name prefix (<prefix>.w1 ...)")
    p.add_argument("--name", default="", help="expert name written to metadata")
    add_model_args(p, " when no --init")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights when no --init")
    p.add_argument("--dp-epsilon", type=float, default=0.0)
    p.add_argument("--dp-delta", type=float, default=0.0)
    p.add_argument("--dp-clip", type=float, default=0.0)
    p.add_argument("--secure-agg", action="store_true")
    add_tls_args(p)
    p.add_argument("--join-timeout", type=float, default=120.0,
                   help="seconds a round waits for min-clients before it fails")
    p.add_argument("--start-clients", type=int, default=0,
                   help="clients round 1 waits for (default --min-clients; later rounds need --min-clients)")
    p.add_argument("--round-timeout", type=float, default=600.0, help="seconds per fit/evaluate call")
    a = p.parse_args(argv)
    if a.rounds < 1 or a.min_clients < 1 or not (0 < a.fraction <= 1) or not (0 < a.fraction_evaluate <= 1):
        p.error("--rounds and --min-clients must be >= 1, fractions in (0, 1]")
    a.start_clients = max(a.start_clients, a.min_clients)
    if a.half_life <= 0 or a.mu < 0:
        p.error("--half-life must be > 0 and --mu >= 0")
    dp = [a.dp_epsilon, a.dp_delta, a.dp_clip]
    if any(dp) and not all(v > 0 for v in dp):
        p.error("--dp-epsilon, --dp-delta and --dp-clip go together, all > 0")
    if a.dp_delta >= 1:
        p.error("--dp-delta must be < 1")
    tls = [a.tls_ca, a.tls_cert, a.tls_key]
    if any(tls) and not (a.tls_cert and a.tls_key):
        p.error("TLS needs --tls-cert and --tls-key (and --tls-ca for mutual TLS)")
    return a


def enable_client_auth():
    """Flower's generic_create_grpc_server hard-codes require_client_auth=False. gRPC
    itself supports mutual TLS, so wrap grpc.ssl_server_credentials (looked up at call
    time by flwr.supercore.grpc) to require a client certificate signed by --tls-ca."""
    import grpc

    orig = grpc.ssl_server_credentials

    def ssl_server_credentials(pairs, root_certificates=None, require_client_auth=False):
        return orig(pairs, root_certificates=root_certificates, require_client_auth=root_certificates is not None)

    grpc.ssl_server_credentials = ssl_server_credentials


def client_manager(emitter, rounds, join_timeout):
    """A SimpleClientManager that identifies each connecting client (its --client-id,
    via get_properties) before it becomes available for sampling, reports joins and
    disconnections (client.joined, client.dropped) and waits up to join_timeout
    seconds for enough clients when sampling."""
    from flwr.common import GetPropertiesIns
    from flwr.server import SimpleClientManager

    class EventClientManager(SimpleClientManager):
        def __init__(self):
            super().__init__()
            self.pending = set()
            self.names = {}
            self.lock = threading.Lock()

        def register(self, client):
            with self.lock:
                if client.cid in self.clients or client.cid in self.pending:
                    return False
                self.pending.add(client.cid)
            threading.Thread(target=self._identify, args=(client,), daemon=True).start()
            return True

        def _identify(self, client):
            try:
                res = client.get_properties(GetPropertiesIns(config={}), timeout=30, group_id=None)
                name = str(res.properties.get("client_id") or client.cid)
            except Exception as e:  # disconnected before it said who it is
                print(f"flower server: client {client.cid}: identification failed: {e}", file=sys.stderr, flush=True)
                with self.lock:
                    self.pending.discard(client.cid)
                return
            with self.lock:
                if client.cid not in self.pending:  # went away meanwhile
                    return
                self.pending.discard(client.cid)
                self.names[client.cid] = name
            emitter.emit("client.joined", rounds.round, client=name,
                         metrics={"clients_available": len(self.clients) + 1})
            super().register(client)

        def unregister(self, client):
            with self.lock:
                self.pending.discard(client.cid)
                known = client.cid in self.clients
            super().unregister(client)
            if known and not rounds.finished:
                emitter.emit("client.dropped", rounds.round, client=self.names.get(client.cid, client.cid),
                             reason="disconnected", metrics={"clients_available": len(self.clients)})

        def sample(self, num_clients, min_num_clients=None, criterion=None):
            import random

            need = num_clients if min_num_clients is None else min_num_clients
            self.wait_for(need, timeout=int(max(1, join_timeout)))
            cids = [c for c in self.clients if criterion is None or criterion.select(self.clients[c])]
            if len(cids) < need:
                print(f"flower server: {len(cids)} clients available, need {need}", file=sys.stderr, flush=True)
                return []
            return [self.clients[c] for c in random.sample(cids, min(num_clients, len(cids)))]

    return EventClientManager()


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    from adapters.flower.events import Emitter

    emitter = Emitter(args.out_dir, args.webhook or None)
    if args.secure_agg:
        reason = ("secure aggregation (SecAgg+) is not supported: flwr 1.41's start_server/start_client "
                  "gRPC API has no SecAgg+ (it exists only for ServerApp/ClientApp workflows); refusing to "
                  "run without it")
        print(f"flower server: {reason}", file=sys.stderr, flush=True)
        emitter.emit("federation.failed", 0, reason=reason)
        return EXIT_UNSUPPORTED

    import flwr
    from flwr.common import ndarrays_to_parameters
    from flwr.server import ServerConfig
    from flwr.server.server import Server

    from adapters.flower import dp as dpmod
    from adapters.flower.model import MLPSpec, init_params, load_safetensors
    from adapters.flower.rounds import NO_MODEL, Rounds
    from adapters.flower.strategies import make_strategy, weighted_metrics

    if args.init:
        spec, init = load_safetensors(args.init, args.prefix)
        if args.name:
            spec.name = args.name
    else:
        spec = MLPSpec(in_dim=args.in_dim, hidden=args.hidden, activation=args.activation,
                       prefix=args.prefix, name=args.name)
        init = init_params(spec, args.seed)

    dp_on = args.dp_epsilon > 0
    sigma = dpmod.gaussian_sigma(args.dp_epsilon, args.dp_delta, args.dp_clip) if dp_on else 0.0

    def dp_metrics(rounds):
        if not dp_on:
            return {}
        e, d = dpmod.spent(args.dp_epsilon, args.dp_delta, rounds)
        return {"dp_epsilon_spent": e, "dp_delta_spent": d, "dp_sigma": sigma}

    rounds = Rounds(emitter, args.out_dir, spec, args.strategy, spent=dp_metrics)

    def fit_config(r):
        c = {"server_round": r, "activation": spec.activation}
        if dp_on:
            c.update(dp_clip=args.dp_clip, dp_sigma=sigma, dp_epsilon=args.dp_epsilon, dp_delta=args.dp_delta)
        return c

    strategy = make_strategy(
        args.strategy, mu=args.mu, half_life=args.half_life,
        fraction_fit=args.fraction, fraction_evaluate=args.fraction_evaluate,
        min_fit_clients=args.min_clients, min_evaluate_clients=1, min_available_clients=args.min_clients,
        accept_failures=True, initial_parameters=ndarrays_to_parameters(init),
        on_fit_config_fn=fit_config, on_evaluate_config_fn=lambda r: {"server_round": r, "activation": spec.activation},
        fit_metrics_aggregation_fn=weighted_metrics, evaluate_metrics_aggregation_fn=weighted_metrics)

    class EventServer(Server):
        def fit_round(self, server_round, timeout):
            # a round starts once min-clients are available (or --join-timeout has passed)
            need = args.start_clients if server_round == 1 else args.min_clients
            self.client_manager().wait_for(need, timeout=int(max(1, args.join_timeout)))
            rounds.start(server_round, {"clients_available": self.client_manager().num_available()})
            res = super().fit_round(server_round, timeout)
            if res is None:
                rounds.reason = "no clients selected (fewer than --min-clients available)"
                return None
            params, metrics, (results, failures) = res
            if rounds.aggregated(server_round, params, metrics, results, failures) is None:
                rounds.reason = f"{NO_MODEL} ({len(results)} results, {len(failures)} failures)"
            return res

        def evaluate_round(self, server_round, timeout):
            res = None
            if rounds.artifact:
                res = super().evaluate_round(server_round, timeout)
            rounds.complete(server_round, res)
            return res

        def fit(self, num_rounds, timeout):
            try:
                return super().fit(num_rounds, timeout)
            finally:
                rounds.finished = True

    server = EventServer(client_manager=client_manager(emitter, rounds, args.join_timeout), strategy=strategy)

    certificates = None
    if args.tls_cert:
        from pathlib import Path

        ca = Path(args.tls_ca).read_bytes() if args.tls_ca else b""
        certificates = (ca, Path(args.tls_cert).read_bytes(), Path(args.tls_key).read_bytes())
        if args.tls_ca:
            enable_client_auth()

    flwr.server.start_server(server_address=args.address, server=server,
                             config=ServerConfig(num_rounds=args.rounds, round_timeout=args.round_timeout),
                             certificates=certificates)
    return EXIT_OK if rounds.finish() else EXIT_FAILED


if __name__ == "__main__":
    from adapters.flower.cli import run

    run(main, EXIT_ERROR)
