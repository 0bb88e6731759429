"""ServerApp: Flower FedAvg inside SecAggPlusWorkflow (DefaultWorkflow with
fit_workflow=SecAggPlusWorkflow). Writes the same lifecycle events as
adapters/flower/server.py to <out-dir>/events.jsonl (run.py relays them to its
stdout) and round artifacts <out-dir>/round-<n>.safetensors, through the round
bookkeeping both server apps share (adapters/flower/rounds.py, importable once
import_repo has put the repository root on sys.path)."""

from __future__ import annotations

import io
import os

from flwr.common import Context, ndarrays_to_parameters
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


def make_strategy(rc, spec, init, rounds, workflow):
    from adapters.flower.strategies import weighted_metrics

    k = int(rc["min-clients"])

    class EventFedAvg(FedAvg):
        def configure_fit(self, server_round, parameters, client_manager):
            ins = super().configure_fit(server_round, parameters, client_manager)
            rounds.start(server_round, {"clients_available": client_manager.num_available(), "secure_agg": 1})
            return ins

        def aggregate_fit(self, server_round, results, failures):
            params, metrics = super().aggregate_fit(server_round, results, failures)
            masked = workflow.masked.get(server_round, 0)
            rounds.aggregated(server_round, params, metrics, results, failures, extra={
                "secure_agg": 1 if masked else 0, "secagg_masked_vectors": masked,
                "secagg_num_shares": workflow.num_shares,
                "secagg_reconstruction_threshold": workflow.reconstruction_threshold})
            return params, metrics

        def aggregate_evaluate(self, server_round, results, failures):
            loss, em = super().aggregate_evaluate(server_round, results, failures)
            rounds.complete(server_round, (loss, em, (results, failures)))
            return loss, em

    return EventFedAvg(
        fraction_fit=1.0, fraction_evaluate=1.0, min_fit_clients=k, min_evaluate_clients=1,
        min_available_clients=k, accept_failures=True, initial_parameters=ndarrays_to_parameters(init),
        on_fit_config_fn=lambda r: {"server_round": r, "activation": spec.activation},
        on_evaluate_config_fn=lambda r: {"server_round": r, "activation": spec.activation},
        fit_metrics_aggregation_fn=weighted_metrics, evaluate_metrics_aggregation_fn=weighted_metrics)


@app.main()
def main(grid: Grid, context: Context) -> None:
    rc = context.run_config
    import_repo(rc)
    from adapters.flower.events import Emitter
    from adapters.flower.model import MLPSpec, init_params
    from adapters.flower.rounds import Rounds

    out_dir = str(rc["out-dir"])
    os.makedirs(out_dir, exist_ok=True)
    # events go to <out-dir>/events.jsonl only; run.py prints them on its stdout
    emitter = Emitter(out_dir, None, stream=io.StringIO())
    spec = MLPSpec(in_dim=int(rc["in-dim"]), hidden=int(rc["hidden"]), activation=str(rc["activation"]))
    init = init_params(spec, int(rc["seed"]))
    num_rounds = int(rc["num-server-rounds"])
    rounds = Rounds(emitter, out_dir, spec, "fedavg+secaggplus")
    workflow = EventSecAggPlus(
        num_shares=int(rc["num-shares"]), reconstruction_threshold=int(rc["reconstruction-threshold"]),
        max_weight=float(rc["max-weight"]), timeout=float(rc["timeout"]))
    strategy = make_strategy(rc, spec, init, rounds, workflow)
    legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=num_rounds), strategy=strategy)
    try:
        DefaultWorkflow(fit_workflow=workflow)(grid, legacy)
    except BaseException as e:
        emitter.emit("federation.failed", len(rounds.completed), reason=f"server app: {type(e).__name__}: {e}")
        raise
    for r in range(1, num_rounds + 1):  # a round whose evaluation never reported
        if r not in rounds.done:
            rounds.complete(r, (None, {}, ([], [])))
    rounds.finish(extra={"secure_agg": 1}, ok=all(workflow.masked.get(r) for r in rounds.completed),
                  failed_reason="rounds not aggregated with SecAgg+")
