package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"thunderline/adapters/dbnlive"
	"thunderline/adapters/feedsim"
	"thunderline/adapters/inputfile"
	"thunderline/adapters/itch"
	"thunderline/adapters/moldudp64"
	"thunderline/adapters/soupbintcp"
)

// cmdFeedSim: thunderline feed-sim --file F (--mold ADDR | --soup ADDR |
// --dbn-gateway ADDR --key-env VAR).
func cmdFeedSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("feed-sim", stderr)
	file := fs.String("file", "", "ITCH 5.0 `input`: a framed file (*NASDAQ_ITCH50*, .itch) or a MoldUDP64 capture (.pcap, .pcapng)")
	mold := fs.String("mold", "", "send MoldUDP64 datagrams to `host:port` (unicast or a multicast group)")
	retrans := fs.String("retransmit", "127.0.0.1:0", "serve MoldUDP64 re-requests on `host:port`")
	soup := fs.String("soup", "", "serve the feed over SoupBinTCP on `host:port` instead")
	user := fs.String("user", "sim", "SoupBinTCP user name")
	passEnv := fs.String("password-env", "", "SoupBinTCP password from this environment `variable` (default: none)")
	session := fs.String("session", "SIM", "session name (at most 10 characters; with --channels N, the channels' are this name and 1…N)")
	channels := fs.Int("channels", 1, "MoldUDP64 channels to shard the messages over by stock locate (`n` sessions from one socket, one re-request server for all)")
	rate := fs.Float64("rate", 0, "messages a second (0: as fast as possible)")
	speed := fs.Float64("speed", 0, "pace by the messages' timestamps, as a `multiple` of real time")
	packet := fs.Int("packet", 8, "messages per MoldUDP64 packet")
	drop := fs.Int("drop-every", 0, "drop every `n`-th packet (its messages stay re-requestable)")
	reorder := fs.Int("reorder-every", 0, "send every `n`-th packet after the next one")
	gateway := fs.String("dbn-gateway", "", "serve --file (a .dbn or .dbn.zst capture) as Databento's live gateway on `host:port` instead")
	dataset := fs.String("dataset", "GLBX.MDP3", "the gateway's dataset (--dbn-gateway)")
	keyEnv := fs.String("key-env", "", "the gateway's API key from this environment `variable` (--dbn-gateway; required)")
	synth := fs.Uint64("synthetic", 0, "send a synthetic session of `n` order messages instead of a file (adds, executions, deletes; event time paced by --rate)")
	symbols := fs.Int("symbols", 16, "symbols of the synthetic session")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *gateway != "" {
		return serveDBNGateway(ctx, *gateway, *file, *dataset, *keyEnv, stderr, nil)
	}
	if (*file == "") == (*synth == 0) || (*mold == "") == (*soup == "") {
		return usagef("feed-sim: give --file or --synthetic N, and exactly one of --mold and --soup")
	}
	var src feedsim.Source
	if *synth > 0 {
		r := *rate
		if r == 0 {
			r = 100_000
		}
		s, err := feedsim.NewSynthITCH(feedsim.SynthConfig{Symbols: *symbols, Messages: *synth, Rate: r})
		if err != nil {
			return err
		}
		src, *rate = s, r
	} else {
		f, _, err := inputfile.Open(*file, inputfile.Options{What: "itch input"})
		if err != nil {
			return err
		}
		defer f.Close()
		src = itch.NewFileReader(bufio.NewReaderSize(f, 1<<16))
		if l := strings.ToLower(*file); strings.HasSuffix(l, ".pcap") || strings.HasSuffix(l, ".pcapng") {
			if src, err = itch.NewCaptureReader(bufio.NewReaderSize(f, 1<<16)); err != nil {
				return fmt.Errorf("feed-sim: %w", err)
			}
		}
	}
	o := feedsim.Options{Rate: *rate, Speed: *speed, PacketMessages: *packet, DropEvery: *drop, ReorderEvery: *reorder}
	if *soup != "" {
		log := soupbintcp.NewLog(*session)
		srv, err := soupbintcp.Listen(*soup, soupbintcp.ServerConfig{Log: log, Users: map[string]string{*user: os.Getenv(*passEnv)}})
		if err != nil {
			return err
		}
		defer srv.Close()
		fmt.Fprintf(stderr, "feed-sim: SoupBinTCP on %s, session %q; Ctrl-C stops it\n", srv.Addr(), log.Session())
		st, err := feedsim.FillSoup(ctx, src, log, o)
		fmt.Fprintf(stdout, "feed-sim: %d messages in session %q (served until stopped)\n", st.Messages, log.Session())
		if err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
	if *channels < 1 || *channels > 64 {
		return usagef("feed-sim: --channels %d: want 1 to 64", *channels)
	}
	names := []string{*session}
	if *channels > 1 {
		names = names[:0]
		for i := 1; i <= *channels; i++ {
			names = append(names, fmt.Sprintf("%s%d", *session, i))
		}
	}
	for _, n := range names {
		if len(n) > moldudp64.SessionLen {
			return usagef("feed-sim: session %q: longer than %d characters", n, moldudp64.SessionLen)
		}
	}
	// Every channel from one socket: one source address, as a venue's
	// channels to one port arrive (the case steering is for).
	first, err := moldudp64.Dial(*mold, moldudp64.MakeSession(names[0]))
	if err != nil {
		return err
	}
	defer first.Close()
	pubs := []*moldudp64.Publisher{first}
	for _, n := range names[1:] {
		pubs = append(pubs, first.Channel(moldudp64.MakeSession(n)))
	}
	rs, err := moldudp64.ListenRetransmit(*retrans, moldudp64.MakeSession(names[0]), first.Store)
	if err != nil {
		return err
	}
	defer rs.Close()
	for i, p := range pubs[1:] {
		rs.AddSession(moldudp64.MakeSession(names[i+1]), p.Store)
	}
	go rs.Serve()
	fmt.Fprintf(stderr, "feed-sim: MoldUDP64 to %s, session%s %s, re-requests on %s\n", *mold, map[bool]string{true: "s"}[len(names) > 1],
		strings.Join(names, ", "), rs.Addr())
	st, err := feedsim.PublishMoldChannels(ctx, src, pubs, o)
	fmt.Fprintf(stdout, "feed-sim: %d messages in %d packets (%d dropped, %d reordered), end of session sent\n",
		st.Messages, st.Packets, st.Dropped, st.Reordered)
	for i, c := range st.Channels {
		fmt.Fprintf(stdout, "feed-sim: channel %s: %d messages in %d packets (%d dropped, %d reordered)\n", names[i], c.Messages, c.Packets, c.Dropped, c.Reordered)
	}
	return err
}

// serveDBNGateway serves a DBN capture as Databento's live gateway until
// ctx ends (feed-sim --dbn-gateway); ready, when not nil, is told the
// gateway's address once it listens.
func serveDBNGateway(ctx context.Context, addr, file, dataset, keyEnv string, stderr io.Writer, ready func(addr string)) error {
	if file == "" || keyEnv == "" || os.Getenv(keyEnv) == "" {
		return usagef("feed-sim --dbn-gateway: give --file (a DBN capture) and --key-env naming a set variable")
	}
	f, _, err := inputfile.Open(file, inputfile.Options{What: "dbn input"})
	if err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	srv, err := dbnlive.NewServer(addr, os.Getenv(keyEnv), dataset, b)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stderr, "feed-sim: Databento live gateway on %s, dataset %s, %d records; Ctrl-C stops it\n", srv.Addr(), dataset, srv.Records())
	if ready != nil {
		ready(srv.Addr())
	}
	<-ctx.Done()
	fmt.Fprintf(stderr, "feed-sim: %d sessions served, %d refused\n", srv.Sessions.Load(), srv.Refused.Load())
	return nil
}
