package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"thunderline/adapters/dbn"
	"thunderline/adapters/synthetic"
	"thunderline/engine/config"
	"thunderline/engine/edgar"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/record"
	"thunderline/profiles"
)

// DefaultProfile returns the embedded minimal profile.
func DefaultProfile() (*config.Profile, error) {
	return config.Parse(profiles.Minimal(), "minimal.yaml (embedded)")
}

// ReplayProfile returns the embedded replay profile.
func ReplayProfile() (*config.Profile, error) {
	b, err := profiles.Get("replay.yaml")
	if err != nil {
		return nil, err
	}
	return config.Parse(b, "replay.yaml (embedded)")
}

// RunOptions configure `thunderline run`.
type RunOptions struct {
	Profile       *config.Profile
	For           time.Duration
	Progress      func(Progress)
	ProgressEvery time.Duration
	Logger        *slog.Logger
	// Now names the run's journal directory (run-<UTC time>); default time.Now.
	Now func() time.Time
	// Started, when set, is called with the assembled pipeline before it
	// runs (to serve its admin HTTP, reload its router, ...); an error stops
	// the run before it starts.
	Started func(p *Pipeline) error
}

// RunLive runs the profile's feed until ctx is cancelled, For passes or the
// feed ends, journaling under the profile's journal root.
func RunLive(ctx context.Context, ro RunOptions) (*Summary, error) {
	prof := ro.Profile
	syms := record.NewSymbols()
	var src Source
	var inputs []string
	switch prof.Feed.Kind {
	case "", "synthetic":
		feed, err := synthetic.New(prof.SyntheticConfig(), syms)
		if err != nil {
			return nil, err
		}
		src = SyntheticSource{Feed: feed}
		inputs = []string{fmt.Sprintf("synthetic(seed=%d, symbols=%d, rate=%g/s)", feed.Config().Seed, feed.Config().Symbols, feed.Config().Rate)}
	case "dbn":
		s, err := newDBNSource(prof.Feed.DBN.Files, syms, dbn.SourceOptions{Strict: prof.Feed.DBN.StrictSymbols})
		if err != nil {
			return nil, err
		}
		src, inputs = s, prof.Feed.DBN.Files
	case "moldudp64":
		if ro.For > 0 { // a quiet live feed does not hold the run past --for
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, ro.For)
			defer cancel()
		}
		feed := prof.Feed.MoldUDP64
		busy := prof.BusyPolled()
		feed.BusyPoll = &busy
		mf, err := StartMoldFeed(ctx, feed, syms)
		if err != nil {
			return nil, err
		}
		if err := mf.XDPErr(); err != nil && ro.Logger != nil {
			// Once, at the start; the count is xdp_unavailable.
			ro.Logger.Warn("feed.moldudp64.xdp: running without the XDP packet counter", "err", err)
		}
		if err := mf.SteerErr(); err != nil && ro.Logger != nil {
			// Once, at the start; the count is steer_unavailable.
			ro.Logger.Warn("feed.moldudp64.steering: running without eBPF steering, every channel on one socket and one loop", "err", err)
		}
		src, inputs = mf, []string{"moldudp64://" + mf.Addr()}
	case "dbn-live":
		if ro.For > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, ro.For)
			defer cancel()
		}
		df, err := StartDBNLiveFeed(ctx, prof.Feed.DBNLive, syms)
		if err != nil {
			return nil, err
		}
		src, inputs = df, []string{"dbn-live://" + prof.Feed.DBNLive.Addr}
	case "soupbintcp":
		if ro.For > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, ro.For)
			defer cancel()
		}
		sf, err := StartSoupFeed(ctx, prof.Feed.SoupBinTCP, syms)
		if err != nil {
			return nil, err
		}
		src, inputs = sf, []string{"soupbintcp://" + prof.Feed.SoupBinTCP.Addr}
	}
	opts := Options{Profile: prof, Symbols: syms, For: ro.For, Progress: ro.Progress,
		ProgressEvery: ro.ProgressEvery, Logger: ro.Logger, Inputs: inputs, Wire: prof.Feed.Kind == "moldudp64"}
	if live := prof.Feed.Kind == "moldudp64" || prof.Feed.Kind == "soupbintcp" || prof.Feed.Kind == "dbn-live"; prof.Feed.Pace != "max" && !live { // a live feed paces itself
		opts.Pacing = PaceRealtime
	}
	if prof.JournalEnabled() {
		now := time.Now
		if ro.Now != nil {
			now = ro.Now
		}
		opts.JournalDir = filepath.Join(prof.JournalRoot(), "run-"+now().UTC().Format("20060102T150405.000Z"))
	}
	p, err := New(opts)
	if err != nil {
		return nil, err
	}
	if prof.Edgar.Enabled() {
		p.edgarLive = &edgar.Live{}
	}
	if ro.Started != nil {
		if err := ro.Started(p); err != nil {
			p.Close()
			return nil, err
		}
	}
	sh, err := p.startShipper(ctx)
	if err != nil {
		p.Close()
		return nil, err
	}
	if opts.JournalDir != "" {
		stop := p.keepJournals(opts.JournalDir)
		defer stop()
	}
	var eb *edgar.Beside
	if prof.Edgar.Enabled() {
		if eb, err = p.startEdgar(ctx); err != nil {
			if sh != nil {
				sh.Finish(0, 0, nil)
			}
			p.Close()
			return nil, err
		}
	}
	sum, err := p.Run(ctx, src)
	if eb != nil {
		// The market run ended: the filings path may finish its input
		// (a directory) for a while, unless the run was interrupted.
		grace := 30 * time.Second
		if ctx.Err() != nil {
			grace = 0
		}
		es, eerr := eb.Wait(grace)
		if sum != nil {
			sum.Edgar = es
		}
		if err == nil && eerr != nil {
			err = fmt.Errorf("edgar: %w", eerr)
		}
	}
	if sh != nil && sum != nil && sum.Journal != nil {
		log := ro.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		drain := prof.PostgresDrain()
		if st := sh.Stats(); st.NextOffset < sum.Journal.Records {
			log.Info("postgres: the run ended; shipping what is left", "left", sum.Journal.Records-st.NextOffset,
				"of", sum.Journal.Records, "drain", drain)
		}
		ss := sh.Finish(sum.Journal.Records, drain, func(left, of uint64) {
			log.Info("postgres: shipping", "left", left, "of", of)
		})
		if !ss.CaughtUp {
			log.Warn("postgres: incomplete after the drain; ship the rest with the command", "left", ss.Left, "command", ss.Finish)
		}
		sum.Postgres = &ss
	}
	if s, ok := src.(*dbnSource); ok && sum != nil {
		sum.Records = recordNames(s.Counts())
	}
	if s, ok := src.(interface{ Counts() map[string]uint64 }); ok && sum != nil {
		sum.Records = s.Counts()
	}
	return sum, err
}

