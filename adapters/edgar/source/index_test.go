package source

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseIndexForm(t *testing.T) {
	entries, bad, firstBad, err := ParseIndex(readSample(t, "index/form.20200318.idx"))
	if err != nil || bad != 0 {
		t.Fatalf("ParseIndex: err %v, bad %d (%v)", err, bad, firstBad)
	}
	if len(entries) != 4084 { // non-blank lines after the rule, counted with awk
		t.Fatalf("%d entries, want 4084", len(entries))
	}
	want := []IndexEntry{
		{CIK: 1806014, Company: "DLP Positive Note Fund LLC", Form: "1-A", Filed: "2020-03-18", File: "edgar/data/1806014/0001140361-20-006155.txt"},
		{CIK: 1798925, Company: "Investment Grade R.E. Income Fund, L.P.", Form: "1-A", Filed: "2020-03-18", File: "edgar/data/1798925/0001493152-20-004281.txt"},
		{CIK: 1749817, Company: "Belpointe REIT, Inc.", Form: "1-A POS", Filed: "2020-03-18", File: "edgar/data/1749817/0001010549-20-000033.txt"},
	}
	for i, w := range want {
		if entries[i] != w {
			t.Errorf("entry %d = %+v, want %+v", i, entries[i], w)
		}
	}
	last := IndexEntry{CIK: 1105608, Company: "USA FINANCIAL SECURITIES CORPORATION", Form: "X-17A-5/A", Filed: "2020-03-18", File: "edgar/data/1105608/0001105608-20-000004.txt"}
	if entries[3].CIK != 927719 || entries[len(entries)-1] != last {
		t.Errorf("entry 3 %+v, last %+v", entries[3], entries[len(entries)-1])
	}
	// Correspondence is disseminated late: not every Date Filed is the index day.
	other := 0
	for _, e := range entries {
		if e.Filed != "2020-03-18" {
			other++
		}
	}
	if other != 144 { // grep -v 20200318 | grep -c edgar/data
		t.Errorf("%d entries filed on another day, want 144", other)
	}
	checkEntries(t, entries, true)
}

func TestParseIndexCompany(t *testing.T) {
	entries, bad, firstBad, err := ParseIndex(readSample(t, "index/company.20221003.idx"))
	if err != nil || bad != 0 {
		t.Fatalf("ParseIndex: err %v, bad %d (%v)", err, bad, firstBad)
	}
	if len(entries) != 4925 {
		t.Fatalf("%d entries, want 4925", len(entries))
	}
	first := IndexEntry{CIK: 1700461, Company: "1st stREIT Office Inc.", Form: "1-A POS", Filed: "2022-10-03", File: "edgar/data/1700461/0001104659-22-105357.txt"}
	last := IndexEntry{CIK: 1582581, Company: "voxeljet AG", Form: "424B5", Filed: "2022-10-03", File: "edgar/data/1582581/0001558370-22-014789.txt"}
	if entries[0] != first || entries[len(entries)-1] != last {
		t.Errorf("first %+v, last %+v; want %+v, %+v", entries[0], entries[len(entries)-1], first, last)
	}
	if entries[2].Form != "SC 13D/A" || entries[2].Company != "36Kr Holdings Inc." {
		t.Errorf("entry 2 %+v", entries[2])
	}
	checkEntries(t, entries, false)
}

// checkEntries cross-checks the columns: the CIK column must match the
// CIK in the file name, and a form index is sorted by its form column.
func checkEntries(t *testing.T, entries []IndexEntry, formSorted bool) {
	t.Helper()
	prev := ""
	for i, e := range entries {
		if !strings.Contains(e.File, fmt.Sprintf("/%d/", e.CIK)) {
			t.Errorf("entry %d: CIK %d not in file name %s", i, e.CIK, e.File)
		}
		if e.Form == "" || e.Company == "" || strings.Contains(e.Form, "  ") {
			t.Errorf("entry %d: bad split %+v", i, e)
		}
		if formSorted {
			cur := fmt.Sprintf("%-12s", e.Form)
			if cur < prev {
				t.Errorf("entry %d: form %q after %q: columns misread", i, e.Form, prev)
			}
			prev = cur
		}
	}
}

