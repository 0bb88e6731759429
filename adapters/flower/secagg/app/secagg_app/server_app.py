"""ServerApp: Flower FedAvg inside SecAggPlusWorkflow (DefaultWorkflow with
fit_workflow=SecAggPlusWorkflow). Writes the same lifecycle events as
adapters/flower/server.py to <out-dir>/events.jsonl (run.py relays them to its
stdout) and round artifacts <out-dir>/round-<n>.safetensors."""

from __future__ import annotations

import io
import os

from flwr.common import Context, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.serverapp import Grid

from .common import import_repo

app = ServerApp()


class EventSecAggPlus(SecAggPlusWorkflow):
    """SecAgg+ workflow that records, per round, that the masked vectors were
    collected and unmasked by the SecAgg+ protocol (read by EventFedAvg)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.masked = {}  # round -> number of masked vectors collected

    def collect_masked_vectors_stage(self, grid, context, state):
        from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, Key

        ok = super().collect_masked_vectors_stage(grid, context, state)
        if ok:
            rnd = int(context.state.config_records[MAIN_CONFIGS_RECORD][Key.CURRENT_ROUND])
            self.masked[rnd] = len(state.active_node_ids)
        return ok


def make_strategy(rc, spec, init, emitter, workflow, summary):
    import flwr

    from adapters.flower.model import save_safetensors

    out_dir = os.path.abspath(str(rc["out-dir"]))
    k = int(rc["min-clients"])

    def wavg(metrics):
        tot = sum(n for n, _ in metrics)
        out = {}
        for key in ("loss", "accuracy"):
            vals = [(n, m[key]) for n, m in metrics if isinstance(m.get(key), (int, float))]
            if vals and tot:
                out[key] = sum(n * v for n, v in vals) / sum(n for n, _ in vals)
        return out

    class EventFedAvg(FedAvg):
        def configure_fit(self, server_round, parameters, client_manager):
            ins = super().configure_fit(server_round, parameters, client_manager)
            summary["round"] = server_round
            summary["fit"] = {}
            summary["artifact"] = None
            emitter.emit("round.started", server_round, metrics={
                "clients_available": client_manager.num_available(), "secure_agg": 1})
            return ins

        def aggregate_fit(self, server_round, results, failures):
            params, metrics = super().aggregate_fit(server_round, results, failures)
            nex = sum(r.num_examples for _, r in results)
            masked = workflow.masked.get(server_round, 0)
            fit = {"examples": nex, "clients": len(results), "failures": len(failures),
                   "secure_agg": 1 if masked else 0, "secagg_masked_vectors": masked,
                   "secagg_num_shares": workflow.num_shares,
                   "secagg_reconstruction_threshold": workflow.reconstruction_threshold}
            if "loss" in metrics:
                fit["train_loss"] = metrics["loss"]
            summary["fit"] = fit
            summary["failures"] += len(failures)
            if params is None:
                return params, metrics
            arrays = parameters_to_ndarrays(params)
            path = os.path.join(out_dir, f"round-{server_round}.safetensors")
            sha, size = save_safetensors(path, spec, arrays, {
                "flower.round": server_round, "flower.strategy": "fedavg+secaggplus",
                "flower.version": flwr.__version__})
            with open(path + ".sha256", "w") as f:
                f.write(f"{sha}  {os.path.basename(path)}\n")
            art = {"path": path, "sha256": sha, "size": size}
            summary["artifact"] = art
            summary["examples"] += nex
            summary["clients"].update(str(r.metrics.get("client_id", p.node_id)) for p, r in results)
            emitter.emit("aggregate.completed", server_round, metrics=fit, artifact=art)
            return params, metrics

        def aggregate_evaluate(self, server_round, results, failures):
            loss, em = super().aggregate_evaluate(server_round, results, failures)
            self._complete(server_round, loss, em, results, failures)
            return loss, em

        def _complete(self, server_round, loss, em, results, failures):
            m = dict(summary.get("fit") or {})
            for key in ("examples", "clients", "failures"):
                m.setdefault(key, 0)
            if loss is not None:
                m["loss"] = float(loss)
            if em and "accuracy" in em:
                m["accuracy"] = float(em["accuracy"])
            m["eval_examples"] = sum(r.num_examples for _, r in results)
            m["eval_failures"] = len(failures)
            art = summary.get("artifact")
            if art:
                summary["completed"].append(server_round)
                summary["last"] = (art, m)
            else:
                summary["failed"].append(server_round)
            summary["done"].add(server_round)
            emitter.emit("round.completed", server_round, metrics=m, artifact=art,
                         reason=None if art else "aggregation produced no model")

    return EventFedAvg(
        fraction_fit=1.0, fraction_evaluate=1.0, min_fit_clients=k, min_evaluate_clients=1,
        min_available_clients=k, accept_failures=True, initial_parameters=ndarrays_to_parameters(init),
        on_fit_config_fn=lambda r: {"server_round": r, "activation": spec.activation},
        on_evaluate_config_fn=lambda r: {"server_round": r, "activation": spec.activation},
        fit_metrics_aggregation_fn=wavg, evaluate_metrics_aggregation_fn=wavg)


@app.main()
def main(grid: Grid, context: Context) -> None:
    rc = context.run_config
    import_repo(rc)
    from adapters.flower.events import Emitter
    from adapters.flower.model import MLPSpec, init_params

    out_dir = str(rc["out-dir"])
    os.makedirs(out_dir, exist_ok=True)
    # events go to <out-dir>/events.jsonl only; run.py prints them on its stdout
    emitter = Emitter(out_dir, None, stream=io.StringIO())
    spec = MLPSpec(in_dim=int(rc["in-dim"]), hidden=int(rc["hidden"]), activation=str(rc["activation"]))
    init = init_params(spec, int(rc["seed"]))
    rounds = int(rc["num-server-rounds"])
    summary = {"completed": [], "failed": [], "last": None, "examples": 0, "failures": 0,
               "clients": set(), "done": set()}
    workflow = EventSecAggPlus(
        num_shares=int(rc["num-shares"]), reconstruction_threshold=int(rc["reconstruction-threshold"]),
        max_weight=float(rc["max-weight"]), timeout=float(rc["timeout"]))
    strategy = make_strategy(rc, spec, init, emitter, workflow, summary)
    legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=rounds), strategy=strategy)
    try:
        DefaultWorkflow(fit_workflow=workflow)(grid, legacy)
    except BaseException as e:
        emitter.emit("federation.failed", len(summary["completed"]), reason=f"server app: {type(e).__name__}: {e}")
        raise
    for r in range(1, rounds + 1):  # a round whose evaluation never reported
        if r not in summary["done"]:
            strategy._complete(r, None, {}, [], [])
    n = len(summary["completed"])
    fm = {"rounds": n, "rounds_failed": len(summary["failed"]), "examples": summary["examples"],
          "clients": len(summary["clients"]), "failures": summary["failures"], "secure_agg": 1}
    art = None
    if summary["last"]:
        art, last = summary["last"]
        for key in ("loss", "accuracy"):
            if key in last:
                fm[key] = last[key]
    if summary["failed"] or art is None or any(not workflow.masked.get(r) for r in summary["completed"]):
        emitter.emit("federation.failed", n, metrics=fm, artifact=art,
                     reason=f"rounds not aggregated with SecAgg+: {summary['failed']}")
        return
    emitter.emit("federation.completed", n, metrics=fm, artifact=art)
