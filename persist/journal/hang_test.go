package journal

import (
	"os"
	"testing"
)

func TestHang(t *testing.T) {
	b, err := os.ReadFile("/tmp/hang.bin.keep")
	if err != nil {
		t.Skip()
	}
	fixCRC := b[len(b)-1] == 1
	data := b[:len(b)-1]
	t.Logf("fixCRC=%v len=%d", fixCRC, len(data))
	if fixCRC {
		data = append([]byte(nil), data...)
		fixCRCs(data)
	}
	dir := t.TempDir()
	writeFile(t, dir+"/"+segmentName(0), data)
	r, err := NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, off, p, err := r.Next()
		if err != nil {
			t.Logf("reader end: %v after %d", err, i)
			break
		}
		_ = off
		_ = p
	}
	j, err := Open(Options{Dir: dir, Fsync: FsyncNever})
	t.Logf("open: %v", err)
	if err == nil {
		t.Logf("rec %+v", j.Recovery())
		j.Close()
	}
}
