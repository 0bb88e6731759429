// Package federation orchestrates one federated training run end to end
// (`thunderline federate`, and POST /federations through engine/admin):
// the federation recorded in the Postgres control plane
// (persist/postgres FL), a PKI and signed lease manifests served over
// mutual TLS, each site's runner (claim, verify the manifest and the
// dataset's hash, join, start its Flower client), a Flower server (or the
// SecAgg+ deployment) aggregating with the spec's strategy, every round's
// checkpoint stored (persist/artifacts) and recorded, and the final model
// registered as a shadow candidate expert. Metrics and Tracer are its SLO
// metrics and round lifecycle spans.
//
// It never touches the market data plane or a run's journal, never writes
// SQL itself (every row goes through persist/postgres FL, with its outbox
// event) and never imports another engine package but engine/config and
// engine/report.
package federation
