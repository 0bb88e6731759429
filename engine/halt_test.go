package engine

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// framed reads a 2-byte-length-framed ITCH file into its messages.
func framed(t *testing.T, name string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(itchData, name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for off := 0; off < len(raw); {
		n := int(binary.BigEndian.Uint16(raw[off:]))
		out = append(out, raw[off+2:off+2+n])
		off += 2 + n
	}
	return out
}

// TestVenueHaltInBand: a trading halt (H) of a symbol placed before the
// 09:30 sample of 2019-12-30: every decision on that symbol abstains with
// the halted flag — denied in band at the halt's place in the input — and
// the journal of the replay verifies on another partition count.
func TestVenueHaltInBand(t *testing.T) {
	dir := framed(t, "12302019_first1000.NASDAQ_ITCH50") // the stock directory
	live := framed(t, "12302019_SNIPPET.NASDAQ_ITCH50")
	// The most active locate of the sample's adds, and its directory name.
	adds := map[uint16]int{}
	for _, m := range live {
		if m[0] == 'A' || m[0] == 'F' {
			adds[binary.BigEndian.Uint16(m[1:])]++
		}
	}
	names := map[uint16][]byte{}
	for _, m := range dir {
		if m[0] == 'R' {
			names[binary.BigEndian.Uint16(m[1:])] = m[11:19]
		}
	}
	var loc uint16
	for l, n := range adds {
		if names[l] != nil && (n > adds[loc] || (n == adds[loc] && l < loc)) {
			loc = l
		}
	}
	stock := names[loc]
	if stock == nil {
		t.Fatal("no add of the sample names a locate of the directory")
	}
	halt := make([]byte, 25)
	halt[0] = 'H'
	binary.BigEndian.PutUint16(halt[1:], loc)
	ts := uint64(9*3600+29*60+59) * 1e9 // 09:29:59, before the sample
	halt[5], halt[6] = byte(ts>>40), byte(ts>>32)
	binary.BigEndian.PutUint32(halt[7:], uint32(ts))
	copy(halt[11:19], stock)
	halt[19] = 'H' // halted
	copy(halt[21:25], "T1  ")

	write := func(name string, withHalt bool) string {
		var b []byte
		msgs := append(append([][]byte{}, dir...), live...)
		if withHalt {
			msgs = append(append(append([][]byte{}, dir...), halt), live...)
		}
		for _, m := range msgs {
			b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
			b = append(b, m...)
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	calm, err := Replay(context.Background(), []string{write("12302019_calm.NASDAQ_ITCH50", false)}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jdir := filepath.Join(t.TempDir(), "j")
	halted, err := Replay(context.Background(), []string{write("12302019_halt.NASDAQ_ITCH50", true)}, ReplayOptions{JournalDir: jdir, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	if calm.Decisions.Halted != 0 || halted.Decisions.Halted == 0 || halted.Records["halts"] != 1 {
		t.Fatalf("halted decisions: calm %d, with the halt %d (records %v)", calm.Decisions.Halted, halted.Decisions.Halted, halted.Records)
	}
	v, err := Replay(context.Background(), []string{jdir}, ReplayOptions{Verify: true, Partitions: 3})
	if err != nil || !v.Verify.OK() || v.TraceDigest != halted.TraceDigest {
		t.Fatalf("journal of the halted replay: %v %+v", err, v.Verify)
	}
}
