"""Flower client: trains the MLP expert on this site's slice. See README.md.

    python3 adapters/flower/client.py --server HOST:PORT --data SLICE.jsonl --client-id ID \
        [--epochs 1] [--lr 0.1] [--seed 0] [--batch-size 32] [--val-fraction 0.2] \
        [--tls-ca PEM [--tls-cert PEM --tls-key PEM]] [--die-in-round N]

Exit codes: 0 the server ended the federation; 2 bad arguments; 3 the data file is
unreadable or malformed; 17 --die-in-round fired (fault injection); 1 other errors
(including giving up connecting after --connect-timeout seconds).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # no usage telemetry from this process

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_DATA, EXIT_DIED = 0, 1, 2, 3, 17


def parse_args(argv=None):
    from adapters.flower.cli import add_tls_args, add_training_args

    p = argparse.ArgumentParser(prog="flower-client")
    p.add_argument("--server", required=True, help="HOST:PORT of the Flower server")
    p.add_argument("--data", required=True, help="this site's training slice (JSON Lines)")
    p.add_argument("--client-id", required=True)
    add_training_args(p)
    p.add_argument("--seed", type=int, default=0)
    add_tls_args(p)
    p.add_argument("--die-in-round", type=int, default=0, help="fault injection: os._exit during that round's fit")
    p.add_argument("--connect-timeout", type=float, default=60.0)
    a = p.parse_args(argv)
    if a.epochs < 1 or a.lr <= 0 or a.batch_size < 1 or not (0 <= a.val_fraction < 1):
        p.error("--epochs >= 1, --lr > 0, --batch-size >= 1, --val-fraction in [0, 1)")
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if a.tls_cert and not a.tls_ca:
        p.error("a client certificate needs --tls-ca (the server's CA)")
    return a


def enable_client_cert(cert_pem: bytes, key_pem: bytes):
    """Flower's create_channel only passes root certificates to gRPC; wrap
    grpc.ssl_channel_credentials (looked up at call time) to present our
    certificate as well, for servers that require mutual TLS."""
    import grpc

    orig = grpc.ssl_channel_credentials

    def ssl_channel_credentials(root_certificates=None, private_key=None, certificate_chain=None):
        return orig(root_certificates, private_key or key_pem, certificate_chain or cert_pem)

    grpc.ssl_channel_credentials = ssl_channel_credentials


def make_client(args, x_train, y_train, x_val, y_val):
    import numpy as np
    from flwr.client import NumPyClient

    from adapters.flower import dp as dpmod
    from adapters.flower import model as M

    class MLPClient(NumPyClient):
        def __init__(self):
            self.fits = 0
            self.contacted = False  # the server has talked to us (no more connect retries)
            self.dp_rounds = 0
            self.activation = None

        def get_properties(self, config):
            self.contacted = True
            return {"client_id": args.client_id, "examples": int(len(y_train)), "in_dim": int(x_train.shape[1])}

        def _check(self, params):
            w1 = params[0]
            if w1.shape[0] != x_train.shape[1]:
                raise ValueError(f"model reads {w1.shape[0]} features, {args.data} has {x_train.shape[1]}")

        def _activation(self, config):
            return str(config.get("activation", "tanh"))

        def fit(self, parameters, config):
            self.fits += 1
            rnd = int(config.get("server_round", self.fits))
            self._check(parameters)
            mu = float(config.get("proximal_mu", 0.0))
            g = [np.asarray(p) for p in parameters]
            if args.die_in_round and rnd == args.die_in_round:
                # fault injection: do part of the work, then vanish without a goodbye
                M.train_sgd(g, x_train[:64], y_train[:64], epochs=1, lr=args.lr, seed=args.seed)
                print(f"flower client {args.client_id}: dying in round {rnd} (--die-in-round)", file=sys.stderr, flush=True)
                os._exit(EXIT_DIED)
            new, loss = M.train_sgd(g, x_train, y_train, epochs=args.epochs, lr=args.lr,
                                    batch_size=args.batch_size, seed=args.seed * 1000 + rnd,
                                    activation=self._activation(config), global_params=g if mu else None, mu=mu)
            metrics = {"client_id": args.client_id, "loss": float(loss), "proximal_mu": mu}
            clip = float(config.get("dp_clip", 0.0))
            if clip > 0:
                sigma = float(config["dp_sigma"])
                rng = np.random.default_rng([args.seed, rnd, 0xD1FF])
                new, norm = dpmod.privatize(new, g, clip, sigma, rng)
                self.dp_rounds += 1
                eps, delta = dpmod.spent(float(config["dp_epsilon"]), float(config["dp_delta"]), self.dp_rounds)
                metrics.update(dp_update_norm=float(norm), dp_epsilon_spent=eps, dp_delta_spent=delta)
            return new, int(len(y_train)), metrics

        def evaluate(self, parameters, config):
            self._check(parameters)
            xs, ys = (x_val, y_val) if len(y_val) else (x_train, y_train)
            loss, acc = M.evaluate(parameters, xs, ys, self._activation(config))
            return float(loss), int(len(ys)), {"accuracy": float(acc), "client_id": args.client_id}

    return MLPClient()


def main(argv=None):
    args = parse_args(argv)
    from adapters.flower.data import load_jsonl, split

    try:
        x, y = load_jsonl(args.data)
    except (OSError, ValueError) as e:
        print(f"flower client {args.client_id}: data: {e}", file=sys.stderr, flush=True)
        return EXIT_DATA
    (xt, yt), (xv, yv) = split(x, y, args.val_fraction)

    import flwr
    from pathlib import Path

    root = None
    if args.tls_ca:
        root = Path(args.tls_ca).read_bytes()
        if args.tls_cert:
            enable_client_cert(Path(args.tls_cert).read_bytes(), Path(args.tls_key).read_bytes())
    import time

    import grpc

    client = make_client(args, xt, yt, xv, yv)
    deadline = time.monotonic() + args.connect_timeout
    while True:
        # flwr's grpc-bidi client gives up at once if the server is not (yet) reachable:
        # retry until --connect-timeout, but only until the server has talked to us.
        try:
            flwr.client.start_client(server_address=args.server, client=client.to_client(),
                                     root_certificates=root, insecure=root is None,
                                     max_wait_time=args.connect_timeout)
            return EXIT_OK
        except grpc.RpcError as e:
            if client.contacted or time.monotonic() >= deadline:
                code = e.code() if hasattr(e, "code") else e
                print(f"flower client {args.client_id}: {args.server}: {code}: "
                      f"{e.details() if hasattr(e, 'details') else ''}", file=sys.stderr, flush=True)
                return EXIT_ERROR
            time.sleep(0.5)


if __name__ == "__main__":
    from adapters.flower.cli import run

    run(main, EXIT_ERROR)
