package edgarrec

import (
	"errors"
	"reflect"
	"testing"

	"thunderline/hotpath/codec/codectest"
)

func sampleDoc() Doc {
	return Doc{Name: "xbrl/aapl-20230930_htm.xml", Source: "xbrl", Raw: [32]byte{1, 2, 3}, Size: 1432664, CIK: 320193,
		Form: "10-K", Accession: "0000320193-23-000106", Company: "Apple Inc.", FilingTime: 1698969600e9, PeriodEnd: 1696032000e9,
		Sections: []Section{{Part: "PART I", Item: "1A", Title: "Risk Factors", Text: "The Company's operations..."}},
		Facts: []Fact{{Concept: "us-gaap:NetIncomeLoss", Value: "96995000000", Unit: "iso4217:USD", Decimals: "-6",
			Start: "2022-09-25", End: "2023-09-30", Dims: []Dim{{Axis: "us-gaap:StatementBusinessSegmentsAxis", Member: "aapl:AmericasSegmentMember"}}}},
		Issues: []string{"fact 12: unknown unit u9"}}
}

func sampleProv() Prov {
	return Prov{CIK: 320193, Form: "10-K", Accession: "0000320193-23-000106", PeriodStart: 1, PeriodEnd: 2, FilingTime: 3,
		TimeBasis: "filed", PrevAccession: "0000320193-22-000108", Docs: []string{"a", "b"},
		Facts:     []FactRef{{Role: "revenue", Concept: "us-gaap:Revenues", Value: "383285000000", Unit: "iso4217:USD", Period: "2022-09-25..2023-09-30"}},
		Sections:  []SectionRef{{Item: "1A", Chars: 68000, Words: 10000}},
		Sentiment: Sentiment{Words: 10, Positive: 1, Negative: 2, Uncertainty: 3, Litigious: 4, Constraining: 5, FellBack: true},
		Embedding: []float32{0.5, -0.25}, Missing: []string{"previous"}}
}

// roundTrip checks that v encodes and decodes back to itself, that every
// cut of its encoding and a trailing byte are refused with ErrCorrupt, and
// returns the encoding.
func roundTrip[T any](t *testing.T, v T, enc func([]byte, *T) []byte, dec func([]byte) (T, error)) []byte {
	t.Helper()
	b := enc(nil, &v)
	got, err := dec(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
	}
	for i := range b {
		if _, err := dec(b[:i]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d: err %v", i, err)
		}
	}
	if _, err := dec(append(b, 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatal("a trailing byte was accepted")
	}
	return b
}

func TestDocRoundTrip(t *testing.T) {
	d := sampleDoc()
	b := roundTrip(t, d, AppendDoc, DecodeDoc)
	if got, _ := DecodeDoc(b); got.Hash() != d.Hash() {
		t.Fatal("hash differs after a round trip")
	}
	d2 := d
	d2.Facts = append([]Fact(nil), d.Facts...)
	d2.Facts[0].Value = "96995000001"
	if d2.Hash() == d.Hash() {
		t.Fatal("a changed fact value did not change the hash")
	}
}

func TestProvRoundTrip(t *testing.T) {
	roundTrip(t, sampleProv(), AppendProv, DecodeProv)
}

func FuzzDecodeDoc(f *testing.F) {
	d, p := sampleDoc(), sampleProv()
	f.Add(AppendDoc(nil, &d))
	f.Add(AppendProv(nil, &p))
	f.Add([]byte("TLED\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		codectest.Reencodes(t, b, ErrCorrupt, DecodeDoc, func(d Doc) []byte { return AppendDoc(nil, &d) })
		codectest.Reencodes(t, b, ErrCorrupt, DecodeProv, func(p Prov) []byte { return AppendProv(nil, &p) })
	})
}