// ReplayOptions configure `thunderline replay`.
type ReplayOptions struct {
	// Profile for market-data inputs; a journal brings its own. Default: the
	// embedded replay profile.
	Profile       *config.Profile
	Partitions    int
	Verify        bool
	Progress      func(Progress)
	ProgressEvery time.Duration
	Logger        *slog.Logger
	// JournalDir, when set, journals the replay of market-data inputs.
	JournalDir string
}

// ErrVerify is returned when replay --verify finds a mismatch.
var ErrVerify = runjournal.ErrVerify

// Replay replays inputs: one journal directory (of a market or an EDGAR
// run), DBN files (.dbn, .dbn.zst) or Nasdaq ITCH 5.0 files and captures
// played in the order given, or filing
// directories (EDGAR documents). With Verify, a journal's windows and
// labels are re-derived and checked against their recorded hashes (an
// EDGAR journal's digests against the ones it recorded); market data and
// filings are replayed twice and the two runs' digests compared.
func Replay(ctx context.Context, inputs []string, ro ReplayOptions) (*Summary, error) {
	if len(inputs) == 0 {
		return nil, errors.New("replay: no input (give a .dbn or .dbn.zst file, a journal directory or a filing directory)")
	}
	var journals, files, itchFiles, filingDirs []string
	for _, in := range inputs {
		switch {
		case runjournal.IsJournal(in):
			journals = append(journals, in)
		case isDir(in):
			filingDirs = append(filingDirs, in)
		case isMarketFile(in):
			files = append(files, in)
		case isITCHFile(in):
			itchFiles = append(itchFiles, in)
		default:
			return nil, fmt.Errorf("replay: input %s: want a .dbn or .dbn.zst file, an ITCH 5.0 file or capture (*NASDAQ_ITCH50*, .itch, .pcap, .pcapng), a journal directory or a filing directory", in)
		}
	}
	kinds := 0
	for _, l := range [][]string{journals, files, itchFiles, filingDirs} {
		if len(l) > 0 {
			kinds++
		}
	}
	switch {
	case len(journals) > 1 || kinds > 1:
		return nil, errors.New("replay: give one journal directory, market-data files, or filing directories, not a mix")
	case len(journals) == 1 && edgar.IsJournal(journals[0]):
		es, err := edgar.ReplayJournal(ctx, journals[0], ro.edgar())
		if es == nil {
			return nil, err
		}
		return &Summary{Inputs: journals, Edgar: es}, err
	case len(journals) == 1:
		return replayJournal(ctx, journals[0], ro)
	case len(filingDirs) > 0:
		es, err := edgar.ReplayDirs(ctx, filingDirs, ro.edgar())
		return &Summary{Inputs: filingDirs, Edgar: es}, err
	}
	prof := ro.Profile
	if prof == nil {
		var err error
		if prof, err = ReplayProfile(); err != nil {
			return nil, err
		}
	}
	once := func(journalDir string) (*Summary, error) {
		syms := record.NewSymbols()
		var src Source
		inputs := files
		if len(itchFiles) > 0 {
			s, err := newITCHSource(itchFiles, syms)
			if err != nil {
				return nil, err
			}
			src, inputs = s, itchFiles
		} else {
			s, err := newDBNSource(files, syms, dbn.SourceOptions{})
			if err != nil {
				return nil, err
			}
			src = s
		}
		p, err := New(Options{Profile: prof, Symbols: syms, Partitions: ro.Partitions, Progress: ro.Progress,
			ProgressEvery: ro.ProgressEvery, Logger: ro.Logger, Inputs: inputs, JournalDir: journalDir})
		if err != nil {
			return nil, err
		}
		sum, err := p.Run(ctx, src)
		if sum != nil {
			switch s := src.(type) {
			case *dbnSource:
				sum.Records = recordNames(s.Counts())
			case *itchSource:
				sum.Records = s.Counts()
			}
		}
		return sum, err
	}
	sum, err := once(ro.JournalDir)
	if err != nil || !ro.Verify {
		return sum, err
	}
	again, err := once("")
	if err != nil {
		return sum, err
	}
	v := &VerifyResult{WindowsChecked: again.Windows, LabelsChecked: again.LabelsFilled,
		RecordedWindows: sum.Windows, RecordedDigest: sum.WindowDigest, RecordedLabels: sum.LabelDigest,
		DigestMatches: sum.WindowDigest == again.WindowDigest, LabelsMatch: sum.LabelDigest == again.LabelDigest,
		TracesChecked: again.Traces, RecordedTraces: sum.Traces, RecordedTraceDigest: sum.TraceDigest,
		TracesMatch: sum.TraceDigest == again.TraceDigest, RecordedShadowDigest: sum.ShadowDigest,
		ShadowsMatch: sum.ShadowDigest == again.ShadowDigest}
	sum.Verify = v
	if !v.OK() {
		return sum, fmt.Errorf("%w: two replays of the same input gave window digests %s and %s, trace digests %s and %s",
			ErrVerify, sum.WindowDigest, again.WindowDigest, sum.TraceDigest, again.TraceDigest)
	}
	return sum, nil
}

