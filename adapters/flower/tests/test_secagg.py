"""SecAgg+ federation (adapters/flower/secagg/run.py): a real SuperLink, three
SuperNodes, ServerApp with FedAvg inside SecAggPlusWorkflow, ClientApp with
secaggplus_mod."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from .conftest import FLOWER, REPO, make_slices  # noqa: F401  (REPO puts the repo on sys.path)

RUN = os.path.join(FLOWER, "secagg", "run.py")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_secagg_three_sites_two_rounds(tmp_path):
    from adapters.flower.model import MLPSpec, init_params, load_safetensors

    slices = make_slices(str(tmp_path), 3)
    out = os.path.join(str(tmp_path), "out")
    cmd = [sys.executable, RUN, "--rounds", "2", "--min-clients", "3", "--out-dir", out,
           "--in-dim", "13", "--seed", "0", "--lr", "0.1", "--epochs", "2", "--timeout", "400"]
    for s in slices:
        cmd += ["--data", s]
    env = dict(os.environ, FLWR_TELEMETRY_ENABLED="0")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=420, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"run.py timed out\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}")
    logs = os.path.join(out, "secagg-logs")

    def diag():
        d = f"rc={p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr[-3000:]}\n"
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, name), errors="replace") as f:
                d += f"--- {name} (tail)\n{f.read()[-2000:]}\n"
        return d

    assert p.returncode == 0, diag()
    events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    with open(os.path.join(out, "events.jsonl")) as f:
        assert [json.loads(l) for l in f if l.strip()] == events  # stdout == events.jsonl
    of = lambda name: [e for e in events if e["event"] == name]  # noqa: E731
    assert [e["round"] for e in of("round.started")] == [1, 2], diag()
    assert [e["round"] for e in of("aggregate.completed")] == [1, 2], diag()
    done = of("round.completed")
    assert [e["round"] for e in done] == [1, 2], diag()
    assert of("federation.completed") and not of("federation.failed"), diag()

    # SecAgg+ really ran: set from inside SecAggPlusWorkflow (masked vectors collected
    # and unmasked for each round), and flwr's own workflow log lines
    for e in of("aggregate.completed") + done:
        m = e["metrics"]
        assert m["secure_agg"] == 1 and m["secagg_masked_vectors"] == 3, e
        assert m["secagg_num_shares"] == 3 and m["secagg_reconstruction_threshold"] == 2, e
    for e in done:
        m = e["metrics"]
        assert m["clients"] == 3 and m["failures"] == 0 and m["examples"] == 3 * 320, e
        assert m["loss"] > 0 and m["train_loss"] > 0, e
    with open(os.path.join(logs, "flwr-run.log"), errors="replace") as f:
        log = f.read()
    assert log.count("Secure aggregation completed.") == 2, diag()

    # artifacts: sha256 in events match the files (and the .sha256 side files)
    arts = [e["artifact"] for e in done]
    for r, a in enumerate(arts, 1):
        assert a["path"] == os.path.join(os.path.abspath(out), f"round-{r}.safetensors")
        assert sha256(a["path"]) == a["sha256"] and os.path.getsize(a["path"]) == a["size"]
        with open(a["path"] + ".sha256") as f:
            assert f.read().split()[0] == a["sha256"]
    assert of("federation.completed")[0]["artifact"] == arts[-1]

    # the model changed: init -> round 1 -> round 2, and stays finite/in layout
    init = init_params(MLPSpec(in_dim=13), 0)
    _, r1 = load_safetensors(arts[0]["path"])
    _, r2 = load_safetensors(arts[1]["path"])
    d01 = max(float(np.abs(a - b).max()) for a, b in zip(init, r1))
    d12 = max(float(np.abs(a - b).max()) for a, b in zip(r1, r2))
    assert d01 > 1e-3 and d12 > 1e-3, (d01, d12)
    assert done[1]["metrics"]["loss"] < done[0]["metrics"]["loss"], done


@pytest.mark.parametrize("extra", [
    ["--min-clients", "1"],                                    # SecAgg+ needs >= 2
    ["--min-clients", "4"],                                    # more than data files
    ["--min-clients", "3", "--reconstruction-threshold", "4"],  # threshold > shares
])
def test_secagg_bad_arguments(tmp_path, extra):
    slices = make_slices(str(tmp_path), 3, n=20)
    cmd = [sys.executable, RUN, "--rounds", "1", "--out-dir", str(tmp_path / "o"), *extra]
    for s in slices:
        cmd += ["--data", s]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
