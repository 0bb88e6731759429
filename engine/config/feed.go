package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"thunderline/hotpath/decide/spec"
)

// MoldFeed is a live Nasdaq TotalView-ITCH 5.0 feed over MoldUDP64
// (feed.kind: moldudp64).
type MoldFeed struct {
	// Listen is the feed's local address (host:port), or the multicast
	// group:port with multicast. Required.
	Listen    string `yaml:"listen"`
	Multicast bool   `yaml:"multicast"`
	Interface string `yaml:"interface"` // the multicast interface ("": the system's choice)
	// Rerequest is the re-request server (host:port); "": gaps are given
	// up at the deadline, counted.
	Rerequest string `yaml:"rerequest"`
	// JoinLate starts at the first packet seen instead of sequence 1.
	JoinLate bool `yaml:"join_late"`
	// Date is the session's day, YYYY-MM-DD: event times are its midnight
	// in New York plus the messages' timestamps [today in New York].
	Date string `yaml:"date"`
	// XDP counts the feed's packets and wire sequence gaps at the network
	// driver (adapters/moldbpf), beside what the socket reads: /metrics
	// then tells a gap on the wire from a drop in this host. Off unless
	// an interface is given; where the kernel or privileges refuse, the
	// run says so once, counts it and goes on without it.
	XDP FeedXDP `yaml:"xdp"`
	// BusyPoll reads the feed socket with non-blocking reads and yields
	// between them instead of parking in Go's network poller, and the
	// feed's reader never sleeps: next to loops that never park the
	// runtime polls the network as rarely as every 10 ms, which a parked
	// reader would wait. [true with rings.wait: yield, else false]
	BusyPoll *bool `yaml:"busy_poll"`
	// Channels are the feed's MoldUDP64 channels, all arriving on Listen:
	// a venue shards its symbols over several sessions, each with its own
	// sequence numbers, gaps and re-requests (and possibly its own
	// re-request server). Their messages enter the engine in one arrival
	// order, which the journal keeps. [none: one channel, whatever session
	// arrives first]
	Channels []MoldChannel `yaml:"channels"`
	// Steering says how the channels reach their receiving loops: "ebpf"
	// opens a SO_REUSEPORT socket per channel on Listen and an
	// SK_REUSEPORT program (adapters/moldbpf) sends each datagram to the
	// socket of its channel's loop, one loop (goroutine) per channel;
	// "off" reads every channel on one socket in one loop, by the session
	// each datagram names. ebpf needs two channels or more, unicast, and
	// root; where the kernel or privileges refuse, the run says so once,
	// counts steer_unavailable and runs as with off. [off]
	Steering string `yaml:"steering"`
}

// MoldChannel is one channel of a MoldUDP64 feed (feed.moldudp64.channels).
type MoldChannel struct {
	// Session is the channel's MoldUDP64 session name, at most 10
	// characters (letters, digits, spaces inside). Required.
	Session string `yaml:"session"`
	// Rerequest is this channel's re-request server (host:port)
	// [feed.moldudp64.rerequest].
	Rerequest string `yaml:"rerequest"`
}

// SteerEBPF reports whether feed.moldudp64.steering asks for the eBPF
// steering program.
func (f MoldFeed) SteerEBPF() bool { return f.Steering == "ebpf" }

// BusyPolled reports feed.moldudp64.busy_poll, defaulting to the rings'
// wait (yield: true).
func (p *Profile) BusyPolled() bool {
	if b := p.Feed.MoldUDP64.BusyPoll; b != nil {
		return *b
	}
	return p.NoSleep()
}

// FeedXDP places the XDP packet and gap counter (feed.moldudp64.xdp).
type FeedXDP struct {
	Interface string `yaml:"interface"` // the interface the feed arrives on ("": off)
	Mode      string `yaml:"mode"`      // auto | native | generic [auto]
}

// Day returns the session day.
func (f MoldFeed) Day() (time.Time, error) {
	if f.Date == "" {
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			return time.Time{}, spec.Fieldf("feed.moldudp64.date", "not given, and the New York time zone is not available: %v", err)
		}
		n := time.Now().In(ny)
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	d, err := time.Parse("2006-01-02", f.Date)
	if err != nil {
		return time.Time{}, spec.Fieldf("feed.moldudp64.date", "%q: want YYYY-MM-DD", f.Date)
	}
	return d, nil
}

