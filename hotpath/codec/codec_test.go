package codec

import (
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

var errTest = errors.New("corrupt test record")

// sample writes one of every primitive.
func sample() []byte {
	var a Appender
	a.Magic("TLXX", 3)
	a.U8(0xfe)
	a.U16(0x1234)
	a.U32(0xdeadbeef)
	a.U64(0x0102030405060708)
	a.I64(-2)
	a.F32(-1.5)
	a.F64(math.Pi)
	a.Bool(true)
	a.Bool(false)
	a.Raw([]byte{0xaa, 0xbb})
	a.Name8("ESZ6")
	a.Str32("", "acme")
	a.StrList32([]string{"x", "yz"})
	AppendList(&a, []uint16{7, 8}, func(a *Appender, v *uint16) { a.U16(*v) })
	return a.B
}

func TestAppendBytes(t *testing.T) {
	want := "544c585803" + "fe" + "3412" + "efbeadde" + "0807060504030201" + "feffffffffffffff" +
		"0000c0bf" + "182d4454fb210940" + "01" + "00" + "aabb" + "04" + "4553 5a36" +
		"00000000" + "04000000" + "61636d65" + "02000000" + "01000000" + "78" + "02000000" + "797a" +
		"02000000" + "0700" + "0800"
	if got := hex.EncodeToString(sample()); got != strings.ReplaceAll(want, " ", "") {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestReadBack(t *testing.T) {
	b := sample()
	r := NewReader(b, errTest)
	r.Magic("TLXX", 3)
	if r.U8("u8") != 0xfe || r.U16("u16") != 0x1234 || r.U32("u32") != 0xdeadbeef || r.U64("u64") != 0x0102030405060708 ||
		r.I64("i64") != -2 || r.F32("f32") != -1.5 || r.F64("f64") != math.Pi || !r.Bool("t") || r.Bool("f") {
		t.Fatalf("numbers read back wrong (err %v)", r.Err())
	}
	var raw [2]byte
	r.Read(raw[:], "raw")
	var s1, s2 string
	name := r.Name8("name")
	r.Str32s("strs", &s1, &s2)
	list := r.StrList32("list")
	nums := ReadList(&r, 2, "nums", func(r *Reader, v *uint16) { *v = r.U16("num") })
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
	if raw != [2]byte{0xaa, 0xbb} || name != "ESZ6" || s1 != "" || s2 != "acme" || len(list) != 2 || list[1] != "yz" ||
		len(nums) != 2 || nums[1] != 8 {
		t.Fatalf("read back %x %q %q %q %q %v", raw, name, s1, s2, list, nums)
	}
	// Every cut fails, wrapping the sentinel, and never panics.
	for i := range b {
		r := NewReader(b[:i], errTest)
		r.Magic("TLXX", 3)
		r.U8("")
		r.U16("")
		r.U32("")
		r.U64("")
		r.I64("")
		r.F32("")
		r.F64("")
		r.Bool("")
		r.Bool("")
		r.Read(raw[:], "")
		r.Name8("")
		r.Str32s("", &s1, &s2)
		r.StrList32("")
		ReadList(&r, 2, "", func(r *Reader, v *uint16) { *v = r.U16("") })
		if err := r.End(); !errors.Is(err, errTest) {
			t.Fatalf("cut at %d: %v", i, err)
		}
	}
}

func TestName8Cut(t *testing.T) {
	var a Appender
	a.Name8(strings.Repeat("n", 300))
	if len(a.B) != 1+MaxName8 || a.B[0] != MaxName8 {
		t.Fatalf("%d bytes, length byte %d", len(a.B), a.B[0])
	}
}

func TestReaderRefuses(t *testing.T) {
	f := func(name string, b []byte, read func(r *Reader), wantErr string) {
		t.Helper()
		r := NewReader(b, errTest)
		read(&r)
		err := r.End()
		if !errors.Is(err, errTest) || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s: error %v, want one saying %q", name, err, wantErr)
		}
	}
	f("bad magic", []byte("TLYY\x03"), func(r *Reader) { r.Magic("TLXX", 3) }, `bad magic "TLYY"`)
	f("bad version", []byte("TLXX\x04"), func(r *Reader) { r.Magic("TLXX", 3) }, "TLXX version 4, want 3")
	f("flag", []byte{2}, func(r *Reader) { r.Bool("abstain") }, "abstain flag 2 not 0 or 1")
	f("oversized string", []byte{0xff, 0xff, 0xff, 0xff, 'a'}, func(r *Reader) { r.Str32("s") }, "need 4294967295 bytes")
	f("oversized name", []byte{3, 'a'}, func(r *Reader) { r.Name8("n") }, "n: need 3 bytes at offset 1, have 1")
	f("negative length", []byte{1}, func(r *Reader) { r.Bytes(-1, "ext") }, "ext: need -1 bytes")
	f("oversized count", []byte{3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, func(r *Reader) { r.Count(4, "items") },
		"items: count 3 does not fit in 8 bytes")
	f("huge count", []byte{0xff, 0xff, 0xff, 0xff}, func(r *Reader) { r.StrList32("list") }, "count 4294967295")
	f("trailing", []byte{1, 2}, func(r *Reader) { r.U8("one") }, "1 trailing bytes")
	// The first error sticks: later reads return zero values.
	r := NewReader([]byte{9, 1, 2, 3, 4}, errTest)
	r.Bytes(-1, "first")
	if r.U8("x") != 0 || r.U32("y") != 0 || !strings.Contains(r.Err().Error(), "first") {
		t.Fatalf("error did not stick: %v", r.Err())
	}
}

func TestBytesCapacity(t *testing.T) {
	b := []byte{1, 2, 3, 4}
	r := NewReader(b, errTest)
	s := r.Bytes(2, "ext")
	_ = append(s, 9)
	if b[2] != 3 || cap(s) != 2 {
		t.Fatal("appending to a sub-slice wrote over the record")
	}
}

func TestAppendNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	a := testing.AllocsPerRun(1000, func() {
		a := Appender{B: buf[:0]}
		a.Magic("TLXX", 1)
		a.U16(1)
		a.U32(2)
		a.I64(3)
		a.F32(4)
		a.F64(5)
		a.Bool(true)
		a.Name8("tenant")
		a.Str32("a", "b")
		buf = a.B
	})
	if a != 0 {
		t.Fatalf("allocs = %v", a)
	}
}

func TestUUID8(t *testing.T) {
	var sum [32]byte
	for i := range sum {
		sum[i] = 0xff
	}
	id := UUID8(sum)
	if id[6] != 0x8f || id[8] != 0xbf || id[0] != 0xff || id[15] != 0xff {
		t.Fatalf("%x", id)
	}
}
