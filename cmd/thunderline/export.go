package main

import (
	"fmt"
	"io"

	"thunderline/engine/export"
)

// cmdExport writes a run's training slice: `thunderline export --out FILE
// JOURNAL_DIR`.
func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	out := fs.String("out", "", "slice `file` to write (JSON Lines: window id, key, features, label class)")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("export: want --out FILE and one JOURNAL_DIR")
	}
	sum, err := export.SliceFile(pos[0], *out)
	if err != nil {
		return err
	}
	if *jsonOut {
		writeJSON(stdout, sum)
		return nil
	}
	fmt.Fprintf(stdout, "export: %d rows from %d windows (%d labels filled, %d invalid, %d still open) → %s (sha256 %s)\n",
		sum.Rows, sum.Windows, sum.Labels, sum.Invalid, sum.Unlabeled, *out, sum.SHA256)
	return nil
}
