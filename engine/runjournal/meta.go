package runjournal

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"thunderline/engine/config"
	"thunderline/persist/journal"
)

// ErrVerify is returned when a replay with verification finds a mismatch
// between what a journal recorded and what its inputs re-derive.
var ErrVerify = errors.New("verification failed")

// metaRecord is the first record of a run's journal.
type metaRecord struct {
	Format  int    `json:"format"`
	Tenant  string `json:"tenant"`
	Profile string `json:"profile"` // the profile as YAML, defaults included where set
}

// EncodeMeta is the meta record of a run of profile p.
func EncodeMeta(p *config.Profile) ([]byte, error) {
	y, err := yaml.Marshal(redact(p))
	if err != nil {
		return nil, fmt.Errorf("encode profile for the journal: %w", err)
	}
	return json.Marshal(metaRecord{Format: 1, Tenant: p.TenantName(), Profile: string(y)})
}

// DecodeMeta returns the profile a meta record holds; name names the
// journal in errors.
func DecodeMeta(b []byte, name string) (*config.Profile, error) {
	var m metaRecord
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("journal meta record: %w", err)
	}
	if m.Format != 1 {
		return nil, fmt.Errorf("journal meta record: format %d, want 1", m.Format)
	}
	return config.Parse([]byte(m.Profile), name+" (recorded profile)")
}

// OpenMeta opens the journal in dir and reads its first record, which must
// be the meta record: it returns the reader (positioned after it) and the
// record's bytes (a copy).
func OpenMeta(dir string) (*journal.Reader, []byte, error) {
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	kind, _, payload, err := r.Next()
	if err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("journal %s: first record: %w", dir, err)
	}
	if kind != RecMeta {
		r.Close()
		return nil, nil, fmt.Errorf("journal %s: first record is %s, want meta: not a thunderline run journal", dir, KindName(kind))
	}
	return r, append([]byte(nil), payload...), nil
}

// ReadMeta returns the profile a run's journal was written with.
func ReadMeta(dir string) (*config.Profile, error) {
	r, meta, err := OpenMeta(dir)
	if err != nil {
		return nil, err
	}
	r.Close()
	return DecodeMeta(meta, dir)
}

// IsJournal reports whether dir holds journal segments.
func IsJournal(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.tlj"))
	return len(m) > 0
}
