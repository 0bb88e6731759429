package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `edgar parse` on Apple's 10-K with one mismatched tag (an
// </ix:nonNumeric> written as </ix:nonFraction>) exits 0 and prints the
// sections, the facts and the recovery among the issues, as JSON and as
// text, instead of "XML syntax error ... unexpected end element".
func TestEdgarParseCorrupted(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(edgarData, "html/Apple.10-K.html"))
	if err != nil {
		t.Fatal(err)
	}
	end := []byte("</ix:nonNumeric>")
	at := len(good)/2 + bytes.Index(good[len(good)/2:], end)
	bad := append(append(append([]byte(nil), good[:at]...), "</ix:nonFraction>"...), good[at+len(end):]...)
	path := filepath.Join(t.TempDir(), "Apple.10-K.html")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	parse := func(file string) parsedJSON {
		t.Helper()
		code, out, errOut := cli(t, "edgar", "parse", file, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, errOut)
		}
		var p parsedJSON
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w, g := parse(filepath.Join(edgarData, "html/Apple.10-K.html")), parse(path)
	if g.CIK != w.CIK || g.Form != w.Form || g.PeriodEnd != w.PeriodEnd || len(g.Sections) != len(w.Sections) ||
		len(g.Facts) < len(w.Facts)-1 || len(g.Facts) > len(w.Facts) {
		t.Fatalf("corrupted: cik %d form %s period %s, %d sections, %d facts; good: %d sections, %d facts",
			g.CIK, g.Form, g.PeriodEnd, len(g.Sections), len(g.Facts), len(w.Sections), len(w.Facts))
	}
	var issue string
	for _, s := range g.Issues {
		if strings.Contains(s, "recovered with the HTML5 tokenizer") {
			issue = s
		}
	}
	if !strings.Contains(issue, "not well-formed XML at line") || !strings.Contains(issue, "unexpected end element </nonFraction>") {
		t.Fatalf("issues %q", g.Issues)
	}
	code, out, errOut := cli(t, "edgar", "parse", path)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("  sections %d:", len(w.Sections))) ||
		!strings.Contains(out, fmt.Sprintf("  facts %d\n", len(g.Facts))) || !strings.Contains(out, "recovered with the HTML5 tokenizer") {
		t.Fatalf("text output: exit %d %s\n%s", code, errOut, out)
	}
}
