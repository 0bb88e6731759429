package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

const itchData = "../../shared/data/itch"

// TestReplayITCH: Nasdaq's 2019-12-30 sample from 09:30 replays through the
// whole engine — ticks into the MBO books, windows, decisions — twice to the
// same digests (--verify), with the message counts of the file and the
// unknown order references counted; a capture of MoldUDP64 datagrams
// replays too.
func TestReplayITCH(t *testing.T) {
	sum, err := Replay(context.Background(), []string{filepath.Join(itchData, "12302019_SNIPPET.NASDAQ_ITCH50")}, ReplayOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	r := sum.Records
	if r["A"] != 367 || r["U"] != 225 || r["D"] != 167 || r["unknown_order_ref"] != 394 || r["unknown_type"] != 0 {
		t.Fatalf("records %v", r)
	}
	if sum.Ticks == 0 || sum.Windows == 0 || len(sum.Symbols) < 100 || !sum.Verify.OK() {
		t.Fatalf("ticks %d windows %d symbols %d verify %+v", sum.Ticks, sum.Windows, len(sum.Symbols), sum.Verify)
	}
	cap := filepath.Join(itchData, "moldudp64/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap")
	sum, err = Replay(context.Background(), []string{cap}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records["A"] != 36 || sum.Records["packets"] != 2 || sum.Ticks == 0 {
		t.Fatalf("capture: records %v ticks %d", sum.Records, sum.Ticks)
	}
	// A framed file whose name carries no session day is refused by name.
	if _, err := Replay(context.Background(), []string{"testdata/no-date.itch"}, ReplayOptions{}); err == nil || !strings.Contains(err.Error(), "session day is not in the name") {
		t.Fatalf("an ITCH file without a day in its name: %v", err)
	}
}
