package source

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// stateRecord is one line of the state file: a URL whose fetch completed
// (an index) or whose document the caller took (a filing, companyfacts).
type stateRecord struct {
	Name    string    `json:"name"` // path relative to the base URL: the key
	URL     string    `json:"url"`
	SHA256  string    `json:"sha256"`
	Bytes   int64     `json:"bytes"`
	Fetched time.Time `json:"fetched"`
}

func (r stateRecord) valid() bool {
	if r.Name == "" || len(r.SHA256) != 64 || r.Bytes < 0 {
		return false
	}
	_, err := hex.DecodeString(r.SHA256)
	return err == nil
}

// stateLog is the append-only, fsynced progress log.
type stateLog struct {
	path string
	f    *os.File
	done map[string]stateRecord // by Name; a later line wins
}

// openState reads the log at path (creating it if absent). A last line
// that is incomplete or unreadable is the trace of a crash mid-append: it
// is ignored and cut off so the next append starts on a clean line. An
// unreadable line before the last one is corruption and an error.
func openState(path string) (*stateLog, error) {
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	s := &stateLog{path: path, f: f, done: make(map[string]stateRecord)}
	if created {
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("open state %s: %w", path, err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	good := 0 // length of the prefix made of complete, valid lines
	for lineNo := 1; good < len(data); lineNo++ {
		rest := data[good:]
		i := bytes.IndexByte(rest, '\n')
		var r stateRecord
		if i >= 0 && json.Unmarshal(rest[:i], &r) == nil && r.valid() {
			s.done[r.Name] = r
			good += i + 1
			continue
		}
		if i >= 0 && i+1 < len(rest) {
			f.Close()
			return nil, fmt.Errorf("read state %s: line %d is corrupt", path, lineNo)
		}
		break // torn last line
	}
	if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, fmt.Errorf("truncate torn line of state %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync state %s: %w", path, err)
		}
	}
	return s, nil
}

// append writes one line and fsyncs it before returning.
func (s *stateLog) append(r stateRecord) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	line = append(line, '\n')
	if _, err := s.f.Write(line); err != nil {
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync state %s: %w", s.path, err)
	}
	s.done[r.Name] = r
	return nil
}

func (s *stateLog) close() error {
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("close state %s: %w", s.path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeFileSync writes data to path atomically: a temporary file in the
// same directory, fsynced, renamed over path, and the directory fsynced.
func writeFileSync(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}
