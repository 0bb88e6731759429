// Command thunderline is the engine's one binary. Its commands (the usage
// text below has their flags):
//
//	thunderline run [--profile FILE] [--for DURATION] [--router FILE] [--no-admin] [--json]
//	    run the engine: the profile's feed, journal, admin HTTP and dashboard,
//	    and the filings path and Postgres shipper when the profile has them
//	thunderline replay [--partitions N] [--json] [--verify] [--profile FILE] [--journal DIR] INPUT...
//	    replay DBN files, a run's journal, filing directories or an EDGAR journal
//	thunderline migrate [--dsn DSN]
//	    apply the Postgres schema
//	thunderline ship [--dsn DSN] [--tenant T] [--json] JOURNAL_DIR
//	    ship a run's journal to Postgres (the backfill after a crash or outage)
//	thunderline edgar ingest [flags] DIR|URL
//	    run the EDGAR filings path on its own
//	thunderline edgar parse [--json] [--text] [--mem] FILE
//	    print one EDGAR document as parsed
//	thunderline export --out FILE [--json] JOURNAL_DIR
//	    write a run's training slice (JSON Lines)
//	thunderline federate --spec FILE [--dsn DSN] [--tenant T] [--work DIR] ...
//	    run a federation end to end through a real Flower deployment
//	thunderline feed-sim --file ITCH (--mold ADDR | --soup ADDR) ...
//	    send an ITCH file or capture as a live MoldUDP64 or SoupBinTCP feed
//	thunderline feed-sim --dbn-gateway ADDR --file DBN --key-env VAR [--dataset D]
//	    serve a DBN capture as Databento's live gateway
//	thunderline version
//	    print the version
//	thunderline help
//	    print the usage
//
// The commands assemble the engine's packages (engine, engine/admin,
// engine/edgar, engine/export, engine/federation, engine/ship); flags live
// here and nowhere else.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"thunderline/actors/chief"
	"thunderline/actors/eye"
	"thunderline/actors/tree"
	"thunderline/engine"
	"thunderline/engine/admin"
	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/engine/ship"
)

