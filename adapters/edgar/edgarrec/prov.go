package edgarrec

import "thunderline/hotpath/codec"

// Prov is the provenance extension of an EDGAR FeatureWindow (hashed with
// the window): which filing, documents and facts its features came from,
// and its text embedding, so a window can be audited and re-derived.
type Prov struct {
	CIK           uint64
	Form          string
	Accession     string
	PeriodStart   int64 // ns UTC; 0 when the filing gave no duration context
	PeriodEnd     int64
	FilingTime    int64
	TimeBasis     string   // "filed" (the window ends on the filing day) or "period_end" (no filing time known)
	PrevAccession string   // the previous filing of the same form the deltas are against, "" if none
	Docs          []string // names of the documents merged into the window, in arrival order
	Facts         []FactRef
	Sections      []SectionRef
	Sentiment     Sentiment
	Embedding     []float32 // text embedding of Item 1A + Item 7 (empty without sections)
	Missing       []string  // inputs not available: "sections", "facts", "previous", "revenue", ...
}

// FactRef is one fact a feature used.
type FactRef struct {
	Role    string // what it was used as: revenue, net_income, assets, ...
	Concept string
	Value   string // exact decimal as text
	Unit    string
	Period  string // YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD
}

// SectionRef is one section the text features read.
type SectionRef struct {
	Item  string
	Chars uint32
	Words uint32
}

// Sentiment is the word-list counts behind the sentiment features.
type Sentiment struct {
	Words, Positive, Negative, Uncertainty, Litigious, Constraining uint32
	// FellBack is set when a configured model scorer was slow or failed
	// and the word list answered instead.
	FellBack bool
}

// AppendProv appends the canonical encoding of p:
//
//	"TLEP" | version u8 = 1 | cik u64 | form, accession: str
//	| period_start, period_end, filing_time i64 | time_basis, prev_accession: str
//	| docs: n u32 × str | facts: n u32 × (role, concept, value, unit, period: str)
//	| sections: n u32 × (item: str, chars u32, words u32)
//	| sentiment: words, positive, negative, uncertainty, litigious, constraining u32, fell_back u8
//	| embedding: n u32 × f32 | missing: n u32 × str
func AppendProv(dst []byte, p *Prov) []byte {
	a := codec.Appender{B: dst}
	a.Magic(provMagic, provVersion)
	a.U64(p.CIK)
	a.Str32(p.Form, p.Accession)
	a.I64(p.PeriodStart)
	a.I64(p.PeriodEnd)
	a.I64(p.FilingTime)
	a.Str32(p.TimeBasis, p.PrevAccession)
	a.StrList32(p.Docs)
	codec.AppendList(&a, p.Facts, func(a *codec.Appender, f *FactRef) { a.Str32(f.Role, f.Concept, f.Value, f.Unit, f.Period) })
	codec.AppendList(&a, p.Sections, func(a *codec.Appender, s *SectionRef) {
		a.Str32(s.Item)
		a.U32(s.Chars)
		a.U32(s.Words)
	})
	for _, v := range p.Sentiment.counts() {
		a.U32(*v)
	}
	a.Bool(p.Sentiment.FellBack)
	codec.AppendList(&a, p.Embedding, func(a *codec.Appender, v *float32) { a.F32(*v) })
	a.StrList32(p.Missing)
	return a.B
}

// counts are the word counts in their encoded order.
func (s *Sentiment) counts() [6]*uint32 {
	return [...]*uint32{&s.Words, &s.Positive, &s.Negative, &s.Uncertainty, &s.Litigious, &s.Constraining}
}

// DecodeProv parses AppendProv's encoding. It never panics on bad bytes.
func DecodeProv(b []byte) (Prov, error) {
	var p Prov
	r := codec.NewReader(b, ErrCorrupt)
	r.Magic(provMagic, provVersion)
	p.CIK = r.U64("cik")
	r.Str32s("form, accession", &p.Form, &p.Accession)
	p.PeriodStart = r.I64("period_start")
	p.PeriodEnd = r.I64("period_end")
	p.FilingTime = r.I64("filing_time")
	r.Str32s("time_basis, prev_accession", &p.TimeBasis, &p.PrevAccession)
	p.Docs = r.StrList32("docs")
	p.Facts = codec.ReadList(&r, 5*4, "facts", func(r *codec.Reader, f *FactRef) {
		r.Str32s("fact", &f.Role, &f.Concept, &f.Value, &f.Unit, &f.Period)
	})
	p.Sections = codec.ReadList(&r, 3*4, "sections", func(r *codec.Reader, s *SectionRef) {
		s.Item = r.Str32("item")
		s.Chars = r.U32("chars")
		s.Words = r.U32("words")
	})
	for _, v := range p.Sentiment.counts() {
		*v = r.U32("sentiment")
	}
	p.Sentiment.FellBack = r.Bool("fell_back")
	p.Embedding = codec.ReadList(&r, 4, "embedding", func(r *codec.Reader, v *float32) { *v = r.F32("embedding") })
	p.Missing = r.StrList32("missing")
	return p, r.End()
}
