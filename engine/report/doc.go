// Package report holds what the engine's summaries and progress lines
// share: durations written as seconds in JSON (Seconds), and the ticker of
// live progress callbacks (Every). The summaries themselves (a market
// run's, a filings run's, a federation's) live with the package that
// produces them.
//
// It is a leaf: it never imports the rest of the project and never holds a
// summary type.
package report