const usage = `thunderline — low-latency decision engine for market and filings data

Usage:
  thunderline run [--profile FILE] [--for DURATION] [--router FILE] [--no-admin]
      Run the engine. With no profile: the embedded minimal profile (a seeded
      synthetic feed, journal under ./var/journal). Ctrl-C stops it cleanly.
      It serves the admin HTTP and dashboard on 127.0.0.1:8470 and prints the
      URL (and a generated token when the profile configures none).
      --router FILE replaces the profile's router; SIGHUP hot-swaps a new
      version from it.
  thunderline replay [--partitions N] [--json] [--verify] [--profile FILE] INPUT...
      Replay .dbn / .dbn.zst files, Nasdaq TotalView-ITCH 5.0 files
      (*NASDAQ_ITCH50*, .itch) and MoldUDP64 captures (.pcap, .pcapng),
      a run's journal directory (market or
      EDGAR), or filing directories, and print ticks, rejects, windows,
      per-symbol counts and digests (documents, filings and digests for
      filings).
      --verify: re-derive a journal's windows and labels and check every hash
      (market-data files and filings are replayed twice and the digests
      compared).
  thunderline migrate [--dsn DSN]
      Apply the Postgres schema (idempotent). DSN defaults to THUNDERLINE_PG_DSN.
  thunderline ship [--dsn DSN] [--tenant T] JOURNAL_DIR
      Ship a run's journal to Postgres (resuming where Postgres left off) and
      wait until every record is there: the backfill after a crash or outage.
  thunderline ticks --symbol S --from TIME --to TIME [--tenant T] [--journal ID] [--dsn DSN] [--out F.parquet | --csv]
      The archived raw ticks of a symbol and time range (postgres.archive):
      found through tick_files, read from their Parquet files; CSV on stdout
      or one Parquet file.
  thunderline edgar ingest [--profile FILE] [--partitions N] [--json] DIR|URL
      Run the EDGAR filings path on its own: filings from a directory or an
      EDGAR-style HTTP site (fair access: --user-agent with a contact e-mail,
      --rate, resumable --state), parsed, windowed per CIK, routed, journaled.
  thunderline edgar parse [--json] FILE
      Print one EDGAR document as parsed (cik, form, filing time, period end,
      sections with lengths, facts with concept, value, unit, period, dimensions).
  thunderline export --out FILE JOURNAL_DIR
      Write a run's training slice (JSON Lines): every window whose label was
      filled, with its features and label class — what federated clients
      train on.
  thunderline federate --spec FILE [--dsn DSN] [--tenant T] [--work DIR]
      Run a federation end to end through a real Flower deployment: leases
      and signed manifests over mutual TLS, rounds and artifacts recorded in
      Postgres, checkpoints in the artifact store (S3 when
      THUNDERLINE_S3_ENDPOINT is set), the final model a shadow candidate.
  thunderline feed-sim --file ITCH (--mold ADDR | --soup ADDR) [--rate N]
          [--speed X] [--drop-every N] [--reorder-every N] [--channels N]
      Send an ITCH 5.0 file or capture as a live feed: MoldUDP64 datagrams
      (with a re-request server) or a SoupBinTCP session, paced, with
      injected drops and reorderings — the source of the live-feed tests.
      --channels N shards the messages by stock locate over N MoldUDP64
      sessions (SIM1…SIMN), each with its own sequence numbers.
  thunderline feed-sim --dbn-gateway ADDR --file DBN --key-env VAR [--dataset D]
      Serve a DBN capture (.dbn, .dbn.zst) as Databento's live gateway: the
      CRAM handshake against the key in VAR, subscriptions, replay from
      start=, then the capture's records (feed.kind: dbn-live reads it).
  thunderline version
      Print the version (module version, Go version, VCS revision).
  thunderline help
      Print this text.

Run 'thunderline COMMAND --help' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "replay":
		err = cmdReplay(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "ship":
		err = cmdShip(ctx, args[1:], stdout, stderr)
	case "ticks":
		err = cmdTicks(ctx, args[1:], stdout, stderr)
	case "edgar":
		err = cmdEdgar(ctx, args[1:], stdout, stderr)
	case "export":
		err = cmdExport(args[1:], stdout, stderr)
	case "federate":
		err = cmdFederate(ctx, args[1:], stdout, stderr)
	case "feed-sim":
		err = cmdFeedSim(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "thunderline: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "thunderline %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError is a command line the command refuses (exit status 2).
type usageError struct{ error }

// usagef is a usageError saying why.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// newFlags is the flag set of command name, writing its errors and help
// to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func version() string {
	v := "thunderline (devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = fmt.Sprintf("thunderline %s %s", bi.Main.Version, bi.GoVersion)
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
	}
	return v
}

// parseInterleaved parses flags that may come before or after positional
// arguments (replay a.dbn --json).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func loadProfile(path string) (*config.Profile, error) {
	if path == "" {
		return engine.DefaultProfile()
	}
	return config.Load(path)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	profile := fs.String("profile", "", "profile YAML `file` (default: the embedded minimal profile)")
	dur := fs.Duration("for", 0, "stop after this `duration` of wall-clock time (default: until Ctrl-C or the feed ends)")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	noAdmin := fs.Bool("no-admin", false, "do not serve the admin HTTP (the profile's admin section)")
	routerFile := fs.String("router", "", "router config `file`: replaces the profile's router section; SIGHUP re-reads it and hot-swaps the new version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	prof, err := loadProfile(*profile)
	if err != nil {
		return err
	}
	if *routerFile != "" {
		rc, err := config.LoadRouter(*routerFile)
		if err != nil {
			return err
		}
		prof.Router = *rc
	}
	tty := isTerminal(stderr)
	// The log, the progress lines and the admin's notes come from several
	// goroutines: one writer, serialised (a test's buffer is not safe for
	// concurrent writes; a terminal's lines would interleave).
	stderr = &lockedWriter{w: stderr}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	src := prof.Source()
	fmt.Fprintf(stderr, "thunderline run: profile %s, tenant %s, %d partitions, Ctrl-C to stop\n", src, prof.TenantName(), prof.NumPartitions())
	var srv *eye.Server
	var actors *tree.Tree
	started := func(p *engine.Pipeline) error {
		var err error
		withAdmin := prof.AdminEnabled() && !*noAdmin
		if actors, err = p.StartTree(tree.Options{Logger: log}, withAdmin, withAdmin); err != nil {
			return err
		}
		var be *admin.Admin
		if prof.AdminEnabled() && !*noAdmin {
			tokens, generated, err := admin.Tokens(prof)
			if err != nil {
				return err
			}
			be = admin.New(p, feedName(prof))
			be.Attach()
			be.ConfigureFederations(envOr("THUNDERLINE_FLOWER_DIR", "adapters/flower"), envOr("THUNDERLINE_PYTHON", "python3"))
			srv, err = eye.New(eye.Options{Addr: prof.AdminAddr(), AllowRemote: prof.Admin.AllowRemote, Tokens: tokens,
				MaxConns: prof.Admin.MaxConns, MaxStreams: prof.Admin.MaxStreams, AllowedHosts: prof.Admin.AllowedHosts}, be, log)
			if err != nil {
				return fmt.Errorf("admin: %w", err)
			}
			url, err := srv.Start()
			if err != nil {
				return fmt.Errorf("admin: %w", err)
			}
			go be.Run(ctx, time.Second)
			fmt.Fprintf(stderr, "admin at %s (health: %s/healthz, metrics: %s/metrics)\n", url, url, url)
			if generated != nil {
				// Printed once, here, for the operator; never logged.
				fmt.Fprintf(stderr, "dashboard: %s/dashboard#token=%s\n", url, generated.Value)
				fmt.Fprintf(stderr, "admin token (role admin, this run only): %s\n", generated.Value)
			} else {
				fmt.Fprintf(stderr, "dashboard: %s/dashboard (sign in with a configured token)\n", url)
			}
		}
		if prof.LadderEnabled() {
			if _, err := p.RunLadder(ctx, func(ev chief.Event) {
				log.Warn("backpressure ladder", "step", ev.To, "name", ev.Name, "direction", ev.Direction, "reason", ev.Reason)
				if be != nil {
					be.PublishLadder(ev)
				}
			}); err != nil {
				return err
			}
		}
		if *routerFile != "" {
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			go func() {
				for range hup {
					rc, err := config.LoadRouter(*routerFile)
					if err == nil {
						err = p.ReloadRouter(*rc)
					}
					if err != nil {
						log.Error("router reload refused; the running version stays", "file", *routerFile, "err", err)
						continue
					}
					log.Info("router reloaded", "file", *routerFile, "version", rc.WithDefaults().Version)
				}
			}()
		}
		return nil
	}
	sum, err := engine.RunLive(ctx, engine.RunOptions{Profile: prof, For: *dur, Logger: log, Started: started,
		ProgressEvery: prof.ProgressInterval(), Progress: func(p engine.Progress) { printProgress(stderr, p, tty, true) }})
	if actors != nil {
		actors.Stop()
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	if tty {
		fmt.Fprintln(stderr)
	}
	if sum != nil {
		printSummary(stdout, sum, *jsonOut)
	}
	return err
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	parts := fs.Int("partitions", 0, "partition loops (default: the profile's; the digests do not depend on it)")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	verify := fs.Bool("verify", false, "check every re-derived hash against the journal (or replay files twice and compare)")
	profile := fs.String("profile", "", "profile YAML `file` for market-data inputs (default: the embedded replay profile)")
	journalDir := fs.String("journal", "", "journal the replay of market-data files into `dir`")
	inputs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
		return usagef("no input: give .dbn / .dbn.zst files, Nasdaq ITCH 5.0 files or captures, or a journal directory")
	}
	if *parts < 0 || *parts > 256 {
		return usagef("--partitions %d: want 1 to 256", *parts)
	}
	ro := engine.ReplayOptions{Partitions: *parts, Verify: *verify, JournalDir: *journalDir}
	if *profile != "" {
		if ro.Profile, err = config.Load(*profile); err != nil {
			return err
		}
	}
	if tty := isTerminal(stderr); tty {
		ro.ProgressEvery = 200 * time.Millisecond
		ro.Progress = func(p engine.Progress) { printProgress(stderr, p, true, false) }
		defer fmt.Fprint(stderr, "\r\033[K")
	}
	sum, err := engine.Replay(ctx, inputs, ro)
	if sum != nil {
		printSummary(stdout, sum, *jsonOut)
	}
	return err
}

// printSummary prints a command's summary, as JSON or as text.
func printSummary(w io.Writer, sum interface{ Text(io.Writer) }, asJSON bool) {
	if asJSON {
		writeJSON(w, sum)
	} else {
		sum.Text(w)
	}
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// printProgress writes the live progress line: rewritten in place on a
// terminal, one line per update otherwise.
func printProgress(w io.Writer, p engine.Progress, tty, live bool) {
	secs := p.Elapsed.Seconds()
	if secs <= 0 {
		return
	}
	var b strings.Builder
	if p.InputTotal > 0 {
		frac := float64(p.InputBytes) / float64(p.InputTotal)
		const width = 24
		done := int(frac * width)
		fmt.Fprintf(&b, "[%s%s] %3.0f%% ", strings.Repeat("#", done), strings.Repeat(".", width-done), frac*100)
	}
	fmt.Fprintf(&b, "%6.1fs  ticks %d (%.0f/s)  windows %d (%.0f/s)  rejects %d  backlog %d",
		secs, p.Ticks, float64(p.Ticks)/secs, p.Windows, float64(p.Windows)/secs, p.Rejects, p.Backlog)
	if live {
		fmt.Fprintf(&b, "  lag %v", p.Lag.Round(time.Microsecond))
	}
	if p.Acked > 0 {
		fmt.Fprintf(&b, "  journaled %d", p.Acked)
	}
	if tty {
		fmt.Fprintf(w, "\r\033[K%s", b.String())
	} else {
		fmt.Fprintln(w, b.String())
	}
}

func feedName(p *config.Profile) string {
	if p.Feed.Kind == "" {
		return "synthetic"
	}
	return p.Feed.Kind
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	dsn := fs.String("dsn", os.Getenv("THUNDERLINE_PG_DSN"), "Postgres `dsn` (default: THUNDERLINE_PG_DSN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return usagef("no DSN: give --dsn or set THUNDERLINE_PG_DSN")
	}
	applied, err := ship.Migrate(ctx, *dsn)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "schema up to date")
	}
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	return nil
}

func cmdShip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ship", stderr)
	dsn := fs.String("dsn", os.Getenv("THUNDERLINE_PG_DSN"), "Postgres `dsn` (default: THUNDERLINE_PG_DSN)")
	tenant := fs.String("tenant", "", "tenant of the rows (default: the run's, from its journal)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) != 1 {
		return usagef("give one journal directory")
	}
	if *dsn == "" {
		return usagef("no DSN: give --dsn or set THUNDERLINE_PG_DSN")
	}
	prof, err := runjournal.ReadMeta(dirs[0])
	if err != nil {
		return err
	}
	if *tenant == "" {
		*tenant = prof.TenantName()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sum, err := ship.Backfill(ctx, *dsn, dirs[0], *tenant, prof.Postgres.Archive, log)
	if *jsonOut {
		writeJSON(stdout, sum)
	} else {
		fmt.Fprintf(stdout, "shipped %s: %d rows from %d records in %d batches, caught up %v, rejects %d\n",
			dirs[0], sum.Rows, sum.Records, sum.Batches, sum.CaughtUp, sum.Rejects)
	}
	return err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
