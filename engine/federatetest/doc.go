// Package federatetest is the end-to-end test of `thunderline federate`
// with the real parts: PostgreSQL (persist/postgres/pgtest), an
// S3-compatible server (persist/artifacts/s3test: versitygw), and a Flower
// deployment from the pinned flwr package (adapters/flower). It holds no
// code of its own; it is a package so its slow test runs beside the others.
package federatetest
