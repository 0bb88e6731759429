package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"thunderline/adapters/flowerbridge"
	"thunderline/persist/artifacts"
	"thunderline/persist/postgres"
)

// The Flower side of a federation: the server (or, with secure
// aggregation, the SecAgg+ deployment), and the rounds as it reports them.

// startServer starts the Flower server with the spec's strategy. Secure
// aggregation runs as Flower's SuperLink deployment with a SuperNode per
// verified site (adapters/flower/secagg), started once every site has
// joined (startSecAgg); otherwise the server starts now.
func (r *run) startServer(ctx context.Context) error {
	r.events = make(chan flowerbridge.Event, 64)
	if r.spec.SecureAgg {
		return nil
	}
	spec := r.spec
	sc := flowerbridge.ServerConfig{Python: r.o.Python, Script: filepath.Join(r.o.FlowerDir, "server.py"), Address: r.flowerAddr,
		Rounds: spec.NumRounds, MinClients: spec.MinClients, Fraction: spec.ClientFraction, Strategy: spec.Strategy.Kind, OutDir: r.outDir(),
		InDim: r.o.InDim, StartClients: len(r.clientIDs), TLS: r.tlsFiles("server")}
	if p := spec.Strategy.Params.Mu; p != nil {
		sc.Mu = *p
	}
	if p := spec.Strategy.Params.HalfLifeRounds; p != nil {
		sc.HalfLife = *p
	}
	if spec.DP != nil {
		sc.DPEpsilon, sc.DPDelta, sc.DPClip = spec.DP.Epsilon, spec.DP.Delta, spec.DP.ClipNorm
	}
	var err error
	r.server, err = flowerbridge.StartServer(ctx, sc, r.events)
	return err
}

// outDir is where the server writes its checkpoints.
func (r *run) outDir() string { return filepath.Join(r.o.WorkDir, "server") }

// startSecAgg starts the SecAgg+ deployment over the verified sites'
// slices (with secure aggregation only).
func (r *run) startSecAgg(ctx context.Context) error {
	if !r.spec.SecureAgg {
		return nil
	}
	spec := r.spec
	var err error
	r.server, err = flowerbridge.StartSecAgg(ctx, flowerbridge.SecAggConfig{Python: r.o.Python,
		Script: filepath.Join(r.o.FlowerDir, "secagg", "run.py"), Rounds: spec.NumRounds, MinClients: spec.MinClients,
		OutDir: r.outDir(), Data: r.secaggData, ClientIDs: r.clientIDs, InDim: r.o.InDim, Seed: r.o.Seed, LR: r.o.LR, Epochs: spec.LocalEpochs}, r.events)
	return err
}

// follow records the federation's lifecycle as the server reports it,
// until the server ends.
func (r *run) follow(ctx context.Context) error {
	for ev := range r.events {
		if r.o.OnEvent != nil {
			r.o.OnEvent(ev)
		}
		var err error
		switch ev.Event {
		case "round.started":
			err = r.roundStarted(ctx, ev)
		case "round.completed":
			err = r.roundCompleted(ctx, ev)
		case "aggregate.completed":
			if rd, ok := r.rounds[ev.Round]; ok {
				agg, _ := json.Marshal(ev.Metrics)
				_, err = r.fl.RecordAggregate(ctx, rd.ID, agg)
			}
		case "federation.completed":
			r.completed = true
			r.finished.Store(true)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *run) roundStarted(ctx context.Context, ev flowerbridge.Event) error {
	rd, err := r.fl.StartRound(ctx, r.fed.ID, ev.Round)
	if err != nil {
		return err
	}
	r.rounds[ev.Round] = rd
	r.roundStart[ev.Round] = time.Now()
	_, r.roundSpans[ev.Round] = r.o.Tracer.Start(ctx, "round", trace.WithAttributes(attribute.Int("round", ev.Round), attribute.String("round.id", rd.ID)))
	return nil
}

// roundCompleted stores and records the round's checkpoint, ends its span
// and records the round with its metrics.
func (r *run) roundCompleted(ctx context.Context, ev flowerbridge.Event) error {
	ended := time.Now()
	rd, ok := r.rounds[ev.Round]
	if !ok {
		return fmt.Errorf("round %d completed before it started", ev.Round)
	}
	fr := Round{Num: ev.Round, Metrics: ev.Metrics}
	if ev.Artifact != nil {
		_, artSpan := r.o.Tracer.Start(ctx, "artifact.store", trace.WithAttributes(attribute.Int("round", ev.Round)))
		a, err := storeCheckpoint(ctx, r.o.Store, ev.Artifact)
		if err == nil {
			var rec postgres.Artifact
			rec, err = r.fl.RecordArtifact(ctx, r.fed.ID, rd.ID, a.URI, a.SHA256[:], a.Size, "safetensors")
			r.finalID = rec.ID
		}
		r.met.artifact(err == nil, time.Since(ended))
		artSpan.SetAttributes(attribute.String("uri", a.URI), attribute.String("sha256", a.Hex()))
		artSpan.End()
		if err != nil {
			return err
		}
		fr.Artifact, r.final = a, a
	}
	if sp := r.roundSpans[ev.Round]; sp != nil {
		for k, v := range ev.Metrics {
			sp.SetAttributes(attribute.Float64("metric."+k, v))
		}
		sp.End()
		delete(r.roundSpans, ev.Round)
	}
	r.mu.Lock()
	dropped := append([]string(nil), r.sum.Dropped...)
	r.mu.Unlock()
	r.met.round(ended.Sub(r.roundStart[ev.Round]), ev.Metrics["examples"], r.sliceBytes, dropped)
	metrics, _ := json.Marshal(ev.Metrics)
	if _, err := r.fl.CompleteRound(ctx, rd.ID, metrics); err != nil {
		return err
	}
	r.sum.Rounds = append(r.sum.Rounds, fr)
	return nil
}

// storeCheckpoint puts a round's checkpoint into the artifact store and
// checks it against the sha256 the server reported.
func storeCheckpoint(ctx context.Context, st artifacts.Store, ref *flowerbridge.ArtifactRef) (artifacts.Artifact, error) {
	f, err := os.Open(ref.Path)
	if err != nil {
		return artifacts.Artifact{}, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	a, err := st.Put(ctx, f, "safetensors")
	if err != nil {
		return a, fmt.Errorf("checkpoint: %w", err)
	}
	if a.Hex() != strings.ToLower(ref.SHA256) {
		return a, fmt.Errorf("checkpoint %s: stored sha256 %s, the server reported %s", ref.Path, a.Hex(), ref.SHA256)
	}
	return a, nil
}
