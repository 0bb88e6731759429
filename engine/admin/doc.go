// Package admin is the running engine's side of the admin HTTP server
// (actors/eye.Backend and eye.FederationBackend): it reads the counters a
// pipeline publishes (engine.Pipeline's snapshot, actors, stage, ladder),
// acts through the pipeline's control paths (router reloads and expert
// swaps in band, the deny list, expert guards), publishes windows,
// decisions and ladder changes on the run's pub/sub (actors/link) and
// dashboard stream, and runs federations started over HTTP
// (engine/federation) on the Postgres control plane.
//
// Nothing here touches the hot path: it never reads a ring's contents,
// never changes an output except through a control journaled in band, and
// never holds a lock the data plane takes.
package admin