func (f MoldFeed) validate() error {
	if f.Listen == "" {
		return spec.Fieldf("feed.moldudp64.listen", "required with feed.kind moldudp64 (host:port, or group:port with multicast)")
	}
	switch f.XDP.Mode {
	case "", "auto", "native", "generic":
	default:
		return spec.Fieldf("feed.moldudp64.xdp.mode", "%q: want auto, native or generic", f.XDP.Mode)
	}
	if f.XDP.Mode != "" && f.XDP.Interface == "" {
		return spec.Fieldf("feed.moldudp64.xdp.mode", "without feed.moldudp64.xdp.interface: there is nothing to attach to")
	}
	if len(f.Channels) > MaxMoldChannels {
		return spec.Fieldf("feed.moldudp64.channels", "%d channels: at most %d", len(f.Channels), MaxMoldChannels)
	}
	for i, c := range f.Channels {
		field := fmt.Sprintf("feed.moldudp64.channels[%d]", i)
		if err := validSession(c.Session); err != nil {
			return spec.Fieldf(field+".session", "%q: %v", c.Session, err)
		}
		for j, o := range f.Channels[:i] {
			if strings.TrimRight(o.Session, " ") == strings.TrimRight(c.Session, " ") {
				return spec.Fieldf(field+".session", "%q is channel %d's session too", c.Session, j)
			}
		}
		if c.Rerequest != "" {
			if _, _, err := net.SplitHostPort(c.Rerequest); err != nil {
				return spec.Fieldf(field+".rerequest", "%q: want host:port", c.Rerequest)
			}
		}
	}
	switch f.Steering {
	case "", "off":
	case "ebpf":
		if len(f.Channels) < 2 {
			return spec.Fieldf("feed.moldudp64.steering", "ebpf with %d channels: it steers two or more (feed.moldudp64.channels) to their loops", len(f.Channels))
		}
		if f.Multicast {
			return spec.Fieldf("feed.moldudp64.steering", "ebpf with multicast: every socket of a group gets each multicast datagram, there is nothing to steer")
		}
	default:
		return spec.Fieldf("feed.moldudp64.steering", "%q: want ebpf or off", f.Steering)
	}
	_, err := f.Day()
	return err
}

// MaxMoldChannels is the most channels a MoldUDP64 feed may have (the
// steering group's sockets).
const MaxMoldChannels = 64

// validSession checks a MoldUDP64 session name: 1 to 10 characters,
// printable ASCII, no leading space (trailing spaces are the padding).
func validSession(s string) error {
	if s == "" || len(s) > 10 {
		return fmt.Errorf("want 1 to 10 characters")
	}
	if s[0] == ' ' {
		return fmt.Errorf("starts with a space")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return fmt.Errorf("byte %d is not printable ASCII", i)
		}
	}
	return nil
}

// SoupFeed is a TotalView-ITCH 5.0 feed over SoupBinTCP (feed.kind:
// soupbintcp).
type SoupFeed struct {
	Addr     string `yaml:"addr"` // the server, host:port. Required.
	Username string `yaml:"username"`
	// PasswordEnv names the environment variable holding the password (a
	// profile holds no secret).
	PasswordEnv string `yaml:"password_env"`
	Session     string `yaml:"session"` // "": the server's current session
	// Date is the session's day, YYYY-MM-DD [today in New York].
	Date string `yaml:"date"`
}

// Password reads the password from PasswordEnv.
func (f SoupFeed) Password() string {
	if f.PasswordEnv == "" {
		return ""
	}
	return os.Getenv(f.PasswordEnv)
}

// Day returns the session day.
func (f SoupFeed) Day() (time.Time, error) { return MoldFeed{Date: f.Date}.Day() }

func (f SoupFeed) validate() error {
	if f.Addr == "" {
		return spec.Fieldf("feed.soupbintcp.addr", "required with feed.kind soupbintcp (host:port)")
	}
	if len(f.Username) > 6 || len(f.Session) > 10 {
		return spec.Fieldf("feed.soupbintcp", "username %q or session %q too long (6 and 10 characters)", f.Username, f.Session)
	}
	_, err := f.Day()
	return err
}

