package filings

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

type sample struct {
	name string
	kind Kind
	body []byte
}

func samples(b *testing.B) ([]sample, int64) {
	b.Helper()
	kinds := map[string]Kind{"html": KindInlineXBRL, "xbrl": KindXBRL, "sgml": KindSGML, "json": KindCompanyFacts, "index": KindIndex}
	var out []sample
	var n int64
	for dir, k := range kinds {
		files, _ := filepath.Glob(filepath.Join(data, dir, "*"))
		for _, f := range files {
			body, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			kind := k
			if bytes.Contains(body[:min(len(body), 4096)], []byte(`"filings"`)) {
				kind = KindSubmissions
			}
			out = append(out, sample{filepath.Join(dir, filepath.Base(f)), kind, body})
			n += int64(len(body))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) != 12 {
		b.Fatalf("%d samples, want 12", len(out))
	}
	return out, n
}

// BenchmarkSamplesPipeline: every sample through parse → sections → text
// features and fundamentals → window assembly (what the engine's flow
// partitions and merge do per document). ns/op is the whole set.
func BenchmarkSamplesPipeline(b *testing.B) {
	ss, n := samples(b)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		cs := map[uint64]*Company{}
		for i, s := range ss {
			p, err := Parse(s.name, s.kind, s.body)
			if err != nil {
				b.Fatal(err)
			}
			for j := range p.Parts {
				c := cs[p.Parts[j].Key.CIK]
				if c == nil {
					c = NewCompany(p.Parts[j].Key.CIK, Options{Tenant: "b"})
					cs[p.Parts[j].Key.CIK] = c
				}
				c.Add(&p.Parts[j], s.name, uint64(i))
			}
		}
	}
	b.ReportMetric(float64(len(ss))*float64(b.N)/b.Elapsed().Seconds(), "filings/s")
}

// BenchmarkSamplesTokenizeBaseline: the floor the pipeline is compared
// with in the same run — the standard library only tokenizing the same
// bytes (encoding/xml tokens for XML and HTML, json.Valid for JSON, one
// pass over the lines of text files), producing nothing.
func BenchmarkSamplesTokenizeBaseline(b *testing.B) {
	ss, n := samples(b)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range ss {
			switch s.kind {
			case KindXBRL, KindInlineXBRL:
				d := xml.NewDecoder(bytes.NewReader(s.body))
				d.Strict = false
				d.AutoClose = xml.HTMLAutoClose
				d.Entity = xml.HTMLEntity
				for {
					if _, err := d.RawToken(); err == io.EOF {
						break
					} else if err != nil {
						break
					}
				}
			case KindCompanyFacts, KindSubmissions:
				if !json.Valid(s.body) {
					b.Fatal("invalid json")
				}
			default:
				lines := 0
				for _, c := range s.body {
					if c == '\n' {
						lines++
					}
				}
				_ = lines
			}
		}
	}
	b.ReportMetric(float64(len(ss))*float64(b.N)/b.Elapsed().Seconds(), "filings/s")
}
