package edgar

import (
	"bytes"
	"testing"
)

func benchParse(b *testing.B, rel string, parse func([]byte) error) {
	data := readData(b, rel)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseInlineXBRLApple10K(b *testing.B) {
	benchParse(b, "html/Apple.10-K.html", func(d []byte) error { _, err := ParseInlineXBRL(bytes.NewReader(d)); return err })
}

func BenchmarkParseXBRLApple(b *testing.B) {
	benchParse(b, "xbrl/aapl-20230930_htm.xml", func(d []byte) error { _, err := ParseXBRL(bytes.NewReader(d)); return err })
}

func BenchmarkSectionsApple10K(b *testing.B) {
	benchParse(b, "html/Apple.10-K.html", func(d []byte) error { _, err := Sections(d); return err })
}

func BenchmarkParseSGML8K(b *testing.B) {
	benchParse(b, "sgml/0001213900-25-032135.txt", func(d []byte) error { _, err := ParseSGML(bytes.NewReader(d)); return err })
}

func BenchmarkParseCompanyFacts(b *testing.B) {
	benchParse(b, "json/CIK0001997711.companyfacts.json", func(d []byte) error { _, err := ParseCompanyFacts(bytes.NewReader(d)); return err })
}
