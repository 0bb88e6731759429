package config

import "time"

// Postgres is the queryable store the journal is shipped to.
type Postgres struct {
	Enabled bool `yaml:"enabled"` // [false]: the journal is the embedded default
	// DSN of the server; the environment variable THUNDERLINE_PG_DSN
	// overrides it (so a profile need not hold credentials).
	DSN string `yaml:"dsn"`
	// BatchRows bounds the rows of one shipped transaction (a lane's rows:
	// the other lane's records it skips do not count) [16384; at most
	// 1048576]; BatchDelay is how long a batch collects rows before it
	// goes to a free writer (a busy writer's next batch keeps growing)
	// [200ms].
	BatchRows  int      `yaml:"batch_rows"`
	BatchDelay Duration `yaml:"batch_delay"`
	// RawTicksRetention drops raw_market_ticks partitions wholly older than
	// this, at the start of a run and every hour [0: keep]. Features and
	// decisions are kept (seed 004 §8).
	RawTicksRetention Duration `yaml:"raw_ticks_retention"`
	// Drain is how long a run that ends (--for, SIGINT, SIGTERM, the end
	// of its input) keeps shipping to Postgres, with a progress line each
	// second; what is left then is printed with the command that ships it
	// (`thunderline ship DIR`) [10s; at most 1h; a negative value: do not
	// wait].
	Drain Duration `yaml:"drain"`
	// Archive, with a dir, keeps raw ticks out of raw_market_ticks: the
	// shipper's tick lane writes them as Parquet files (zstd, sorted by
	// symbol and time) into this content-addressed store and lists each
	// in tick_files (tenant, symbols, time range, rows, sha256, uri).
	Archive PostgresArchive `yaml:"archive"`
}

// PostgresArchive is postgres.archive.
type PostgresArchive struct {
	Dir string `yaml:"dir"` // the archive's directory ("": raw ticks go to raw_market_ticks rows)
	// FileRecords and FileDelay bound a file: the journal records of one
	// tick-lane batch [262144], and how long its first tick waits [1s].
	FileRecords int      `yaml:"file_records"`
	FileDelay   Duration `yaml:"file_delay"`
}

// ArchiveFile is the archive's file bounds with their defaults.
func (a PostgresArchive) ArchiveFile() (records int, delay time.Duration) {
	records, delay = a.FileRecords, time.Duration(a.FileDelay)
	if records == 0 {
		records = 1 << 18
	}
	if delay == 0 {
		delay = time.Second
	}
	return records, delay
}

// PostgresDrain is postgres.drain with its default.
func (p *Profile) PostgresDrain() time.Duration {
	switch d := time.Duration(p.Postgres.Drain); {
	case d < 0:
		return 0
	case d == 0:
		return 10 * time.Second
	default:
		return d
	}
}

// PostgresDSN returns THUNDERLINE_PG_DSN when set, else the profile's dsn.
func (p *Profile) PostgresDSN(getenv func(string) string) string {
	if v := getenv("THUNDERLINE_PG_DSN"); v != "" {
		return v
	}
	return p.Postgres.DSN
}
