package edgar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

func parseXBRLDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04:05", time.RFC3339, "2006-01-02Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

func buildContext(n *node, ns *nsStack) (*Context, error) {
	id, _ := attr(n.start, "", "id")
	c := &Context{ID: id}
	ent := n.child("entity")
	if ent == nil {
		return nil, fmt.Errorf("context %q: no entity", id)
	}
	if idn := ent.child("identifier"); idn != nil {
		c.Scheme, _ = attr(idn.start, "", "scheme")
		c.Identifier = strings.TrimSpace(idn.text.String())
	}
	addDims := func(container *node, scenario bool) error {
		if container == nil {
			return nil
		}
		for _, m := range container.children {
			dimAttr, _ := attr(m.start, "", "dimension")
			switch m.name.Local {
			case "explicitMember":
				dq, err := resolveAt(ns, m, dimAttr)
				if err != nil {
					return err
				}
				if m.qerr != nil {
					return m.qerr
				}
				c.Dims = append(c.Dims, Dimension{Dimension: dq, Member: m.qname, Scenario: scenario})
			case "typedMember":
				dq, err := resolveAt(ns, m, dimAttr)
				if err != nil {
					return err
				}
				c.Dims = append(c.Dims, Dimension{Dimension: dq, Typed: m.allText(), Scenario: scenario})
			}
		}
		return nil
	}
	if err := addDims(ent.child("segment"), false); err != nil {
		return nil, fmt.Errorf("context %q segment: %w", id, err)
	}
	if err := addDims(n.child("scenario"), true); err != nil {
		return nil, fmt.Errorf("context %q scenario: %w", id, err)
	}
	p := n.child("period")
	if p == nil {
		return nil, fmt.Errorf("context %q: no period", id)
	}
	var err error
	switch {
	case p.child("instant") != nil:
		c.Period.Instant = true
		c.Period.End, err = parseXBRLDate(p.child("instant").text.String())
	case p.child("forever") != nil:
		c.Period.Forever = true
	case p.child("startDate") != nil && p.child("endDate") != nil:
		c.Period.Start, err = parseXBRLDate(p.child("startDate").text.String())
		if err == nil {
			c.Period.End, err = parseXBRLDate(p.child("endDate").text.String())
		}
	default:
		err = errors.New("period has neither instant, forever nor start/end")
	}
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", id, err)
	}
	return c, nil
}

// resolveAt resolves an attribute QName. Namespace declarations on the
// member element itself are rare; the document-level scope is used.
func resolveAt(ns *nsStack, m *node, text string) (QName, error) {
	ns.push(m.start)
	defer ns.pop()
	return ns.resolve(text)
}

func buildUnit(n *node) (*Unit, error) {
	id, _ := attr(n.start, "", "id")
	u := &Unit{ID: id}
	measures := func(p *node) ([]QName, error) {
		var qs []QName
		for _, c := range p.children {
			if c.name.Local == "measure" {
				if c.qerr != nil {
					return nil, c.qerr
				}
				qs = append(qs, c.qname)
			}
		}
		return qs, nil
	}
	var err error
	if div := n.child("divide"); div != nil {
		num, den := div.child("unitNumerator"), div.child("unitDenominator")
		if num == nil || den == nil {
			return nil, fmt.Errorf("unit %q: divide without numerator and denominator", id)
		}
		if u.Numerator, err = measures(num); err == nil {
			u.Denominator, err = measures(den)
		}
	} else {
		u.Numerator, err = measures(n)
	}
	if err == nil && (len(u.Numerator) == 0 || (n.child("divide") != nil && len(u.Denominator) == 0)) {
		err = errors.New("no measure")
	}
	if err != nil {
		return nil, fmt.Errorf("unit %q: %w", id, err)
	}
	return u, nil
}

// MaxNumberLen is the longest numeric value accepted, in characters of its
// lexical form (sign, digits, point and exponent, surrounding space
// trimmed): 64, far beyond any reported amount (a float64 prints in at most
// 24). Exact decimals cost time quadratic in their length (2 M digits took
// 9–13 s), so a longer value is refused, unread, with ErrNumberTooLong: the
// fact becomes an Issue of its document and the rest is parsed.
const MaxNumberLen = 64

// ErrNumberTooLong refuses a numeric value longer than MaxNumberLen.
var ErrNumberTooLong = errors.New("number too long")

// parseDecimal parses an xs:decimal (optionally with an exponent, for
// xs:double-typed items) exactly. It rejects INF, NaN and huge exponents.
func parseDecimal(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxNumberLen {
		return decimal.Decimal{}, fmt.Errorf("%w: %d characters, the limit is %d", ErrNumberTooLong, len(s), MaxNumberLen)
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return decimal.Decimal{}, fmt.Errorf("not a decimal: %q", s)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxScale || e < -maxScale {
			return decimal.Decimal{}, fmt.Errorf("bad exponent in %q", s)
		}
		i = len(s)
	}
	if i != len(s) {
		return decimal.Decimal{}, fmt.Errorf("not a decimal: %q", s)
	}
	return decimal.NewFromString(s)
}

func parseDecimalsAttr(v string) (Decimals, error) {
	v = strings.TrimSpace(v)
	if v == "INF" {
		return Decimals{Set: true, Inf: true}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > maxDecimal || n < -maxDecimal {
		return Decimals{}, fmt.Errorf("bad decimals %q", v)
	}
	return Decimals{Set: true, N: n}, nil
}
