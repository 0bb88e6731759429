// Package export writes the training slice of a run's journal (`thunderline
// export`): one JSON line per market window whose label was filled with a
// valid value, with its embedding under the run's recorded router, its raw
// features and its label class: what a federated client trains on.
//
// It only reads a closed journal: it never runs the engine, never writes a
// journal and never talks to Postgres. The same journal exports to the
// same bytes (the summary's sha256).
package export
