"""Helpers: run a real Flower federation (server + client subprocesses) on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FLOWER = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(FLOWER))
SERVER = os.path.join(FLOWER, "server.py")
CLIENT = os.path.join(FLOWER, "client.py")
if REPO not in sys.path:
    sys.path.insert(0, REPO)

TIMEOUT = 90  # seconds any one federation may take before the test fails


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_slices(dirpath, n_clients, n=400):
    from adapters.flower.data import write_synthetic

    return [write_synthetic(os.path.join(dirpath, f"site{i}.jsonl"), n, seed=100 + i, shift=0.6 * i)
            for i in range(n_clients)]


class Federation:
    def __init__(self, server_rc, server_out, server_err, clients):
        self.server_rc = server_rc
        self.server_out = server_out
        self.server_err = server_err
        self.clients = clients  # [(rc, stderr)]
        self.events = [json.loads(l) for l in server_out.splitlines() if l.startswith("{")]

    def of(self, name):
        return [e for e in self.events if e["event"] == name]

    def diag(self):
        return (f"server rc={self.server_rc}\nstdout:\n{self.server_out}\nstderr tail:\n{self.server_err[-3000:]}\n"
                + "\n".join(f"client {i} rc={rc} stderr tail:\n{err[-1500:]}" for i, (rc, err) in enumerate(self.clients)))


def run_federation(tmp_path, n_clients=3, rounds=3, min_clients=None, strategy="fedavg", server_args=(),
                   client_args=None, slices=None, connect_wait=True, clients_first=False):
    """Start the server, wait until it listens, start the clients (or, with clients_first,
    the clients a second before the server); wait for all with timeouts."""
    port = free_port()
    out_dir = os.path.join(str(tmp_path), "out")
    slices = slices or make_slices(str(tmp_path), n_clients)
    env = dict(os.environ, PYTHONUNBUFFERED="1", FLWR_TELEMETRY_ENABLED="0")
    cmd = [sys.executable, SERVER, "--address", f"127.0.0.1:{port}", "--rounds", str(rounds),
           "--min-clients", str(min_clients or n_clients), "--fraction", "1.0", "--strategy", strategy,
           "--out-dir", out_dir, "--join-timeout", "30", "--round-timeout", "30", *server_args]
    def start_server():
        srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.time() + 20
        while connect_wait and time.time() < deadline and srv.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        return srv

    srv = None if clients_first else start_server()
    procs = []
    for i in range(n_clients):
        extra = list((client_args or {}).get(i, []))
        ccmd = [sys.executable, CLIENT, "--server", f"127.0.0.1:{port}", "--data", slices[i],
                "--client-id", f"site{i}", "--epochs", "2", "--lr", "0.1", "--seed", str(i),
                "--connect-timeout", "20", *extra]
        procs.append(subprocess.Popen(ccmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env))
    if srv is None:
        time.sleep(1.0)
        srv = start_server()
    try:
        out, err = srv.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        srv.kill()
        out, err = srv.communicate()
        for p in procs:
            p.kill()
        cl = [(p.wait(), p.stderr.read()) for p in procs]
        pytest.fail("federation timed out\n" + Federation(None, out, err, cl).diag())
    clients = []
    for p in procs:
        try:
            _, cerr = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            _, cerr = p.communicate()
        clients.append((p.returncode, cerr))
    return Federation(srv.returncode, out, err, clients)
