package filings

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"strings"

	"thunderline/adapters/edgar"
	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/text"
	"thunderline/hotpath/window"
)

// Options configure a Company's window assembly.
type Options struct {
	Tenant string
}

// TextFeatures are the text features of a filing's sections: Item 1A and
// the MD&A, as read (lengths), embedded and scored. Computed per document
// on the flow partitions (ComputeText), so a slow scorer never holds the
// merge.
type TextFeatures struct {
	Sections  []edgarrec.SectionRef
	Embedding *[text.EmbedDim]float32 // nil when neither section was found
	Sentiment edgarrec.Sentiment
}

// ComputeText fills p.Text from p.Sections with score (WordList when nil).
// A part without sections keeps Text nil.
func (p *Part) ComputeText(score func(string) edgarrec.Sentiment) {
	if p.Sections == nil {
		return
	}
	if score == nil {
		score = WordList
	}
	tf := &TextFeatures{}
	var parts []string
	for _, want := range []func([]edgar.Section) (edgar.Section, error){edgar.RiskFactors, edgar.MDA} {
		s, err := want(p.Sections)
		if err != nil {
			continue
		}
		words := 0
		text.Tokens(s.Text, func([]byte) { words++ })
		tf.Sections = append(tf.Sections, edgarrec.SectionRef{Item: s.Item, Chars: uint32(len(s.Text)), Words: uint32(words)})
		parts = append(parts, s.Text)
	}
	if len(parts) > 0 {
		all := strings.Join(parts, "\n")
		tf.Embedding = new([text.EmbedDim]float32)
		text.Embed(all, tf.Embedding)
		tf.Sentiment = score(all)
	}
	p.Text = tf
}

// WordList scores s with the shipped word list.
func WordList(s string) edgarrec.Sentiment { return FromText(text.Score(s)) }

// FromText converts the text package's counts.
func FromText(c text.Sentiment) edgarrec.Sentiment {
	return edgarrec.Sentiment{Words: uint32(c.Words), Positive: uint32(c.Positive), Negative: uint32(c.Negative),
		Uncertainty: uint32(c.Uncertainty), Litigious: uint32(c.Litigious), Constraining: uint32(c.Constraining)}
}

// Window is one emission of an EDGAR FeatureWindow: its fixed part, its
// provenance extension (hashed with it) and the documents it came from.
type Window struct {
	W    window.FeatureWindow
	Key  string // "CIK0000320193"
	Prov edgarrec.Prov
	Ext  []byte // edgarrec.AppendProv(Prov)
	// Fill is true when this emission fills a window emitted open before.
	Fill bool
	// NewDocs are the documents that contributed in this emission (lineage
	// edges doc → window): both parts' documents for a first emission, the
	// filling document for a fill.
	NewDocs []string
}

// Ready reports whether the window is complete: both facts and sections.
func (w *Window) Ready() bool { return w.W.Status == window.StatusFilled }

// Company is the window state of one company: its filings still open and
// the history the deltas are computed against. One goroutine owns it.
type Company struct {
	opts    Options
	cik     uint64
	key     string
	open    map[Key]*pending
	history map[string][]snapshot // by form, in arrival order
}

type pending struct {
	w         Window
	facts     *Fundamentals
	text      *TextFeatures
	missing   []string
	accession string
	filed     int64
	docs      []string
	first     uint64
	last      uint64
}

type snapshot struct {
	periodEnd int64
	accession string
	fu        *Fundamentals
	emb       *[text.EmbedDim]float32
}

// NewCompany returns the state of company cik.
func NewCompany(cik uint64, opts Options) *Company {
	return &Company{opts: opts, cik: cik, key: KeyOf(cik), open: map[Key]*pending{}, history: map[string][]snapshot{}}
}

// KeyOf is the window key of a company: "CIK" and ten digits.
func KeyOf(cik uint64) string { return fmt.Sprintf("CIK%010d", cik) }

