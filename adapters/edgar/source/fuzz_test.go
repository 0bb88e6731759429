package source

import (
	"bytes"
	"testing"
	"time"
)

// headLines returns the first n lines of b.
func headLines(b []byte, n int) []byte {
	end := 0
	for i := 0; i < n && end < len(b); i++ {
		j := bytes.IndexByte(b[end:], '\n')
		if j < 0 {
			return b
		}
		end += j + 1
	}
	return b[:end]
}

func FuzzParseIndex(f *testing.F) {
	f.Add(headLines(readSample(f, "index/form.20200318.idx"), 40))
	f.Add(headLines(readSample(f, "index/company.20221003.idx"), 40))
	f.Add([]byte("CIK|Company Name|Form Type|Date Filed|Filename\n----------\n1000045|NICHOLAS FINANCIAL INC|10-Q|2024-02-14|edgar/data/1000045/0000950170-24-014077.txt\n1|A|B|C|8-K|2024-01-02|x\n"))
	f.Add([]byte("Form Type   Company Name\n----------\n10-K  X  1  20200101  edgar/data/1/a.txt\n"))
	f.Add([]byte("Company Name  Form Type\n----------\nX  10-K  1  2020-01-01  edgar/data/1/a.txt\n\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, bad, firstBad, err := ParseIndex(data)
		if err != nil {
			if len(entries) != 0 || bad != 0 {
				t.Fatalf("error %v with %d entries and %d bad lines", err, len(entries), bad)
			}
			return
		}
		if (bad == 0) != (firstBad == nil) {
			t.Fatalf("bad %d but firstBad %v", bad, firstBad)
		}
		for _, e := range entries {
			if e.Form == "" || e.File == "" || !validPath(e.File) || e.CIK == 0 || e.CIK > 9999999999 {
				t.Fatalf("accepted a bad entry %+v", e)
			}
			if _, err := time.Parse(time.DateOnly, e.Filed); err != nil {
				t.Fatalf("accepted entry with date %q", e.Filed)
			}
			if p := e.path(); !validPath(p) {
				t.Fatalf("archive path %q", p)
			}
		}
	})
}

func FuzzSniff(f *testing.F) {
	for _, rel := range []string{
		"html/Apple.10-K.html", "index/form.20200318.idx", "index/company.20221003.idx",
		"json/CIK0001318605.submissions.json", "json/CIK0001997711.companyfacts.json",
		"sgml/0000950129-95-001652.txt", "sgml/0001104659-25-002604.txt", "xbrl/nflx-20100930.xml",
	} {
		b := readSample(f, rel)
		f.Add(rel, b[:min(len(b), SniffLen)])
	}
	f.Add("x.htm", []byte("<!DOCTYPE html><div>"))
	f.Add("x", []byte("<?xml version='1.0'?><!-- x --><xbrli:xbrl>"))
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		k := Sniff(name, head)
		if k > KindIndex || k.String() == "" {
			t.Fatalf("Sniff = %d", k)
		}
		if len(head) > SniffLen {
			if k2 := Sniff(name, head[:SniffLen]); k2 != k {
				t.Fatalf("Sniff looked past SniffLen: %v vs %v", k, k2)
			}
		}
		if k2 := Sniff(name, bytes.Clone(head)); k2 != k {
			t.Fatalf("Sniff not deterministic: %v vs %v", k, k2)
		}
	})
}
