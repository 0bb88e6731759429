package source

import "testing"

func BenchmarkParseIndex(b *testing.B) {
	data := readSample(b, "index/form.20200318.idx")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, bad, _, err := ParseIndex(data); err != nil || bad != 0 {
			b.Fatal(err, bad)
		}
	}
}
