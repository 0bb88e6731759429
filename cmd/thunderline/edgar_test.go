package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const edgarData = "../../../shared/data/edgar"

// `edgar parse FILE --json` prints the document as parsed.
func TestEdgarParseJSON(t *testing.T) {
	code, out, errOut := cli(t, "edgar", "parse", filepath.Join(edgarData, "html/Apple.10-K.html"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p parsedJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.CIK != 320193 || p.Form != "10-K" || p.PeriodEnd != "2024-09-28" || p.Kind != "ixbrl" || len(p.Facts) < 1000 {
		t.Fatalf("parsed %+v", p.Name)
	}
	var rf, mda bool
	for _, s := range p.Sections {
		rf = rf || (s.Item == "1A" && s.Chars > 50000)
		mda = mda || (s.Item == "7" && s.Chars > 10000)
	}
	var rev bool
	for _, f := range p.Facts {
		if f.Concept == "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax" && f.Value == "391035000000" &&
			f.Unit == "iso4217:USD" && f.Period == "2023-10-01..2024-09-28" && len(f.Dims) == 0 {
			rev = true
		}
	}
	if !rf || !mda || !rev {
		t.Fatalf("item 1A %v, item 7 %v, revenue fact %v", rf, mda, rev)
	}
	code, out, _ = cli(t, "edgar", "parse", filepath.Join(edgarData, "sgml/0001213900-25-032135.txt"))
	if code != 0 || !strings.Contains(out, "cik 1173313") || !strings.Contains(out, "form 8-K") || !strings.Contains(out, "filed 2025-04-15") {
		t.Fatalf("sgml text output:\n%s", out)
	}
	if code, _, _ := cli(t, "edgar", "parse", filepath.Join(edgarData, "missing.txt")); code == 0 {
		t.Fatal("a missing file parsed")
	}
}

// `edgar ingest URL` reads an EDGAR-style site: its daily index, the filing
// archives it lists, companyfacts; a second run with the same state file
// fetches nothing again.
func TestEdgarIngestHTTP(t *testing.T) {
	files := map[string]string{
		"/Archives/edgar/data/810271/0000950129-95-001652.txt":  "sgml/0000950129-95-001652.txt",
		"/Archives/edgar/data/1376139/0001104659-25-002604.txt": "sgml/0001104659-25-002604.txt",
		"/Archives/edgar/data/1173313/0001213900-25-032135.txt": "sgml/0001213900-25-032135.txt",
		"/api/xbrl/companyfacts/CIK0001997711.json":             "json/CIK0001997711.companyfacts.json",
	}
	index := "Description: test index\n\nForm Type   Company Name                                                  CIK         Date Filed  File Name\n" +
		"---------------------------------------------------------------------------------------------------------------------------------------------\n" +
		"24F-2NT     COMMON SENSE TRUST                                            810271      1995-12-28  edgar/data/810271/0000950129-95-001652.txt\n" +
		"8-K         ABVC BIOPHARMA, INC.                                          1173313     2025-04-15  edgar/data/1173313/0001213900-25-032135.txt\n" +
		"SC TO-T/A   CVR ENERGY INC                                                1376139     2025-01-10  edgar/data/1376139/0001104659-25-002604.txt\n"
	var mu sync.Mutex
	hits := map[string]int{}
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		if r.URL.Path == "/Archives/edgar/daily-index/2025/QTR2/form.20250415.idx" {
			w.Write([]byte(index))
			return
		}
		rel, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(edgarData, rel))
	}))
	defer srv.Close()
	dir := t.TempDir()
	args := []string{"edgar", "ingest", "--json", "--journal", filepath.Join(dir, "j1"), "--state", filepath.Join(dir, "state.jsonl"),
		"--user-agent", "Thunderline tests ops@example.com", "--rate", "50", "--cik", "810271,1173313,1376139,1997711",
		"--index", "Archives/edgar/daily-index/2025/QTR2/form.20250415.idx", "--companyfacts", srv.URL}
	code, out, errOut := cli(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var sum struct {
		Docs, Rejected, Windows, Traces uint64
		ByKind                          map[string]uint64 `json:"by_kind"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if sum.Docs != 4 || sum.Rejected != 0 || sum.ByKind["sgml"] != 3 || sum.ByKind["companyfacts"] != 1 || sum.Windows == 0 {
		t.Fatalf("summary %s", out)
	}
	for _, a := range agents {
		if a != "Thunderline tests ops@example.com" {
			t.Fatalf("request with User-Agent %q", a)
		}
	}
	args[4] = filepath.Join(dir, "j2")
	code, out, errOut = cli(t, args...)
	if code != 0 {
		t.Fatalf("second run exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Docs != 0 {
		t.Fatalf("second run: %v %s", err, out)
	}
	for p := range files {
		if hits[p] != 1 {
			t.Fatalf("%s fetched %d times over two runs", p, hits[p])
		}
	}
	// Without a contact address the SEC's fair-access rule refuses to start.
	args[4], args[8] = filepath.Join(dir, "j3"), "Thunderline"
	if code, _, errOut := cli(t, args...); code == 0 || !strings.Contains(errOut, "UserAgent") {
		t.Fatalf("a User-Agent without e-mail: exit %d %s", code, errOut)
	}
}
