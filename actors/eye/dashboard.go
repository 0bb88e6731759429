package eye

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strings"
)

// dashboardHTML is the whole dashboard: one page, inline CSS and JS, no
// external resources (the machines it runs on have no internet).
//
//go:embed dashboard.html
var dashboardHTML []byte

// dashboardCSP allows exactly the page's inline script and style (by
// sha256) and requests to this origin, so nothing injected through data
// the page shows can run.
var dashboardCSP = func() string {
	return "default-src 'none'; " +
		"script-src " + inlineHashes(dashboardHTML, "script") + "; " +
		"style-src " + inlineHashes(dashboardHTML, "style") + "; " +
		"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// inlineHashes lists the CSP sha256 sources of every <tag>…</tag> block.
func inlineHashes(page []byte, tag string) string {
	open, end := []byte("<"+tag+">"), []byte("</"+tag+">")
	var srcs []string
	for rest := page; ; {
		i := bytes.Index(rest, open)
		if i < 0 {
			break
		}
		rest = rest[i+len(open):]
		j := bytes.Index(rest, end)
		if j < 0 {
			break
		}
		sum := sha256.Sum256(rest[:j])
		srcs = append(srcs, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		rest = rest[j+len(end):]
	}
	if len(srcs) == 0 {
		return "'none'"
	}
	return strings.Join(srcs, " ")
}

// serveDashboard serves the page. It is public: it holds no data, and asks
// for a token before it fetches any.
func serveDashboard(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", dashboardCSP)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(dashboardHTML)
	}
}
