package config

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"thunderline/adapters/synthetic"
	"thunderline/hotpath/book"
	"thunderline/hotpath/decide/spec"
	"thunderline/hotpath/normalize"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// Price is a decimal price in YAML ("4500.25"), held as 1e-9 fixed point.
type Price int64

// UnmarshalYAML parses a decimal with at most nine fractional digits.
func (p *Price) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePrice(n.Value)
	if err != nil {
		return err
	}
	*p = Price(v)
	return nil
}

// MarshalYAML writes the price as a decimal string.
func (p Price) MarshalYAML() (any, error) { return FormatPrice(int64(p)), nil }

// ParsePrice parses a decimal string exactly into 1e-9 units.
func ParsePrice(s string) (int64, error) {
	bad := fmt.Errorf("price %q: want a decimal number with at most 9 fractional digits", s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 || !digits(whole) || !digits(frac) {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/record.PriceScale-1 {
		return 0, bad
	}
	var f int64
	if frac != "" {
		f, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil || f < 0 {
			return 0, bad
		}
	}
	v := w*record.PriceScale + f
	if neg {
		v = -v
	}
	return v, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// FormatPrice renders 1e-9 units as a decimal string.
func FormatPrice(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := fmt.Sprintf("%s%d.%09d", sign, v/record.PriceScale, v%record.PriceScale)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Profile is the whole YAML profile.
type Profile struct {
	// Tenant stamps every window and trace. Default "default".
	Tenant     string    `yaml:"tenant"`
	Feed       Feed      `yaml:"feed"`
	Partitions int       `yaml:"partitions"` // partition loops [GOMAXPROCS, at most 256]
	Rings      Rings     `yaml:"rings"`
	Normalize  Normalize `yaml:"normalize"`
	Book       Book      `yaml:"book"`
	Window     Window    `yaml:"window"`
	Journal    Journal   `yaml:"journal"`
	Progress   Progress  `yaml:"progress"`
	Router     Router    `yaml:"router"`
	Admin      Admin     `yaml:"admin"`
	Ladder     Ladder    `yaml:"ladder"`
	Postgres   Postgres  `yaml:"postgres"`
	Risk       Risk      `yaml:"risk"`
	Edgar      Edgar     `yaml:"edgar"`
	Models     Models    `yaml:"models"`
	Stage      Stage     `yaml:"stage"`
	source     string    // file the profile came from, for error messages
}

// Feed says where ticks come from in `thunderline run`.
type Feed struct {
	Kind       string    `yaml:"kind"` // synthetic | dbn | moldudp64 [synthetic]
	Pace       string    `yaml:"pace"` // realtime | max [realtime]
	Synthetic  Synthetic `yaml:"synthetic"`
	DBN        DBN       `yaml:"dbn"`
	MoldUDP64  MoldFeed  `yaml:"moldudp64"`
	SoupBinTCP SoupFeed  `yaml:"soupbintcp"`
	DBNLive    DBNLive   `yaml:"dbn_live"`
}

// Synthetic mirrors synthetic.Config.
type Synthetic struct {
	Seed            uint64   `yaml:"seed"`
	Symbols         int      `yaml:"symbols"`
	Depth           int      `yaml:"depth"`
	Rate            float64  `yaml:"rate"`
	TradeRatio      float64  `yaml:"trade_ratio"`
	BurstEvery      Duration `yaml:"burst_every"`
	BurstLength     Duration `yaml:"burst_length"`
	BurstMultiplier float64  `yaml:"burst_multiplier"`
	NoBursts        bool     `yaml:"no_bursts"`
	BadRatio        float64  `yaml:"bad_ratio"`
	MaxTicks        uint64   `yaml:"max_ticks"` // end the feed after this many ticks [0: endless]
}

// DBN lists Databento files to play as the feed.
type DBN struct {
	Files []string `yaml:"files"`
	// StrictSymbols rejects ticks whose instrument id no mapping resolves.
	StrictSymbols bool `yaml:"strict_symbols"`
}

// Rings sizes the rings (powers of two).
type Rings struct {
	Partition int `yaml:"partition"` // reader → each partition [65536]
	Journal   int `yaml:"journal"`   // reader → journal writer [65536]
	Output    int `yaml:"output"`    // partitions → journal writer [16384]
	// Wait is how a loop waits on an empty or full ring: sleep (back off to
	// sleeps of up to 1ms: idle costs nothing, latency up to a sleep) or
	// yield (never sleep: microsecond latency, a busy core per loop) [sleep].
	Wait string `yaml:"wait"`
}

// Normalize mirrors normalize.Config.
type Normalize struct {
	MinPrice *Price `yaml:"min_price"`
	MaxPrice *Price `yaml:"max_price"`
	Seq      string `yaml:"seq"` // off | contiguous | monotonic [monotonic]
}

// Book mirrors book.Config.
type Book struct {
	Depth     int `yaml:"depth"`
	MaxLevels int `yaml:"max_levels"`
	MaxOrders int `yaml:"max_orders"`
}

// Window mirrors window.Config.
type Window struct {
	Length          Duration `yaml:"length"`
	Overlap         *float64 `yaml:"overlap"`
	AllowedLateness Duration `yaml:"allowed_lateness"`
	Recipe          string   `yaml:"recipe"`
	Label           Label    `yaml:"label"`
	BurstBuckets    int      `yaml:"burst_buckets"`
	BurstRatio      float64  `yaml:"burst_ratio"`
	BurstMinTicks   int      `yaml:"burst_min_ticks"`
}

// Label is the label_spec.
type Label struct {
	Horizon      Duration `yaml:"horizon"`
	Type         string   `yaml:"type"`
	ThresholdBps float64  `yaml:"threshold_bps"`
}

// Progress is the live progress line.
type Progress struct {
	Interval Duration `yaml:"interval"` // [1s]
}

// Ladder is the backpressure ladder of `thunderline run` (seed 004 §9).
type Ladder struct {
	Enabled                *bool    `yaml:"enabled"`                   // [true]
	Interval               Duration `yaml:"interval"`                  // cadence [1s]
	UpAfter                int      `yaml:"up_after"`                  // degraded intervals before a step up [1]
	DownAfter              int      `yaml:"down_after"`                // healthy intervals before a step down [3]
	PlannedExpertsPerToken float64  `yaml:"planned_experts_per_token"` // [2.5]
	MinP                   float64  `yaml:"min_p"`                     // floor of the lowered p [0.3]
}

// LadderEnabled reports whether run drives the ladder [true].
func (p *Profile) LadderEnabled() bool { return p.Ladder.Enabled == nil || *p.Ladder.Enabled }

// LadderInterval is the ladder's cadence [1s].
func (p *Profile) LadderInterval() time.Duration {
	if p.Ladder.Interval == 0 {
		return time.Second
	}
	return time.Duration(p.Ladder.Interval)
}

// Admin is the admin HTTP server of `thunderline run` (health, actor tree,
// router, experts, kill switch, metrics, dashboard).
type Admin struct {
	Enabled     *bool        `yaml:"enabled"`      // [true]
	Addr        string       `yaml:"addr"`         // [127.0.0.1:8470]; loopback unless allow_remote
	AllowRemote bool         `yaml:"allow_remote"` // plain HTTP: put a TLS proxy in front
	Tokens      []AdminToken `yaml:"tokens"`       // none: a token is generated and printed once
	// MaxConns caps open admin connections [256; 2..65536]: the oldest
	// idle one is closed for a new one, or the new one refused (counted).
	MaxConns int `yaml:"max_conns"`
	// MaxStreams caps concurrent /stream clients [64; below max_conns].
	MaxStreams int `yaml:"max_streams"`
	// AllowedHosts: host names a request's Host may carry besides IP
	// addresses and localhost (others get 421).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// AdminToken is one bearer token. The value comes from the environment
// variable named by value_env (so profiles hold no secrets), or, for local
// experiments, from value.
type AdminToken struct {
	Role     string `yaml:"role"` // admin | operator | read_only
	ValueEnv string `yaml:"value_env"`
	Value    string `yaml:"value"`
}

// AdminEnabled reports whether run serves the admin HTTP [true].
func (p *Profile) AdminEnabled() bool { return p.Admin.Enabled == nil || *p.Admin.Enabled }

// AdminAddr returns the admin address with its default.
func (p *Profile) AdminAddr() string {
	if p.Admin.Addr == "" {
		return "127.0.0.1:8470"
	}
	return p.Admin.Addr
}

// Load reads and validates a profile file.
func Load(path string) (*Profile, error) { return spec.Load(path, "profile", Parse) }

// Parse decodes a profile strictly and validates it. name is the file
// errors name; every error is a *FieldError.
func Parse(b []byte, name string) (*Profile, error) {
	switch {
	case len(b) > MaxProfileBytes:
		return nil, spec.Locate(spec.Fieldf("", "%d bytes: a profile is at most %d", len(b), MaxProfileBytes), "profile", name)
	case emptyYAML(b):
		return nil, spec.Locate(spec.Fieldf("", "empty: a profile needs at least one key (profiles/minimal.yaml is the smallest)"), "profile", name)
	}
	p := &Profile{source: name}
	if err := spec.Decode(b, p, ""); err != nil {
		return nil, spec.Locate(err, "profile", name)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// emptyYAML reports whether b holds no YAML but blanks and comments.
func emptyYAML(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("---")) {
			return false
		}
	}
	return true
}

// MaxProfileBytes bounds a profile file.
const MaxProfileBytes = 1 << 20

// MaxRingCapacity bounds each ring's capacity (rings.*).
const MaxRingCapacity = 1 << 24

// Source is the file the profile was read from.
func (p *Profile) Source() string { return p.source }

func pow2(v int) bool { return v >= 2 && v&(v-1) == 0 }

// sign is a field's value and whether it is negative.
type sign struct {
	key string
	neg bool
	v   any
}

func negative[T ~int | ~int64 | ~float64](key string, v T) sign { return sign{key, v < 0, v} }

// notNegative is a *FieldError naming the first negative field.
func notNegative(fields ...sign) error {
	for _, f := range fields {
		if f.neg {
			return spec.Fieldf(f.key, "%v: must not be negative", f.v)
		}
	}
	return nil
}

// Validate checks the profile. The error is a *FieldError naming the key
// by its full path, and the file.
func (p *Profile) Validate() error { return spec.Locate(p.validate(), "profile", p.source) }

func (p *Profile) validate() error {
	fail := spec.Fieldf
	if len(p.Tenant) > 255 {
		return fail("tenant", "longer than 255 bytes")
	}
	switch p.Feed.Kind {
	case "", "synthetic", "dbn":
	case "moldudp64":
		if err := p.Feed.MoldUDP64.validate(); err != nil {
			return err
		}
	case "soupbintcp":
		if err := p.Feed.SoupBinTCP.validate(); err != nil {
			return err
		}
	case "dbn-live":
		if err := p.Feed.DBNLive.validate(); err != nil {
			return err
		}
	default:
		return fail("feed.kind", "%q: want synthetic, dbn, dbn-live, moldudp64 or soupbintcp", p.Feed.Kind)
	}
	if p.Feed.Kind == "dbn" && len(p.Feed.DBN.Files) == 0 {
		return fail("feed.dbn.files", "feed.kind is dbn but no files are listed")
	}
	switch p.Feed.Pace {
	case "", "realtime", "max":
	default:
		return fail("feed.pace", "%q: want realtime or max", p.Feed.Pace)
	}
	if err := p.SyntheticConfig().Validate(); err != nil {
		return fail("feed.synthetic", "%v", err)
	}
	if err := p.validateStage(); err != nil {
		return err
	}
	if p.Partitions < 0 || p.Partitions > 256 {
		return fail("partitions", "%d: want 1 to 256", p.Partitions)
	}
	for _, r := range []struct {
		key string
		v   int
	}{{"rings.partition", p.Rings.Partition}, {"rings.journal", p.Rings.Journal}, {"rings.output", p.Rings.Output}} {
		if r.v != 0 && (!pow2(r.v) || r.v > MaxRingCapacity) {
			return fail(r.key, "%d: must be a power of two from 2 to %d", r.v, MaxRingCapacity)
		}
	}
	if w := p.Rings.Wait; w != "" && w != "sleep" && w != "yield" {
		return fail("rings.wait", "%q: want sleep or yield", w)
	}
	if _, err := p.NormalizeConfig(); err != nil {
		return fail("normalize", "%v", err)
	}
	if err := p.BookConfig().WithDefaults().Validate(); err != nil {
		return fail("book", "%v", err)
	}
	wc, err := p.WindowConfig()
	if err == nil {
		err = wc.Validate()
	}
	if err != nil {
		return fail("window", "%v", err)
	}
	if wc.Label.Horizon <= int64(wc.Lateness) {
		return fail("window.label.horizon", "%v must exceed window.allowed_lateness %v", time.Duration(wc.Label.Horizon), wc.Lateness)
	}
	if err := p.JournalOptions("x").WithDefaults().Validate(); err != nil {
		return fail("journal", "%v", err)
	}
	if m := p.Journal.MinFreeBytes; m != nil && *m < 0 {
		return fail("journal.min_free_bytes", "%d: must not be negative", *m)
	}
	if err := notNegative(negative("journal.keep_for", time.Duration(p.Journal.KeepFor)), negative("journal.keep_bytes", p.Journal.KeepBytes)); err != nil {
		return err
	}
	if r := time.Duration(p.Journal.RetryInterval); r != 0 && (r < time.Millisecond || r > 10*time.Second) {
		return fail("journal.retry_interval", "%v: must be between 1ms and 10s", r)
	}
	if err := notNegative(negative("progress.interval", time.Duration(p.Progress.Interval))); err != nil {
		return err
	}
	if err := p.Router.Validate(); err != nil {
		return err
	}
	if err := p.Models.validate(); err != nil {
		return err
	}
	if m := p.Admin.MaxConns; m != 0 && (m < 2 || m > 65536) {
		return fail("admin.max_conns", "%d: want 2 to 65536", m)
	}
	conns := p.Admin.MaxConns
	if conns == 0 {
		conns = 256
	}
	if m := p.Admin.MaxStreams; m < 0 || (m != 0 && m >= conns) || (m == 0 && conns <= 64) {
		return fail("admin.max_streams", "%d: want 1 to max_conns-1", m)
	}
	for i, t := range p.Admin.Tokens {
		key := fmt.Sprintf("admin.tokens[%d]", i)
		switch {
		case t.Role != "admin" && t.Role != "operator" && t.Role != "read_only":
			return fail(key+".role", "%q: want admin, operator or read_only", t.Role)
		case (t.ValueEnv == "") == (t.Value == ""):
			return fail(key, "give exactly one of value_env and value")
		case t.Value != "" && len(t.Value) < 16:
			return fail(key+".value", "shorter than 16 characters")
		}
	}
	pg, l := p.Postgres, p.Ladder
	if err := notNegative(
		negative("postgres.batch_rows", pg.BatchRows),
		negative("postgres.batch_delay", time.Duration(pg.BatchDelay)),
		negative("postgres.raw_ticks_retention", time.Duration(pg.RawTicksRetention)),
		negative("ladder.interval", time.Duration(l.Interval)),
		negative("ladder.up_after", l.UpAfter),
		negative("ladder.down_after", l.DownAfter),
		negative("ladder.planned_experts_per_token", l.PlannedExpertsPerToken),
		negative("ladder.min_p", l.MinP),
	); err != nil {
		return err
	}
	if l.MinP >= 1 {
		return fail("ladder.min_p", "%v: want a number in [0, 1)", l.MinP)
	}
	if pg.BatchRows > 1<<20 {
		return fail("postgres.batch_rows", "%d: want at most 1048576", pg.BatchRows)
	}
	if d := time.Duration(pg.Drain); d > time.Hour {
		return fail("postgres.drain", "%v: want at most 1h (a negative value: do not wait)", d)
	}
	if err := p.Risk.validate(); err != nil {
		return err
	}
	return p.Edgar.validate()
}

// TenantName returns the tenant, with its default.
func (p *Profile) TenantName() string {
	if p.Tenant == "" {
		return "default"
	}
	return p.Tenant
}

// NumPartitions returns the partition count, with its default: one loop per
// core Go may use (GOMAXPROCS), at most 256 (bench/RESULTS.md, 2026-12-03);
// the digests do not depend on the count.
func (p *Profile) NumPartitions() int {
	if p.Partitions == 0 {
		return min(runtime.GOMAXPROCS(0), 256)
	}
	return p.Partitions
}

// RingSizes returns the ring capacities, with defaults.
func (p *Profile) RingSizes() (partition, journal, output int) {
	partition, journal, output = p.Rings.Partition, p.Rings.Journal, p.Rings.Output
	if partition == 0 {
		partition = 1 << 16
	}
	if journal == 0 {
		journal = 1 << 16
	}
	if output == 0 {
		output = 1 << 14
	}
	return
}

// NoSleep reports whether ring waits yield instead of sleeping.
func (p *Profile) NoSleep() bool { return p.Rings.Wait == "yield" }

// SyntheticConfig returns the synthetic feed's config, with defaults.
func (p *Profile) SyntheticConfig() synthetic.Config {
	s := p.Feed.Synthetic
	return synthetic.Config{Seed: s.Seed, Symbols: s.Symbols, Depth: s.Depth, Rate: s.Rate,
		TradeRatio: s.TradeRatio, BurstEvery: time.Duration(s.BurstEvery), BurstLength: time.Duration(s.BurstLength),
		BurstMultiplier: s.BurstMultiplier, NoBursts: s.NoBursts, BadRatio: s.BadRatio, MaxTicks: s.MaxTicks}.WithDefaults()
}

// NormalizeConfig returns the validator's config, with defaults.
func (p *Profile) NormalizeConfig() (normalize.Config, error) {
	c := normalize.Config{}.WithDefaults()
	if p.Normalize.MinPrice != nil {
		c.MinPrice = int64(*p.Normalize.MinPrice)
	}
	if p.Normalize.MaxPrice != nil {
		c.MaxPrice = int64(*p.Normalize.MaxPrice)
	}
	mode := p.Normalize.Seq
	if mode == "" {
		mode = "monotonic"
	}
	m, err := normalize.ParseSeqMode(mode)
	if err != nil {
		return c, fmt.Errorf("seq: %w", err)
	}
	c.Seq = m
	return c, c.Validate()
}

// BookConfig returns the book config (zero fields are defaults).
func (p *Profile) BookConfig() book.Config {
	return book.Config{Depth: p.Book.Depth, MaxLevels: p.Book.MaxLevels, MaxOrders: p.Book.MaxOrders}
}

// WindowConfig returns the window config, with defaults.
func (p *Profile) WindowConfig() (window.Config, error) {
	w := p.Window
	c := window.Config{Length: time.Duration(w.Length), Lateness: time.Duration(w.AllowedLateness),
		BurstBuckets: w.BurstBuckets, BurstRatio: w.BurstRatio, BurstMinTicks: w.BurstMinTicks,
		Depth: p.Book.Depth}
	if w.Overlap != nil {
		c.Overlap = *w.Overlap
		c.NoOverlap = *w.Overlap == 0
	}
	if w.Recipe != "" {
		r, err := window.ParseRecipe(w.Recipe)
		if err != nil {
			return c, err
		}
		c.Recipe = r
	}
	if w.Label.Type != "" {
		t, err := window.ParseLabelType(w.Label.Type)
		if err != nil {
			return c, fmt.Errorf("label: %w", err)
		}
		c.Label.Type = t
	}
	c.Label.Horizon = int64(w.Label.Horizon)
	c.Label.ThresholdBps = w.Label.ThresholdBps
	return c.WithDefaults(), nil
}

// ProgressInterval returns how often the progress line updates [1s].
func (p *Profile) ProgressInterval() time.Duration {
	if p.Progress.Interval == 0 {
		return time.Second
	}
	return time.Duration(p.Progress.Interval)
}