// Add merges one part, from document doc (input sequence inseq), into its
// filing and returns the window emission it causes: the first emission of
// the filing (open, or already filled when the part has both facts and
// sections), a fill, or nil when the part adds nothing (a second source of
// parts the filing already has: counted by the caller as a duplicate).
func (c *Company) Add(p *Part, doc string, inseq uint64) *Window {
	pd := c.open[p.Key]
	if pd == nil {
		pd = &pending{first: inseq}
		c.open[p.Key] = pd
	} else if pd.w.W.Status == window.StatusFilled || (p.Facts == nil || pd.facts != nil) && (p.Text == nil || pd.text != nil) {
		return nil
	}
	fill := pd.w.W.Status == window.StatusOpen
	if pd.facts == nil && p.Facts != nil {
		pd.facts = p.Facts
	}
	if pd.text == nil && p.Text != nil {
		pd.text, pd.missing = p.Text, p.SectionsMissing
	}
	if pd.accession == "" {
		pd.accession = p.Accession
	}
	if pd.filed == 0 {
		pd.filed = p.FilingTime
	}
	pd.docs = append(pd.docs, doc)
	pd.last = inseq
	w := &pd.w
	if !fill {
		c.frame(w, p)
	}
	w.Fill = fill
	if fill {
		w.NewDocs = []string{doc}
	} else {
		w.NewDocs = slices.Clone(pd.docs)
	}
	c.compute(pd, p.Key)
	out := *w
	out.Prov.Docs = slices.Clone(w.Prov.Docs)
	return &out
}

