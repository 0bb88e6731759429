package filing

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

const (
	provMagic   = "TLEP"
	provVersion = 1
)

// AppendProv appends the canonical encoding of p:
//
//	"TLEP" | version u8 = 1 | cik u64 | form, accession: str
//	| period_start, period_end, filing_time i64 | time_basis, prev_accession: str
//	| docs: n u32 × str | facts: n u32 × (role, concept, value, unit, period: str)
//	| sections: n u32 × (item: str, chars u32, words u32)
//	| sentiment: words, positive, negative, uncertainty, litigious, constraining u32, fell_back u8
//	| embedding: n u32 × f32 | missing: n u32 × str
func AppendProv(dst []byte, p *Prov) []byte {
	e := enc{b: dst}
	e.b = append(e.b, provMagic...)
	e.u8(provVersion)
	e.u64(p.CIK)
	e.str(p.Form)
	e.str(p.Accession)
	e.i64(p.PeriodStart)
	e.i64(p.PeriodEnd)
	e.i64(p.FilingTime)
	e.str(p.TimeBasis)
	e.str(p.PrevAccession)
	e.strs(p.Docs)
	e.u32(uint32(len(p.Facts)))
	for _, f := range p.Facts {
		e.str(f.Role)
		e.str(f.Concept)
		e.str(f.Value)
		e.str(f.Unit)
		e.str(f.Period)
	}
	e.u32(uint32(len(p.Sections)))
	for _, s := range p.Sections {
		e.str(s.Item)
		e.u32(s.Chars)
		e.u32(s.Words)
	}
	s := &p.Sentiment
	for _, v := range [...]uint32{s.Words, s.Positive, s.Negative, s.Uncertainty, s.Litigious, s.Constraining} {
		e.u32(v)
	}
	if s.FellBack {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.u32(uint32(len(p.Embedding)))
	for _, v := range p.Embedding {
		e.f32(v)
	}
	e.strs(p.Missing)
	return e.b
}

// DecodeProv parses AppendProv's encoding. It never panics on bad bytes.
func DecodeProv(b []byte) (Prov, error) {
	var p Prov
	r := dec{b: b}
	r.magic(provMagic, provVersion)
	p.CIK = r.u64("cik")
	p.Form = r.str("form")
	p.Accession = r.str("accession")
	p.PeriodStart = r.i64("period_start")
	p.PeriodEnd = r.i64("period_end")
	p.FilingTime = r.i64("filing_time")
	p.TimeBasis = r.str("time_basis")
	p.PrevAccession = r.str("prev_accession")
	p.Docs = r.strs("docs")
	if n := r.count(20, "facts"); n > 0 {
		p.Facts = make([]FactRef, n)
		for i := range p.Facts {
			p.Facts[i] = FactRef{Role: r.str("role"), Concept: r.str("concept"), Value: r.str("value"),
				Unit: r.str("unit"), Period: r.str("period")}
		}
	}
	if n := r.count(12, "sections"); n > 0 {
		p.Sections = make([]SectionRef, n)
		for i := range p.Sections {
			p.Sections[i] = SectionRef{Item: r.str("item"), Chars: r.u32("chars"), Words: r.u32("words")}
		}
	}
	s := &p.Sentiment
	for _, v := range [...]*uint32{&s.Words, &s.Positive, &s.Negative, &s.Uncertainty, &s.Litigious, &s.Constraining} {
		*v = r.u32("sentiment")
	}
	switch r.u8("fell_back") {
	case 0:
	case 1:
		s.FellBack = true
	default:
		if r.err == nil {
			r.err = errorf("fell_back flag not 0 or 1")
		}
	}
	if n := r.count(4, "embedding"); n > 0 {
		p.Embedding = make([]float32, n)
		for i := range p.Embedding {
			p.Embedding[i] = r.f32("embedding")
		}
	}
	p.Missing = r.strs("missing")
	return p, r.end()
}
