package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"thunderline/adapters/flowerbridge"
	"thunderline/engine/config"
	"thunderline/engine/federation"
	"thunderline/persist/artifacts"
)

// cmdFederate runs a federation end to end: `thunderline federate --spec FILE`.
func cmdFederate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("federate", stderr)
	specFile := fs.String("spec", "", "federation spec YAML `file` (see profiles/federation/)")
	dsn := fs.String("dsn", os.Getenv("THUNDERLINE_PG_DSN"), "control plane Postgres DSN (default $THUNDERLINE_PG_DSN)")
	tenant := fs.String("tenant", "default", "tenant of the federation")
	work := fs.String("work", "", "work `dir` (PKI, checkpoints) [var/federations/<UTC time>]")
	python := fs.String("python", "python3", "Python interpreter with the pinned flwr (requirements.txt)")
	dataDir := fs.String("data-dir", "", "`dir` the spec's dataset URIs must be under (default: --work; / accepts any path)")
	flowerDir := fs.String("flower-dir", "adapters/flower", "`dir` of the Flower server and client apps")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	traceExp := fs.String("trace", "off", "round lifecycle spans (OpenTelemetry): off, stdout (to stderr) or otlp")
	otlpEndpoint := fs.String("otlp-endpoint", "", "OTLP/HTTP collector `host:port` for --trace otlp (e.g. 127.0.0.1:4318)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *specFile == "" || *dsn == "" {
		return usagef("federate: want --spec FILE and a DSN (--dsn or THUNDERLINE_PG_DSN)")
	}
	b, err := os.ReadFile(*specFile)
	if err != nil {
		return err
	}
	spec, err := config.ParseFederationSpec(b, *specFile)
	if err != nil {
		return err
	}
	if *work == "" {
		*work = filepath.Join("var", "federations", time.Now().UTC().Format("20060102T150405Z"))
	}
	o := federation.Options{Spec: spec, SpecYAML: b, DSN: *dsn, Tenant: *tenant, WorkDir: *work, DataDir: *dataDir,
		Python: *python, FlowerDir: *flowerDir, Timeout: *timeout}
	// S3-compatible storage when configured (the secret only from the
	// environment, never a flag: flags show in process lists).
	if ep := os.Getenv("THUNDERLINE_S3_ENDPOINT"); ep != "" {
		so := artifacts.S3Options{Endpoint: ep, Bucket: os.Getenv("THUNDERLINE_S3_BUCKET"), AccessKey: os.Getenv("THUNDERLINE_S3_ACCESS_KEY"),
			SecretKey: os.Getenv("THUNDERLINE_S3_SECRET_KEY"), UseSSL: os.Getenv("THUNDERLINE_S3_SSL") == "1"}
		if o.Store, err = artifacts.NewS3(ctx, so); err != nil {
			return err
		}
	}
	tr, shutdown, err := federation.Tracer(ctx, *traceExp, *otlpEndpoint, stderr)
	if err != nil {
		return usageError{err}
	}
	defer shutdown(context.Background())
	o.Tracer = tr
	o.OnEvent = func(ev flowerbridge.Event) {
		fmt.Fprintf(stderr, "federate: %s round %d %v\n", ev.Event, ev.Round, ev.Metrics)
	}
	sum, err := federation.Run(ctx, o)
	if sum != nil {
		if *jsonOut {
			writeJSON(stdout, sum)
		} else {
			fmt.Fprintf(stdout, "federation %s %s in %.1fs: %d rounds, joined %v, dropped %v\n", sum.FederationID, sum.Status,
				time.Duration(sum.Elapsed).Seconds(), len(sum.Rounds), sum.Joined, sum.Dropped)
			for _, r := range sum.Rounds {
				fmt.Fprintf(stdout, "  round %d: %v  %s (%s)\n", r.Num, r.Metrics, r.Artifact.URI, r.Artifact.Hex())
			}
			if sum.Candidate != "" {
				fmt.Fprintf(stdout, "  candidate expert %s (shadow): %s\n", sum.Candidate, sum.Final.URI)
			}
		}
	}
	return err
}
