package runjournal

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"thunderline/persist/journal"
)

// Retention deletes whole run journals under Root (journal.dir): those
// older than KeepFor, then the oldest while the journals take more than
// KeepBytes. It never deletes Current (the run's own journal), a journal a
// writer holds (its lock), nor one a consumer holds (SetHold: Postgres has
// not shipped it all, an export is reading it); those are kept and said
// why. Age is the time of the journal's newest file.
type Retention struct {
	Root      string
	KeepFor   time.Duration // 0: no age limit
	KeepBytes int64         // 0: no size limit
	Current   string
	Now       func() time.Time // [time.Now]
}

// RetentionReport is what one pass did.
type RetentionReport struct {
	Deleted    []string          // run directories removed
	Freed      int64             // bytes removed
	Kept       map[string]string // directory → why a journal over a limit was kept
	TotalBytes int64             // bytes of the journals left
}

type runDir struct {
	path  string
	bytes int64
	last  time.Time
}

// Apply runs one retention pass.
func (r Retention) Apply() (RetentionReport, error) {
	rep := RetentionReport{Kept: map[string]string{}}
	if r.KeepFor <= 0 && r.KeepBytes <= 0 {
		return rep, nil
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	runs, err := listRuns(r.Root)
	if err != nil {
		return rep, err
	}
	for _, d := range runs {
		rep.TotalBytes += d.bytes
	}
	slices.SortFunc(runs, func(a, b runDir) int { return a.last.Compare(b.last) })
	for _, d := range runs {
		old := r.KeepFor > 0 && now().Sub(d.last) > r.KeepFor
		big := r.KeepBytes > 0 && rep.TotalBytes > r.KeepBytes
		if !old && !big {
			continue
		}
		if why := r.keep(d.path); why != "" {
			rep.Kept[d.path] = why
			continue
		}
		if err := os.RemoveAll(d.path); err != nil {
			return rep, fmt.Errorf("journal retention: %w", err)
		}
		rep.Deleted = append(rep.Deleted, d.path)
		rep.Freed += d.bytes
		rep.TotalBytes -= d.bytes
	}
	return rep, nil
}

// keep says why the journal in dir may not go ("" if it may).
func (r Retention) keep(dir string) string {
	if r.Current != "" && filepath.Clean(dir) == filepath.Clean(r.Current) {
		return "the current run's journal"
	}
	if locked, err := journal.Locked(dir); err != nil || locked {
		return "a writer holds it"
	}
	holds, err := Holds(dir)
	if err != nil {
		return err.Error()
	}
	if len(holds) > 0 {
		return "held by " + strings.Join(holds, ", ") + " (not consumed yet)"
	}
	return ""
}

// listRuns finds the run journals directly under root.
func listRuns(root string) ([]runDir, error) {
	ents, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal retention: %w", err)
	}
	var out []runDir
	for _, e := range ents {
		p := filepath.Join(root, e.Name())
		if !e.IsDir() || !IsJournal(p) {
			continue
		}
		d := runDir{path: p}
		err := filepath.WalkDir(p, func(_ string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			fi, err := de.Info()
			if err != nil {
				return err
			}
			d.bytes += fi.Size()
			if fi.ModTime().After(d.last) {
				d.last = fi.ModTime()
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("journal retention: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}
