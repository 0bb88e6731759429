package runjournal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Holds keep a run's journal from retention until its consumers are done
// with it. A consumer — the Postgres shipper (in a run or `thunderline
// ship`), an export — places a hold (a file holds/<consumer> in the run's
// directory) before it reads and releases it once it has everything it
// needs; a crash leaves the hold in place, so the journal stays until a
// later consumer finishes the job.

const holdsDir = "holds"

// SetHold places (or keeps) consumer's hold on the journal in dir.
func SetHold(dir, consumer string) error {
	if consumer == "" || strings.ContainsAny(consumer, `/\`) || consumer[0] == '.' {
		return fmt.Errorf("journal hold: consumer name %q: want a plain file name", consumer)
	}
	hd := filepath.Join(dir, holdsDir)
	if err := os.MkdirAll(hd, 0o755); err != nil {
		return fmt.Errorf("journal hold: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(hd, consumer), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("journal hold: %w", err)
	}
	return f.Close()
}

// ReleaseHold removes consumer's hold (none: nothing to do).
func ReleaseHold(dir, consumer string) error {
	err := os.Remove(filepath.Join(dir, holdsDir, consumer))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal hold: %w", err)
	}
	return nil
}

// Holds lists the consumers holding the journal in dir.
func Holds(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, holdsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal holds: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
