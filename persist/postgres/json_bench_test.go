package postgres

import (
	"bytes"
	"encoding/json"
	"testing"
)

// jsonStringCases are strings the shipper writes: short ASCII keys and
// names (every JSON key, symbols, recipe names), an EDGAR-like text with
// quotes, newlines and non-ASCII letters, and a string of control bytes.
var jsonStringCases = []struct{ name, s string }{
	{"ascii-short", "trade_qty"},
	{"ascii-name", "ESZ6.momentum_v3"},
	{"escapes", "Item 1A. \"Risk Factors\"\n\tOur results may vary — see Note 7 (€ and ¥ exposure).\r\n"},
	{"controls", "a\x01b\x02c\x1fd\\e\"f"},
}

// BenchmarkJSONString weighs appendJSONString (the shipper's writer)
// against encoding/json on the same strings, in the same run: json.Marshal
// of the string, and a json.Encoder with SetEscapeHTML(false) into a reused
// buffer. Each appends to a reused []byte, as jsonw does.
//
//	go test -run '^$' -bench BenchmarkJSONString -benchmem ./persist/postgres/
func BenchmarkJSONString(b *testing.B) {
	for _, c := range jsonStringCases {
		b.Run(c.name+"/appendJSONString", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = appendJSONString(buf[:0], c.s)
			}
		})
		b.Run(c.name+"/json.Marshal", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			buf := make([]byte, 0, 256)
			for b.Loop() {
				q, err := json.Marshal(c.s)
				if err != nil {
					b.Fatal(err)
				}
				buf = append(buf[:0], q...)
			}
		})
		b.Run(c.name+"/json.Encoder", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			buf := make([]byte, 0, 256)
			for b.Loop() {
				out.Reset()
				if err := enc.Encode(c.s); err != nil {
					b.Fatal(err)
				}
				buf = append(buf[:0], out.Bytes()[:out.Len()-1]...) // Encode adds a newline
			}
		})
	}
}
