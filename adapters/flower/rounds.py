"""Round bookkeeping shared by both Flower server apps: the legacy gRPC server
(server.py) and the SecAgg+ ServerApp (secagg/app/secagg_app/server_app.py).

Rounds tracks the current round and the federation summary, writes each round's
aggregated model (<out-dir>/round-<n>.safetensors and its .sha256 file) and emits
the lifecycle events adapters/flowerbridge reads (see events.py for their schema):
round.started, aggregate.completed, round.completed and, at the end,
federation.completed or federation.failed. The apps differ only in what they add:
extra metrics (SecAgg+'s secure_agg..., DP's spent budget) and their own reasons.

Both apps import it as adapters.flower.rounds: server.py puts the repository root
on sys.path when run as a script; the SecAgg+ app (installed by flwr outside the
repository) does so through secagg_app.common.import_repo.
"""

from __future__ import annotations

import os

NO_MODEL = "aggregation produced no model"


def save_round(out_dir, spec, server_round, arrays, strategy):
    """Write <out_dir>/round-<n>.safetensors and its .sha256 file; returns the
    event's artifact {path, sha256, size}."""
    import flwr

    from adapters.flower.model import save_safetensors

    path = os.path.join(os.path.abspath(out_dir), f"round-{server_round}.safetensors")
    sha, size = save_safetensors(path, spec, arrays, {
        "flower.round": server_round, "flower.strategy": strategy, "flower.version": flwr.__version__})
    with open(path + ".sha256", "w") as f:
        f.write(f"{sha}  {os.path.basename(path)}\n")
    return {"path": path, "sha256": sha, "size": size}


class Rounds:
    """The current round (fit metrics, artifact, failure reason) and the federation
    summary; emits the round and federation events through emitter.

    spent(n) -> dict gives metrics added to round.completed and to the final event
    after n aggregated rounds (the DP budget spent); None adds nothing."""

    def __init__(self, emitter, out_dir, spec, strategy, spent=None):
        self.emitter = emitter
        self.out_dir = out_dir
        self.spec = spec
        self.strategy = strategy
        self.spent = spent or (lambda n: {})
        self.round = 0  # joins before the first round are reported as round 0
        self.finished = False
        self.completed, self.failed, self.done = [], [], set()
        self.last = None  # (artifact, round.completed metrics) of the last aggregated round
        self.examples, self.failures, self.clients = 0, 0, set()
        self.fit, self.artifact, self.reason = {}, None, None

    def start(self, server_round, metrics):
        """A round begins: reset its state and emit round.started."""
        self.round = server_round
        self.fit, self.artifact, self.reason = {}, None, None
        self.emitter.emit("round.started", server_round, metrics=metrics)

    def aggregated(self, server_round, params, metrics, results, failures, extra=None):
        """Record the fit results of a round; when the strategy produced a model
        (params), save it and emit aggregate.completed. Returns the artifact or None.
        extra: metrics that follow examples/clients/failures in the fit metrics."""
        from flwr.common import parameters_to_ndarrays

        nex = sum(r.num_examples for _, r in results)
        fit = {"examples": nex, "clients": len(results), "failures": len(failures), **(extra or {})}
        for key, name in (("loss", "train_loss"), ("max_age", "max_age")):
            if key in metrics:
                fit[name] = metrics[key]
        self.fit = fit
        self.failures += len(failures)
        if params is None:
            return None
        art = save_round(self.out_dir, self.spec, server_round, parameters_to_ndarrays(params), self.strategy)
        self.artifact = art
        self.examples += nex
        self.clients.update(str(r.metrics.get("client_id", p.cid)) for p, r in results)
        self.emitter.emit("aggregate.completed", server_round, metrics=fit, artifact=art)
        return art

    def complete(self, server_round, evaluation=None):
        """Emit round.completed with the fit metrics and, if the round's model was
        evaluated, its evaluation (loss, metrics, (results, failures)) as
        flwr's Server.evaluate_round returns it."""
        m = dict(self.fit)
        for key in ("examples", "clients", "failures"):
            m.setdefault(key, 0)
        if evaluation is not None:
            loss, em, (results, failures) = evaluation
            if loss is not None:
                m["loss"] = float(loss)
            if em and "accuracy" in em:
                m["accuracy"] = float(em["accuracy"])
            m["eval_examples"] = sum(r.num_examples for _, r in results)
            m["eval_failures"] = len(failures)
        art = self.artifact
        if art:
            self.completed.append(server_round)
            self.last = (art, m)
            m.update(self.spent(len(self.completed)))
        else:
            self.failed.append(server_round)
        self.done.add(server_round)
        self.emitter.emit("round.completed", server_round, metrics=m, artifact=art,
                          reason=None if art else self.reason or NO_MODEL)

    def finish(self, extra=None, ok=True, failed_reason="rounds not aggregated"):
        """Emit federation.completed, or federation.failed when a round failed, no
        model was made or not ok. extra: metrics after the summary's counts.
        Returns whether the federation completed."""
        self.finished = True
        n = len(self.completed)
        fm = {"rounds": n, "rounds_failed": len(self.failed), "examples": self.examples,
              "clients": len(self.clients), "failures": self.failures, **(extra or {})}
        art = None
        if self.last:
            art, last = self.last
            for key in ("loss", "accuracy"):
                if key in last:
                    fm[key] = last[key]
        fm.update(self.spent(n))
        if self.failed or art is None or not ok:
            self.emitter.emit("federation.failed", n, metrics=fm, artifact=art,
                              reason=f"{failed_reason}: {self.failed}")
            return False
        self.emitter.emit("federation.completed", n, metrics=fm, artifact=art)
        return True
