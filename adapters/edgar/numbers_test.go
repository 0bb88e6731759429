package edgar

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// hugeDigits is n digits: a number exact decimals would take seconds on.
func hugeDigits(n int) string { return "1" + strings.Repeat("7", n-1) }

// allocs runs fn and returns the bytes it allocated.
func allocs(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkHugeIssue: exactly one issue, naming the limit, echoing no digits.
func checkHugeIssue(t *testing.T, where string, issues []Issue) {
	t.Helper()
	if len(issues) != 1 || !strings.Contains(issues[0].Reason, "number too long") || len(issues[0].Reason) > 200 {
		t.Errorf("%s: issues %.300v", where, issues)
	}
}

// TestHugeNumbers: a 5 M-digit value (46 s of exact-decimal CPU before) in
// companyfacts, an XBRL instance or an inline XBRL filing becomes one
// Issue of its document, refused before it is parsed (memory in
// proportion to the input), and the other facts are kept.
func TestHugeNumbers(t *testing.T) {
	huge := hugeDigits(5_000_000)
	// Linear in the input: 16× leaves room for the XML decoder's copies
	// and the race detector (10.7× measured under -race), far below what a
	// quadratic parse of 5 M digits costs.
	budget := func(in int) uint64 { return uint64(16 * in) }

	cfJSON := `{"cik":1,"entityName":"E","facts":{"us-gaap":{"Revenues":{"units":{"USD":[` +
		`{"val":` + huge + `,"end":"2020-12-31"},{"val":12.5,"end":"2021-12-31"}]}}}}}`
	var cf *CompanyFacts
	var err error
	if n := allocs(func() { cf, err = ParseCompanyFacts(strings.NewReader(cfJSON)) }); n > budget(len(cfJSON)) {
		t.Errorf("companyfacts allocated %d bytes for %d", n, len(cfJSON))
	}
	if err != nil {
		t.Fatal(err)
	}
	if fs := cf.Facts("Revenues", "USD"); len(fs) != 1 || fs[0].Val.String() != "12.5" {
		t.Errorf("companyfacts kept %v", fs)
	}
	checkHugeIssue(t, "companyfacts", cf.Issues)

	inst := strings.Replace(smallXBRL, ">1000.5<", ">"+huge+"<", 1) // one numeric fact, one text fact
	var in *Instance
	if n := allocs(func() { in, err = ParseXBRL(strings.NewReader(inst)) }); n > budget(len(inst)) {
		t.Errorf("XBRL allocated %d bytes for %d", n, len(inst))
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Lookup("x:T")) != 1 {
		t.Error("XBRL: the text fact is lost")
	}
	checkHugeIssue(t, "XBRL", in.Issues)

	ix := strings.Replace(smallIX, ">1,234.5<", ">"+huge+"<", 1)
	if n := allocs(func() { in, err = ParseInlineXBRL(strings.NewReader(ix)) }); n > budget(len(ix)) {
		t.Errorf("inline XBRL allocated %d bytes for %d", n, len(ix))
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Lookup("x:B")) != 1 {
		t.Error("inline XBRL: the text fact is lost")
	}
	checkHugeIssue(t, "inline XBRL", in.Issues)
}

func TestNumberLenLimit(t *testing.T) {
	ok := hugeDigits(MaxNumberLen)
	if v, err := parseDecimal("  " + ok + " "); err != nil || v.String() != ok {
		t.Errorf("%d digits: %v %v", MaxNumberLen, v, err)
	}
	if _, err := parseDecimal(ok + "1"); !errors.Is(err, ErrNumberTooLong) {
		t.Errorf("%d digits: %v", MaxNumberLen+1, err)
	}
}
