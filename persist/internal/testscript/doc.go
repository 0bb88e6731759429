// Package testscript runs the shell scripts that start and stop the
// throwaway servers of persist's integration tests (PostgreSQL:
// persist/postgres/testdata, S3: persist/artifacts/testdata), and holds the
// shell functions those scripts share (free-port.sh).
//
// Test helpers only: it is imported by the test-helper packages
// persist/postgres/pgtest and persist/artifacts/s3test, never by code a
// user runs. It knows no server: what a script does is the script's.
package testscript