// frame fixes the window's identity from the first part: its grid is the
// filing day (or the period end's day when no filing time is known).
func (c *Company) frame(w *Window, p *Part) {
	const dayNs = int64(24 * 3600 * 1e9)
	fw := &w.W
	*fw = window.FeatureWindow{Kind: window.KindEdgar, Recipe: window.RecipeEdgar,
		SchemaVersion: window.RecipeEdgar.SchemaVersion(), Label: window.LabelSpec{Type: window.LabelNone}}
	basis, t := "filed", p.FilingTime
	if t == 0 {
		basis, t = "period_end", p.Key.PeriodEnd
	}
	fw.End = floorDiv(t, dayNs)*dayNs + dayNs
	fw.Start = p.PeriodStart
	if fw.Start == 0 || fw.Start >= fw.End {
		fw.Start = fw.End - dayNs
	}
	fw.ID = window.WindowID(c.opts.Tenant, window.KindEdgar, c.key, fw.Start, fw.End, window.RecipeEdgar)
	w.Key = c.key
	w.Prov = edgarrec.Prov{CIK: c.cik, Form: p.Key.Form, PeriodStart: p.PeriodStart, PeriodEnd: p.Key.PeriodEnd, TimeBasis: basis}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// compute fills the window's features, provenance and hash from what the
// filing has so far.
func (c *Company) compute(pd *pending, key Key) {
	w := &pd.w
	fw := &w.W
	pr := &w.Prov
	pr.Accession, pr.FilingTime = pd.accession, pd.filed
	pr.Docs = pd.docs
	pr.Facts, pr.Sections, pr.Embedding, pr.Missing = nil, nil, nil, nil
	pr.Sentiment = edgarrec.Sentiment{}
	fw.Features = [window.NumFeatures]float64{}
	fw.FirstInSeq, fw.LastInSeq, fw.Ticks = pd.first, pd.last, uint32(len(pd.docs))
	prev := c.previous(key)
	if prev != nil {
		pr.PrevAccession = prev.accession
	} else {
		pr.PrevAccession = ""
		pr.Missing = append(pr.Missing, "previous")
	}
	set := func(f window.Feature, v float64) { fw.Features[f.Slot()] = v }
	if fu := pd.facts; fu != nil {
		pr.Facts = fu.Refs
		rev, hasRev := fu.Get(RoleRevenue)
		ni, hasNI := fu.Get(RoleNetIncome)
		oi, hasOI := fu.Get(RoleOperatingIncome)
		for r := Role(0); r < RoleSharesOutstanding; r++ {
			if !fu.Has[r] {
				pr.Missing = append(pr.Missing, r.String())
			}
		}
		var nm, lev float64
		var hasNM, hasLev bool
		if hasRev && hasNI {
			nm, hasNM = ratio(ni, rev)
			set(window.FNetMargin, nm)
		}
		if hasRev && hasOI {
			v, _ := ratio(oi, rev)
			set(window.FOperatingMargin, v)
		}
		assets, hasA := fu.Get(RoleAssets)
		if liab, ok := fu.Get(RoleLiabilities); ok && hasA {
			lev, hasLev = ratio(liab, assets)
		} else if eq, ok := fu.Get(RoleEquity); ok && hasA {
			lev, hasLev = ratio(assets.Sub(eq), assets)
		}
		set(window.FLeverage, lev)
		if prev != nil && prev.fu != nil {
			p := prev.fu
			if pv, ok := p.Get(RoleRevenue); ok && hasRev {
				if g, ok := ratio(rev, pv); ok {
					set(window.FRevenueGrowth, g-1)
				}
			}
			if pn, ok := p.Get(RoleNetIncome); ok && hasNI {
				if g, ok := ratio(ni.Sub(pn), pn.Abs()); ok {
					set(window.FNetIncomeGrowth, g)
				}
			}
			if pa, ok := p.Get(RoleAssets); ok && hasA {
				if g, ok := ratio(assets, pa); ok {
					set(window.FAssetsGrowth, g-1)
				}
			}
			pRev, ok1 := p.Get(RoleRevenue)
			pNI, ok2 := p.Get(RoleNetIncome)
			if ok1 && ok2 && hasNM {
				if pnm, ok := ratio(pNI, pRev); ok {
					set(window.FNetMarginDelta, nm-pnm)
				}
			}
			if pl, ok := leverage(p); ok && hasLev {
				set(window.FLeverageDelta, lev-pl)
			}
		}
	} else {
		pr.Missing = append(pr.Missing, "facts")
	}
	var emb *[text.EmbedDim]float32
	if tf := pd.text; tf != nil {
		pr.Sections = tf.Sections
		pr.Missing = append(pr.Missing, pd.missing...)
		if tf.Embedding != nil {
			emb = tf.Embedding
			pr.Embedding = emb[:]
			s := tf.Sentiment
			pr.Sentiment = s
			if s.Words > 0 {
				set(window.FNegativeShare, float64(s.Negative)/float64(s.Words))
				set(window.FUncertaintyShare, float64(s.Uncertainty)/float64(s.Words))
			}
			set(window.FSentimentNet, (float64(s.Positive)-float64(s.Negative))/(float64(s.Positive)+float64(s.Negative)+1))
			set(window.FTextWords, math.Log1p(float64(s.Words)))
			if prev != nil && prev.emb != nil {
				set(window.FTextChange, 1-text.Cosine(emb, prev.emb))
			}
		}
		fw.Status = window.StatusFilled
		if pd.facts == nil {
			fw.Status = window.StatusOpen
		}
	} else {
		pr.Missing = append(pr.Missing, "sections")
		fw.Status = window.StatusOpen
	}
	if !wantsSections(key.Form) && pd.facts != nil {
		// Forms without items (8-K, 20-F, ...) are complete with their facts.
		fw.Status = window.StatusFilled
	}
	w.Ext = edgarrec.AppendProv(nil, pr)
	fw.Hash = sha256.Sum256(window.AppendWindowExt(nil, fw, c.opts.Tenant, c.key, w.Ext))
	c.remember(key, pd, emb)
}

func leverage(fu *Fundamentals) (float64, bool) {
	assets, ok := fu.Get(RoleAssets)
	if !ok {
		return 0, false
	}
	if liab, ok := fu.Get(RoleLiabilities); ok {
		return ratio(liab, assets)
	}
	if eq, ok := fu.Get(RoleEquity); ok {
		return ratio(assets.Sub(eq), assets)
	}
	return 0, false
}

// previous is the latest filing of the same form with an earlier period
// end, among those seen so far.
func (c *Company) previous(key Key) *snapshot {
	var best *snapshot
	hs := c.history[key.Form]
	for i := range hs {
		if hs[i].periodEnd < key.PeriodEnd && (best == nil || hs[i].periodEnd > best.periodEnd) {
			best = &hs[i]
		}
	}
	return best
}

func (c *Company) remember(key Key, pd *pending, emb *[text.EmbedDim]float32) {
	hs := c.history[key.Form]
	for i := range hs {
		if hs[i].periodEnd == key.PeriodEnd {
			if pd.facts != nil {
				hs[i].fu = pd.facts
			}
			if emb != nil {
				hs[i].emb = emb
			}
			hs[i].accession = pd.accession
			return
		}
	}
	c.history[key.Form] = append(hs, snapshot{periodEnd: key.PeriodEnd, accession: pd.accession, fu: pd.facts, emb: emb})
}

// Open lists the windows still open, in the order they were first emitted
// (for routing them as they are at the end of a run).
func (c *Company) Open() []Window {
	var out []Window
	for _, pd := range c.open {
		if pd.w.W.Status == window.StatusOpen {
			out = append(out, pd.w)
		}
	}
	slices.SortFunc(out, func(a, b Window) int {
		if a.W.FirstInSeq != b.W.FirstInSeq {
			if a.W.FirstInSeq < b.W.FirstInSeq {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Prov.Form, b.Prov.Form)
	})
	return out
}
