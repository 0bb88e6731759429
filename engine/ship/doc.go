// Package ship connects a run to Postgres: it migrates the schema, ships a
// run's journal to Postgres while the run goes on (Start, Finish) or after
// it (Backfill, `thunderline ship`), and keeps the monthly partitions and
// the raw tick retention up to date while it ships.
//
// Every SQL statement it causes lives in persist/postgres; this package
// only opens pools and schedules. It never writes the journal and never
// sits on the decision path: the shipper only reads journal files, so a
// slow or absent server never slows the engine.
package ship
