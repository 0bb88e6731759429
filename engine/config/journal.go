package config

import (
	"path/filepath"
	"time"

	"thunderline/persist/journal"
)

// Journal mirrors journal.Options.
type Journal struct {
	Enabled       *bool    `yaml:"enabled"` // [true]
	Dir           string   `yaml:"dir"`     // runs go in Dir/run-<time> [./var/journal]
	Fsync         string   `yaml:"fsync"`
	FsyncInterval Duration `yaml:"fsync_interval"`
	Compression   string   `yaml:"compression"`
	Level         int      `yaml:"level"`
	SegmentBytes  int64    `yaml:"segment_bytes"`
	BlockBytes    int      `yaml:"block_bytes"`
	// MinFreeBytes warns (log, event, metric) when the journal's filesystem
	// has less free space than this [1 GiB; 0: no warning].
	MinFreeBytes *int64 `yaml:"min_free_bytes"`
	// RetryInterval is how often a journal that cannot write (disk full)
	// tries again while decisions are stopped [100ms; 1ms..10s].
	RetryInterval Duration `yaml:"retry_interval"`
	// Compressors compress and write blocks off the journal sink's
	// goroutine, in parallel [1; 0: inline on the sink, 0..64].
	Compressors *int `yaml:"compressors"`
	// BufferBlocks is how many sealed blocks may wait for compression and
	// the disk: the buffering that absorbs a burst [64; 1..4096].
	BufferBlocks int `yaml:"buffer_blocks"`
	// KeepFor and KeepBytes are the retention of run journals under dir:
	// journals last written more than keep_for ago, then the oldest while
	// they take more than keep_bytes, are deleted at the start of a run and
	// every minute — never the current run's, one a writer holds, or one
	// Postgres or an export has not consumed yet [0: keep].
	KeepFor   Duration `yaml:"keep_for"`
	KeepBytes int64    `yaml:"keep_bytes"`
}

// JournalEnabled reports whether runs write a journal [true].
func (p *Profile) JournalEnabled() bool { return p.Journal.Enabled == nil || *p.Journal.Enabled }

// JournalRoot is the directory runs' journals go under.
func (p *Profile) JournalRoot() string {
	if p.Journal.Dir == "" {
		return filepath.Join(".", "var", "journal")
	}
	return p.Journal.Dir
}

// JournalOptions returns the journal options for a run's directory.
func (p *Profile) JournalOptions(dir string) journal.Options {
	j := p.Journal
	compressors := 1
	if j.Compressors != nil {
		compressors = *j.Compressors
	}
	return journal.Options{Dir: dir, SegmentBytes: j.SegmentBytes, BlockBytes: j.BlockBytes,
		Compression: j.Compression, Level: j.Level, Fsync: journal.FsyncPolicy(j.Fsync),
		FsyncInterval: time.Duration(j.FsyncInterval), Compressors: compressors, InFlight: j.BufferBlocks,
		RetryInterval: p.JournalRetryInterval()}
}

// JournalMinFree returns the free-space watermark of the journal's
// filesystem in bytes [1 GiB; 0: none].
func (p *Profile) JournalMinFree() int64 {
	if p.Journal.MinFreeBytes == nil {
		return 1 << 30
	}
	return *p.Journal.MinFreeBytes
}

// JournalRetryInterval returns how often a journal that cannot write
// tries again [100ms].
func (p *Profile) JournalRetryInterval() time.Duration {
	if p.Journal.RetryInterval == 0 {
		return 100 * time.Millisecond
	}
	return time.Duration(p.Journal.RetryInterval)
}