func TestParseIndexMaster(t *testing.T) {
	in := `Description:           Master Index of EDGAR Dissemination Feed
Last Data Received:    March 31, 2024
Comments:              webmaster@sec.gov
Anonymous FTP:         ftp://ftp.sec.gov/edgar/
 
 
 
 
CIK|Company Name|Form Type|Date Filed|Filename
--------------------------------------------------------------------------------
1000045|NICHOLAS FINANCIAL INC|10-Q|2024-02-14|edgar/data/1000045/0000950170-24-014077.txt
1000097|KINGDON CAPITAL MANAGEMENT, L.L.C.|SC 13G/A|2024-02-14|edgar/data/1000097/0000919574-24-001612.txt
1000209|A|B, INC.|8-K|2024-01-02|edgar/data/1000209/0001000209-24-000001.txt
x|BAD CIK|8-K|2024-01-02|edgar/data/1/0000000001-24-000001.txt
`
	entries, bad, firstBad, err := ParseIndex([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []IndexEntry{
		{CIK: 1000045, Company: "NICHOLAS FINANCIAL INC", Form: "10-Q", Filed: "2024-02-14", File: "edgar/data/1000045/0000950170-24-014077.txt"},
		{CIK: 1000097, Company: "KINGDON CAPITAL MANAGEMENT, L.L.C.", Form: "SC 13G/A", Filed: "2024-02-14", File: "edgar/data/1000097/0000919574-24-001612.txt"},
		{CIK: 1000209, Company: "A|B, INC.", Form: "8-K", Filed: "2024-01-02", File: "edgar/data/1000209/0001000209-24-000001.txt"},
	}
	if len(entries) != len(want) {
		t.Fatalf("entries = %+v", entries)
	}
	for i := range want {
		if entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, entries[i], want[i])
		}
	}
	if bad != 1 || firstBad == nil || !strings.Contains(firstBad.Error(), "line 14") || !strings.Contains(firstBad.Error(), "CIK") {
		t.Errorf("bad = %d, firstBad = %v; want 1 at line 14 naming the CIK", bad, firstBad)
	}
}

func TestParseIndexBadLines(t *testing.T) {
	head := "Form Type   Company Name                                                  CIK         Date Filed  File Name\n" +
		strings.Repeat("-", 80) + "\n"
	line := func(form, company, cik, date, file string) string {
		return fmt.Sprintf("%-12s%-62s%-12s%-12s%s\n", form, company, cik, date, file)
	}
	f := func(l, wantErr string) {
		t.Helper()
		entries, bad, firstBad, err := ParseIndex([]byte(head + l))
		if err != nil {
			t.Fatal(err)
		}
		if wantErr == "" {
			if bad != 0 || len(entries) != 1 {
				t.Errorf("%q: bad %d (%v), entries %d; want one entry", l, bad, firstBad, len(entries))
			}
			return
		}
		if bad != 1 || len(entries) != 0 || !strings.Contains(firstBad.Error(), wantErr) {
			t.Errorf("%q: bad %d, entries %d, err %v; want one bad line with %q", l, bad, len(entries), firstBad, wantErr)
		}
	}
	f(line("10-K", "ACME CORP", "320193", "20200318", "edgar/data/320193/x.txt"), "")
	f(line("10-K", "ACME CORP", "0", "20200318", "edgar/data/320193/x.txt"), "bad CIK")
	f(line("10-K", "ACME CORP", "12345678901", "20200318", "edgar/data/320193/x.txt"), "bad CIK")
	f(line("10-K", "ACME CORP", "320193", "20201318", "edgar/data/320193/x.txt"), "bad date")
	f(line("10-K", "ACME CORP", "320193", "20200318", "edgar/data/../../etc/passwd"), "bad file name")
	f(line("10-K", "ACME CORP", "320193", "20200318", "/etc/passwd"), "bad file name")
	f(line("10-K", "ACME CORP", "320193", "20200318", "http://evil/x?y"), "bad file name")
	f("10-K 320193\n", "too few columns")
	f(line("", "ACME CORP", "320193", "20200318", "edgar/data/320193/x.txt"), "bad form type")
	f("ACME 320193 20200318 edgar/data/320193/x.txt\n", "cannot split")

	// An 11-character form type leaves one blank before the company column,
	// and a company name may hold two blanks: only the header's column
	// position splits this line right.
	entries, bad, _, err := ParseIndex([]byte(head + line("N-CSRS/A-XY", "ACME  CORP", "320193", "20200318", "edgar/data/320193/x.txt")))
	if err != nil || bad != 0 || len(entries) != 1 || entries[0].Form != "N-CSRS/A-XY" || entries[0].Company != "ACME  CORP" {
		t.Errorf("11-character form: %+v, bad %d, err %v", entries, bad, err)
	}

	if _, _, _, err := ParseIndex([]byte("no header at all\n1|2|3|4|5\n")); err == nil {
		t.Error("an index without a header rule was accepted")
	}
}