func replayJournal(ctx context.Context, dir string, ro ReplayOptions) (*Summary, error) {
	syms := record.NewSymbols()
	src, meta, err := openJournal(dir, syms)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	prof, err := runjournal.DecodeMeta(meta, dir)
	if err != nil {
		return nil, err
	}
	opts := Options{Profile: prof, Symbols: syms, Partitions: ro.Partitions, Progress: ro.Progress,
		ProgressEvery: ro.ProgressEvery, Logger: ro.Logger, Inputs: []string{dir}}
	if ro.Verify {
		rec, err := LoadRecorded(dir)
		if err != nil {
			return nil, err
		}
		opts.Verify = rec
	}
	p, err := New(opts)
	if err != nil {
		return nil, err
	}
	src.OnRouter = p.AddRouterConfig
	src.OnOperator = p.AddOperator
	sum, err := p.Run(ctx, src)
	if sum != nil {
		sum.Records = src.Kinds
		if sum.Cut = src.Cut; sum.Cut != nil {
			if ro.Logger != nil {
				ro.Logger.Warn("journal was cut", "dir", dir, "what", sum.Cut.Text())
			}
		}
	}
	if err == nil && sum.Verify != nil && !sum.Verify.OK() {
		err = fmt.Errorf("%w: %d mismatches between the journal and its replay", ErrVerify, sum.Verify.Mismatches)
	}
	return sum, err
}

// edgar returns the options of a replay of filings.
func (ro ReplayOptions) edgar() edgar.ReplayOptions {
	return edgar.ReplayOptions{Profile: ro.Profile, Partitions: ro.Partitions, Verify: ro.Verify, Logger: ro.Logger, JournalDir: ro.JournalDir}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isMarketFile(p string) bool {
	return strings.HasSuffix(p, ".dbn") || strings.HasSuffix(p, ".dbn.zst")
}

func recordNames(c dbn.RecordCounts) map[string]uint64 {
	m := map[string]uint64{}
	for t, n := range c.ByRType {
		if n > 0 {
			m[dbn.RType(t).String()] += n
		}
	}
	return m
}
