package feedsim

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"thunderline/adapters/itch"
	"thunderline/adapters/moldudp64"
	"thunderline/adapters/soupbintcp"
)

const snippet = "../../../shared/data/itch/12302019_SNIPPET.NASDAQ_ITCH50"

func open(t *testing.T) *itch.FileReader {
	t.Helper()
	f, err := os.Open(filepath.Clean(snippet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return itch.NewFileReader(f)
}

// TestPublishMold: the sample's 1,000 messages in packets of 8 to a real
// UDP socket, one packet in 7 dropped and one in 5 sent after the next:
// what arrives is exactly what was not dropped, reordered as said, the
// store holds every message, and the end of session comes last.
func TestPublishMold(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadBuffer(8 << 20)
	var session [moldudp64.SessionLen]byte
	copy(session[:], "TEST      ")
	pub, err := moldudp64.Dial(conn.LocalAddr().String(), session)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	st, err := PublishMold(context.Background(), open(t), pub, Options{DropEvery: 7, ReorderEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 1000 || st.Packets != 125 || st.Dropped != 17 || st.Reordered == 0 {
		t.Fatalf("stats %+v", st)
	}
	if _, ok := pub.Store.Get(1000); !ok {
		t.Fatal("the store does not hold every message")
	}
	got, outOfOrder, ended := 0, 0, false
	var last uint64
	buf := make([]byte, moldudp64.MaxDatagram)
	for !ended {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d messages: %v", got, err)
		}
		seq := binary.BigEndian.Uint64(buf[10:18])
		count := binary.BigEndian.Uint16(buf[18:20])
		if count == moldudp64.EndOfSession {
			ended = true
			continue
		}
		if seq < last {
			outOfOrder++
		}
		last = seq
		got += int(count)
		_ = n
	}
	if want := 1000 - int(st.Dropped)*8; got != want || outOfOrder == 0 {
		t.Fatalf("received %d messages (%d packets out of order), want %d", got, outOfOrder, want)
	}
}

// TestPaced: Speed paces by the messages' timestamps and Rate by count; a
// cancelled context stops the feed.
func TestPaced(t *testing.T) {
	log := soupbintcp.NewLog("S")
	start := time.Now()
	st, err := FillSoup(context.Background(), open(t), log, Options{Rate: 20000})
	if err != nil || st.Messages != 1000 || log.Len() != 1000 {
		t.Fatalf("%+v %v", st, err)
	}
	if d := time.Since(start); d < 45*time.Millisecond {
		t.Fatalf("1,000 messages at 20,000/s took %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FillSoup(ctx, open(t), soupbintcp.NewLog("S"), Options{Rate: 10}); err == nil {
		t.Fatal("a cancelled feed went on")
	}
}

// TestPublishMoldChannels: the sample sharded over three channels from one
// socket: every message about a stock goes, once, to the channel of its
// stock locate, in the file's order within that channel and numbered 1, 2,
// 3… in its session; messages about no stock (system events) go to every
// channel; each channel ends its own session. One packet in seven of each
// channel is dropped (kept in that channel's store).
func TestPublishMoldChannels(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadBuffer(8 << 20)
	tx, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	names := []string{"SIM1", "SIM2", "SIM3"}
	var pubs []*moldudp64.Publisher
	for _, n := range names {
		pubs = append(pubs, moldudp64.NewPublisher(tx, moldudp64.MakeSession(n)))
	}
	st, err := PublishMoldChannels(context.Background(), open(t), pubs, Options{DropEvery: 7})
	if err != nil {
		t.Fatal(err)
	}

	// What the file holds, by channel.
	want := make([][][]byte, len(names))
	r := open(t)
	for {
		m, _, err := r.Next()
		if err != nil {
			break
		}
		for i := range names {
			if m.Locate() == 0 || ChannelOf(m.Locate(), len(names)) == i {
				want[i] = append(want[i], append([]byte(nil), m.Bytes()...))
			}
		}
	}
	if len(st.Channels) != 3 {
		t.Fatalf("stats %+v", st)
	}
	var total uint64
	for i, p := range pubs {
		c := st.Channels[i]
		total += c.Messages
		if c.Messages != uint64(len(want[i])) || c.Dropped == 0 || len(want[i]) < 100 {
			t.Fatalf("channel %d: %+v, want %d messages and drops", i, c, len(want[i]))
		}
		for k, w := range want[i] {
			got, ok := p.Store.Get(uint64(k + 1))
			if !ok || string(got) != string(w) {
				t.Fatalf("channel %d message %d: %x, want %x", i, k+1, got, w)
			}
		}
	}
	if total != st.Messages || total <= 1000 {
		t.Fatalf("messages %d, channels' sum %d (the 1,000 and the system events' copies)", st.Messages, total)
	}

	// On the wire: each channel's undropped messages, in its order, then its end.
	got := make([]int, len(names))
	ended := 0
	buf := make([]byte, moldudp64.MaxDatagram)
	for ended < len(names) {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %v messages: %v", got, err)
		}
		ch := -1
		for i, nm := range names {
			if moldudp64.MakeSession(nm) == [moldudp64.SessionLen]byte(buf[:moldudp64.SessionLen]) {
				ch = i
			}
		}
		if ch < 0 {
			t.Fatalf("a datagram of session %q", buf[:moldudp64.SessionLen])
		}
		h, err := moldudp64.Messages(buf[:n], func(seq uint64, msg []byte) {
			if string(msg) != string(want[ch][seq-1]) {
				t.Fatalf("channel %d message %d is not the file's", ch, seq)
			}
			got[ch]++
		})
		if err != nil {
			t.Fatal(err)
		}
		if h.End() {
			ended++
		}
	}
	for i := range names {
		w := len(want[i])
		for k := 7; (k-1)*8 < len(want[i]); k += 7 { // packets 7, 14, … of 8 messages dropped
			w -= min(k*8, len(want[i])) - (k-1)*8
		}
		if got[i] != w {
			t.Fatalf("channel %d: %d messages on the wire, want %d of %d (%d packets dropped)", i, got[i], w, len(want[i]), st.Channels[i].Dropped)
		}
	}
}
