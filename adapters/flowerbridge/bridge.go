package flowerbridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Event is one lifecycle event of the Flower server.
type Event struct {
	Event    string             `json:"event"` // round.started, round.completed, client.joined, client.dropped, aggregate.completed, federation.completed
	Round    int                `json:"round"`
	Client   string             `json:"client,omitempty"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
	Artifact *ArtifactRef       `json:"artifact,omitempty"`
	Reason   string             `json:"reason,omitempty"`
	// Raw is the line as the server printed it.
	Raw json.RawMessage `json:"-"`
}

// ArtifactRef is a checkpoint the server wrote.
type ArtifactRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// TLSFiles are PEM files for mutual TLS.
type TLSFiles struct{ CA, Cert, Key string }

// ServerConfig is the Flower server's command line.
type ServerConfig struct {
	Python, Script string // python3, adapters/flower/server.py
	Address        string // 127.0.0.1:PORT
	Rounds         int
	MinClients     int
	Fraction       float64
	Strategy       string // fedavg | fedprox | custom
	Mu             float64
	HalfLife       float64
	OutDir         string
	Init           string // initial model (safetensors), optional
	InDim          int    // the model's input width (the router's embed_dim) when no Init
	StartClients   int    // clients round 1 waits for [min clients]
	Webhook        string
	DPEpsilon      float64
	DPDelta        float64
	DPClip         float64
	SecureAgg      bool
	TLS            *TLSFiles
}

func (c ServerConfig) args() []string {
	a := []string{c.Script, "--address", c.Address, "--rounds", strconv.Itoa(c.Rounds), "--min-clients", strconv.Itoa(c.MinClients),
		"--fraction", ftoa(c.Fraction), "--strategy", c.Strategy, "--out-dir", c.OutDir}
	if c.Strategy == "fedprox" {
		a = append(a, "--mu", ftoa(c.Mu))
	}
	if c.Strategy == "custom" {
		a = append(a, "--half-life", ftoa(c.HalfLife))
	}
	if c.Init != "" {
		a = append(a, "--init", c.Init)
	}
	if c.InDim > 0 {
		a = append(a, "--in-dim", strconv.Itoa(c.InDim))
	}
	if c.StartClients > 0 {
		a = append(a, "--start-clients", strconv.Itoa(c.StartClients))
	}
	if c.Webhook != "" {
		a = append(a, "--webhook", c.Webhook)
	}
	if c.DPEpsilon > 0 {
		a = append(a, "--dp-epsilon", ftoa(c.DPEpsilon), "--dp-delta", ftoa(c.DPDelta), "--dp-clip", ftoa(c.DPClip))
	}
	if c.SecureAgg {
		a = append(a, "--secure-agg")
	}
	if c.TLS != nil {
		a = append(a, "--tls-ca", c.TLS.CA, "--tls-cert", c.TLS.Cert, "--tls-key", c.TLS.Key)
	}
	return a
}

// ClientConfig is a Flower client's command line.
type ClientConfig struct {
	Python, Script string
	Server         string
	Data           string // the site's training slice (JSON Lines)
	ClientID       string
	Epochs         int
	LR             float64
	Seed           int64
	DieInRound     int // fault injection: exit abruptly during this round's fit
	TLS            *TLSFiles
}

func (c ClientConfig) args() []string {
	a := []string{c.Script, "--server", c.Server, "--data", c.Data, "--client-id", c.ClientID,
		"--epochs", strconv.Itoa(max(1, c.Epochs)), "--lr", ftoa(c.LR), "--seed", strconv.FormatInt(c.Seed, 10)}
	if c.DieInRound > 0 {
		a = append(a, "--die-in-round", strconv.Itoa(c.DieInRound))
	}
	if c.TLS != nil {
		a = append(a, "--tls-ca", c.TLS.CA, "--tls-cert", c.TLS.Cert, "--tls-key", c.TLS.Key)
	}
	return a
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Process is a running Flower process.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	mu   sync.Mutex
	tail bytes.Buffer // the last 8 KiB of stderr, for errors
}

// Wait returns when the process has exited, with its error (stderr's tail
// attached).
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Kill ends the process (SIGKILL) and waits for it.
func (p *Process) Kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

type tailWriter struct{ p *Process }

func (t tailWriter) Write(b []byte) (int, error) {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	t.p.tail.Write(b)
	if n := t.p.tail.Len(); n > 8<<10 {
		rest := append([]byte(nil), t.p.tail.Bytes()[n-(8<<10):]...)
		t.p.tail.Reset()
		t.p.tail.Write(rest)
	}
	return len(b), nil
}

func start(ctx context.Context, name, python string, args []string, stdout io.Writer) (*Process, error) {
	if python == "" {
		python = "python3"
	}
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = tailWriter{p}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		err := cmd.Wait()
		if err != nil {
			p.mu.Lock()
			err = fmt.Errorf("%s: %w\n%s", name, err, p.tail.String())
			p.mu.Unlock()
		}
		p.err = err
		close(p.done)
	}()
	return p, nil
}

// StartServer starts the Flower server; each event it prints is sent on
// events (which is closed when the server's stdout ends). A line that is
// not an event is ignored.
func StartServer(ctx context.Context, cfg ServerConfig, events chan<- Event) (*Process, error) {
	if cfg.Rounds < 1 || cfg.MinClients < 1 || cfg.Address == "" || cfg.OutDir == "" || cfg.Script == "" {
		return nil, errors.New("flower server: rounds, min_clients, address, out_dir and script are required")
	}
	return startEvents(ctx, "flower server", cfg.Python, cfg.args(), events)
}

// SecAggConfig is the secure-aggregation deployment's command line
// (adapters/flower/secagg/run.py: a SuperLink, a SuperNode per site's
// slice, FedAvg inside Flower's SecAggPlusWorkflow).
type SecAggConfig struct {
	Python, Script string
	Rounds         int
	MinClients     int
	OutDir         string
	Data           []string // each site's own slice, one SuperNode each
	ClientIDs      []string
	InDim          int
	Seed           int64
	LR             float64
	Epochs         int
}

// StartSecAgg starts a secure-aggregation federation; its events are
// those of StartServer.
func StartSecAgg(ctx context.Context, cfg SecAggConfig, events chan<- Event) (*Process, error) {
	if cfg.Rounds < 1 || cfg.MinClients < 1 || cfg.OutDir == "" || cfg.Script == "" || len(cfg.Data) < cfg.MinClients {
		return nil, errors.New("flower secagg: rounds, min_clients, out_dir, script and a slice per client are required")
	}
	a := []string{cfg.Script, "--rounds", strconv.Itoa(cfg.Rounds), "--min-clients", strconv.Itoa(cfg.MinClients),
		"--out-dir", cfg.OutDir, "--seed", strconv.FormatInt(cfg.Seed, 10), "--epochs", strconv.Itoa(max(1, cfg.Epochs))}
	if cfg.InDim > 0 {
		a = append(a, "--in-dim", strconv.Itoa(cfg.InDim))
	}
	if cfg.LR > 0 {
		a = append(a, "--lr", ftoa(cfg.LR))
	}
	for i, d := range cfg.Data {
		a = append(a, "--data", d)
		if i < len(cfg.ClientIDs) {
			a = append(a, "--client-id", cfg.ClientIDs[i])
		}
	}
	return startEvents(ctx, "flower secagg", cfg.Python, a, events)
}

func startEvents(ctx context.Context, name, python string, args []string, events chan<- Event) (*Process, error) {
	pr, pw := io.Pipe()
	p, err := start(ctx, name, python, args, pw)
	if err != nil {
		pw.Close()
		return nil, err
	}
	go func() {
		<-p.done
		pw.Close()
	}()
	go func() {
		defer close(events)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if len(line) == 0 || line[0] != '{' {
				continue
			}
			var ev Event
			if json.Unmarshal(line, &ev) != nil || ev.Event == "" {
				continue
			}
			ev.Raw = append(json.RawMessage(nil), line...)
			events <- ev
		}
		io.Copy(io.Discard, pr)
	}()
	return p, nil
}

// StartClient starts a Flower client.
func StartClient(ctx context.Context, cfg ClientConfig) (*Process, error) {
	if cfg.Server == "" || cfg.Data == "" || cfg.ClientID == "" || cfg.Script == "" {
		return nil, errors.New("flower client: server, data, client_id and script are required")
	}
	return start(ctx, "flower client "+cfg.ClientID, cfg.Python, cfg.args(), io.Discard)
}