// DBNLive is Databento's live gateway (feed.kind: dbn-live).
type DBNLive struct {
	Addr    string   `yaml:"addr"`     // the gateway, host:port. Required.
	Dataset string   `yaml:"dataset"`  // e.g. GLBX.MDP3. Required.
	Schema  string   `yaml:"schema"`   // e.g. mbo. Required.
	SType   string   `yaml:"stype_in"` // [raw_symbol]
	Symbols []string `yaml:"symbols"`  // Required (ALL_SYMBOLS for all).
	// KeyEnv names the environment variable holding the API key (a profile
	// holds no secret; errors and logs show only its last five characters).
	// Required.
	KeyEnv string `yaml:"key_env"`
	// Start asks for intraday replay from this time before live data: an
	// RFC 3339 time, nanoseconds since the epoch, or 0 for all the gateway
	// has ["": live only].
	Start string `yaml:"start"`
	// Overlap widens the replay a reconnect asks for below the last tick's
	// event time, for feeds whose ts_event steps back [0] (see
	// adapters/dbnlive.FeedConfig.Overlap).
	Overlap Duration `yaml:"overlap"`
	// Heartbeat asks the gateway for heartbeats at this interval, whole
	// seconds from 5s to 30m; a session silent for 5 s longer is broken and
	// resumed [the gateway's 30s].
	Heartbeat Duration `yaml:"heartbeat"`
	// StrictSymbols refuses records of instruments the stream never named.
	StrictSymbols bool `yaml:"strict_symbols"`
}

// APIKey reads the key from KeyEnv.
func (f DBNLive) APIKey() (string, error) {
	if f.KeyEnv == "" {
		return "", spec.Fieldf("feed.dbn_live.key_env", "required: the environment variable holding the API key")
	}
	k := os.Getenv(f.KeyEnv)
	if k == "" {
		return "", spec.Fieldf("feed.dbn_live.key_env", "%s is not set", f.KeyEnv)
	}
	return k, nil
}

// Replay returns feed.dbn_live.start as nanoseconds since the epoch; ok is
// false when it is not set (live only).
func (f DBNLive) Replay() (ns int64, ok bool, err error) {
	if f.Start == "" {
		return 0, false, nil
	}
	if n, err := strconv.ParseInt(f.Start, 10, 64); err == nil {
		if n < 0 {
			return 0, false, spec.Fieldf("feed.dbn_live.start", "%d: want 0 or a time after the epoch", n)
		}
		return n, true, nil
	}
	t, err := time.Parse(time.RFC3339Nano, f.Start)
	if err != nil || t.Before(time.Unix(0, 0)) {
		return 0, false, spec.Fieldf("feed.dbn_live.start", "%q: want an RFC 3339 time, nanoseconds since the epoch, or 0 (all)", f.Start)
	}
	return t.UnixNano(), true, nil
}

func (f DBNLive) validate() error {
	switch {
	case f.Addr == "":
		return spec.Fieldf("feed.dbn_live.addr", "required with feed.kind dbn-live (the gateway's host:port)")
	case f.Dataset == "":
		return spec.Fieldf("feed.dbn_live.dataset", "required (e.g. GLBX.MDP3)")
	case f.Schema == "":
		return spec.Fieldf("feed.dbn_live.schema", "required (e.g. mbo)")
	case len(f.Symbols) == 0:
		return spec.Fieldf("feed.dbn_live.symbols", "required: at least one symbol (or ALL_SYMBOLS)")
	case f.KeyEnv == "":
		return spec.Fieldf("feed.dbn_live.key_env", "required: the environment variable holding the API key")
	case f.Overlap < 0:
		return spec.Fieldf("feed.dbn_live.overlap", "%v is negative", time.Duration(f.Overlap))
	}
	for i, s := range f.Symbols {
		if s == "" || strings.ContainsAny(s, "|,\n") {
			return spec.Fieldf(fmt.Sprintf("feed.dbn_live.symbols[%d]", i), "%q: a symbol is not empty and holds no '|', ',' or newline", s)
		}
	}
	for _, v := range []struct{ field, val string }{{"dataset", f.Dataset}, {"schema", f.Schema}, {"stype_in", f.SType}} {
		if strings.ContainsAny(v.val, "|=\n") {
			return spec.Fieldf("feed.dbn_live."+v.field, "%q holds '|', '=' or a newline", v.val)
		}
	}
	if h := time.Duration(f.Heartbeat); h != 0 && (h < 5*time.Second || h > 30*time.Minute || h%time.Second != 0) {
		return spec.Fieldf("feed.dbn_live.heartbeat", "%v: want whole seconds from 5s to 30m", h)
	}
	_, _, err := f.Replay()
	return err
}
