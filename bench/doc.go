// Package bench holds the engine's benchmark harness: `make bench` runs the
// micro-benchmarks of every hot package and the whole-engine harness in
// bench/harness, each measured against a baseline in the same run. Results
// worth keeping are recorded in bench/RESULTS.md with the command, the
// machine and the date.
package bench
