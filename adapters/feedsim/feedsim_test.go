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
