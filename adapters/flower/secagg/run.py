"""Secure-aggregation federation with Flower SecAgg+ (flwr 1.41 deployment engine).

    python3 adapters/flower/secagg/run.py --rounds N --min-clients K --out-dir DIR \
        --data site1.jsonl --data site2.jsonl --data site3.jsonl \
        [--in-dim 13] [--hidden 32] [--seed S] [--lr LR] [--epochs E] [--timeout SECONDS]

Starts a SuperLink (insecure, 127.0.0.1, free port), one SuperNode per --data file
(the file reaches only that node, via --node-config), submits the Flower App in
./app (ServerApp: FedAvg in SecAggPlusWorkflow; ClientApp: secaggplus_mod) with
`flwr run`, relays the ServerApp's events (<DIR>/events.jsonl, same schema as
adapters/flower/server.py) to stdout and stops every child process on exit.

Exit codes: 0 all rounds aggregated with SecAgg+; 2 bad arguments; 4 the federation
ran but failed (federation.failed); 5 timeout; 1 unexpected error (a child died...).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "app")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FAILED, EXIT_TIMEOUT = 0, 1, 2, 4, 5
BIN = os.path.dirname(sys.executable)


def parse_args(argv=None):
    from adapters.flower.cli import add_model_args, add_training_args

    p = argparse.ArgumentParser(prog="flower-secagg", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--min-clients", type=int, required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--data", action="append", required=True, help="one site's slice (repeat per site)")
    p.add_argument("--client-id", action="append", default=[], help="names of the sites (default site<i>)")
    add_model_args(p)
    p.add_argument("--seed", type=int, default=0)
    add_training_args(p)
    p.add_argument("--num-shares", type=int, default=0, help="SecAgg+ shares (default: all clients)")
    p.add_argument("--reconstruction-threshold", type=int, default=0,
                   help="SecAgg+ threshold (default: max(2, K//2+1))")
    p.add_argument("--max-weight", type=float, default=1000.0,
                   help="SecAgg+ max_weight; must be >= any client's example count")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole federation")
    a = p.parse_args(argv)
    n = len(a.data)
    if a.rounds < 1 or a.min_clients < 1 or a.min_clients > n:
        p.error("--rounds >= 1 and 1 <= --min-clients <= number of --data files")
    if a.client_id and len(a.client_id) != n:
        p.error("--client-id must be given once per --data or not at all")
    a.client_id = a.client_id or [f"site{i}" for i in range(n)]
    a.num_shares = a.num_shares or n
    a.reconstruction_threshold = a.reconstruction_threshold or max(2, a.min_clients // 2 + 1)
    if a.min_clients < 2 or not (2 <= a.reconstruction_threshold <= a.num_shares <= n):
        p.error("SecAgg+ needs >= 2 clients and 2 <= reconstruction-threshold <= num-shares <= clients")
    for d in a.data:
        if not os.path.isfile(d):
            p.error(f"--data {d}: no such file")
    return a


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline, proc):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def toml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid TOML basic string


class Children:
    """Child processes, each in its own process group (so the ServerApp/ClientApp
    subprocesses flwr spawns go with them)."""

    def __init__(self, env, log_dir):
        self.procs = []
        self.env = env
        self.log_dir = log_dir

    def start(self, name, cmd):
        log = open(os.path.join(self.log_dir, f"{name}.log"), "wb")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.log_dir,
                             start_new_session=True)
        log.close()
        self.procs.append((name, p))
        return p

    def dead(self):
        return [(n, p.returncode) for n, p in self.procs if p.poll() is not None]

    def descendants(self):
        """PIDs of all live descendants of our children (flwr's SuperExec, ServerApp and
        ClientApp processes may leave our process groups), from /proc."""
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat", "rb") as f:
                        st = f.read()
                    parent[int(d)] = int(st[st.rindex(b")") + 2:].split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        found, todo = set(), [p.pid for _, p in self.procs]
        while todo:
            pid = todo.pop()
            for c, pp in parent.items():
                if pp == pid and c not in found:
                    found.add(c)
                    todo.append(c)
        return found

    def stop(self):
        extra = self.descendants()
        for pid in extra:
            try:
                os.kill(pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        for _, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for _, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _, p in self.procs:  # the group may outlive its leader: always SIGKILL it
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        for pid in extra:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def main(argv=None):
    args = parse_args(argv)
    out_dir = os.path.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    log_dir = os.path.join(out_dir, "secagg-logs")
    os.makedirs(log_dir, exist_ok=True)
    events_path = os.path.join(out_dir, "events.jsonl")
    offset = os.path.getsize(events_path) if os.path.exists(events_path) else 0

    from adapters.flower.events import Emitter

    emitter = Emitter(out_dir)
    home = tempfile.mkdtemp(prefix="flwr-home-")
    link = free_port()
    with open(os.path.join(home, "config.toml"), "w") as f:
        f.write(f'[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "127.0.0.1:{link}"\ninsecure = true\n')
    env = dict(os.environ, FLWR_HOME=home, FLWR_TELEMETRY_ENABLED="0", PYTHONUNBUFFERED="1",
               SECAGG_REPO_ROOT=REPO,
               PYTHONPATH=os.pathsep.join([REPO] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    kids = Children(env, log_dir)
    deadline = time.monotonic() + args.timeout

    def fail(code, reason):
        print(f"flower secagg: {reason}", file=sys.stderr, flush=True)
        emitter.emit("federation.failed", 0, reason=reason)
        return code

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    try:
        sl = kids.start("superlink", [os.path.join(BIN, "flower-superlink"), "--insecure", "--host", "127.0.0.1",
                                      "--port", str(link), "--disable-runtime-dependency-installation"])
        if not wait_port(link, min(deadline, time.monotonic() + 60), sl):
            return fail(EXIT_ERROR, f"SuperLink did not listen on 127.0.0.1:{link} (see {log_dir}/superlink.log)")
        for i, (data, cid) in enumerate(zip(args.data, args.client_id)):
            node_cfg = f"data={toml_str(os.path.abspath(data))} client-id={toml_str(cid)} seed={args.seed + i}"
            kids.start(f"supernode-{cid}", [os.path.join(BIN, "flower-supernode"), "--insecure",
                                            "--superlink", f"127.0.0.1:{link}", "--host", "127.0.0.1",
                                            "--port", str(free_port()), "--node-config", node_cfg])
        rc = {"num-server-rounds": args.rounds, "min-clients": args.min_clients, "out-dir": out_dir,
              "repo-root": REPO, "in-dim": args.in_dim, "hidden": args.hidden, "activation": args.activation,
              "seed": args.seed, "lr": args.lr, "epochs": args.epochs, "batch-size": args.batch_size,
              "val-fraction": args.val_fraction, "num-shares": args.num_shares,
              "reconstruction-threshold": args.reconstruction_threshold, "max-weight": args.max_weight,
              "timeout": max(30.0, min(120.0, args.timeout / 2))}
        overrides = []
        for k, v in rc.items():
            overrides += ["--run-config", f"{k}={toml_str(v) if isinstance(v, str) else v}"]
        kids.start("flwr-run", [os.path.join(BIN, "flwr"), "run", APP, "local", "--stream", *overrides])

        pos, buf = offset, b""
        while True:
            if os.path.exists(events_path):
                with open(events_path, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
                pos += len(chunk)
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if not line.strip():
                        continue
                    sys.stdout.write(line.decode() + "\n")
                    sys.stdout.flush()
                    ev = json.loads(line)
                    if ev.get("event") == "federation.completed":
                        return EXIT_OK
                    if ev.get("event") == "federation.failed":
                        return EXIT_FAILED
            dead = [(n, c) for n, c in kids.dead() if n != "flwr-run" or c != 0]
            if dead:
                time.sleep(1.0)  # let a final event land first
                if os.path.exists(events_path) and os.path.getsize(events_path) > pos:
                    continue
                return fail(EXIT_ERROR, f"child process exited: {dead} (logs in {log_dir})")
            if time.monotonic() > deadline:
                return fail(EXIT_TIMEOUT, f"federation did not finish within {args.timeout:g}s (logs in {log_dir})")
            time.sleep(0.2)
    except KeyboardInterrupt as e:
        return fail(EXIT_ERROR, f"interrupted ({e})")
    finally:
        kids.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    from adapters.flower.cli import run

    run(main, EXIT_ERROR)
